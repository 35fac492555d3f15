package store

// seedCategory is a family of products with its own words and tags, so that
// generated titles, captions and interests read like a real catalogue.
type seedCategory struct {
	Name       string
	Adjectives []string
	Nouns      []string
	Tags       []string
	Variants   [][]string
}

var seedCategories = []seedCategory{
	{"beauty", []string{"Hydrating", "Glow", "Vitamin C", "Matte", "Velvet", "Dewy", "Brightening"},
		[]string{"Serum", "Lip Tint", "Cushion Foundation", "Sheet Mask", "Sunscreen", "Eye Palette", "Toner"},
		[]string{"skincare", "makeup", "glowup", "kbeauty", "selfcare"}, [][]string{{"30 ml", "50 ml"}, {"Rose", "Coral", "Nude", "Berry"}}},
	{"fashion", []string{"Oversized", "Linen", "Cropped", "Pleated", "Vintage", "Ribbed", "Quilted"},
		[]string{"Hoodie", "Cargo Pants", "Midi Skirt", "Denim Jacket", "Tote Bag", "Knit Cardigan", "Sneakers"},
		[]string{"ootd", "streetwear", "fashion", "thrift", "style"}, [][]string{{"S", "M", "L", "XL"}, {"Black", "Cream", "Olive"}}},
	{"home", []string{"Ceramic", "Minimalist", "Bamboo", "Cozy", "Foldable", "Scented", "Nordic"},
		[]string{"Mug Set", "Storage Box", "Throw Blanket", "Desk Lamp", "Candle", "Plant Pot", "Organizer"},
		[]string{"homedecor", "cleantok", "organization", "cozy", "kitchen"}, [][]string{{"Small", "Large"}, {"White", "Sage", "Sand"}}},
	{"electronics", []string{"Wireless", "Magnetic", "Mini", "Noise-Cancelling", "Fast-Charge", "Smart", "Portable"},
		[]string{"Earbuds", "Power Bank", "Phone Stand", "Ring Light", "Speaker", "Charger", "Keyboard"},
		[]string{"gadgets", "tech", "desksetup", "techtok", "unboxing"}, [][]string{{"Black", "White"}, {"10000 mAh", "20000 mAh"}}},
	{"snacks", []string{"Spicy", "Crunchy", "Matcha", "Honey Butter", "Sea Salt", "Mango", "Cheesy"},
		[]string{"Chips", "Ramen Pack", "Mochi", "Cookies", "Jerky", "Gummies", "Tea Sampler"},
		[]string{"snacks", "foodie", "asmr", "tastetest", "mukbang"}, [][]string{{"1 pack", "6 pack", "12 pack"}}},
	{"fitness", []string{"Non-Slip", "Adjustable", "Resistance", "Seamless", "Insulated", "Compact", "Pro"},
		[]string{"Yoga Mat", "Dumbbells", "Leggings", "Water Bottle", "Jump Rope", "Foam Roller", "Gym Bag"},
		[]string{"fitness", "gymtok", "workout", "yoga", "wellness"}, [][]string{{"XS", "S", "M", "L"}, {"Lilac", "Black"}}},
	{"pets", []string{"Chew-Proof", "Orthopedic", "Interactive", "Self-Cleaning", "Plush", "Reflective", "Calming"},
		[]string{"Dog Bed", "Cat Tree", "Treat Puzzle", "Leash", "Litter Mat", "Pet Brush", "Toy Set"},
		[]string{"pets", "dogsoftiktok", "catsoftiktok", "petcare", "cute"}, [][]string{{"Small", "Medium", "Large"}}},
	{"toys", []string{"Glow-in-the-Dark", "Magnetic", "Wooden", "Squishy", "Build-Your-Own", "Mini", "Collectible"},
		[]string{"Blocks", "Puzzle", "Plushie", "Figure", "Slime Kit", "Card Game", "Robot"},
		[]string{"toys", "kidstok", "collectibles", "puzzle", "fun"}, [][]string{{"Standard"}, {"Blue", "Pink", "Green"}}},
}

var seedFirstNames = []string{"mia", "leo", "ava", "kai", "zoe", "eli", "ivy", "max", "luna", "noah", "emma", "liam",
	"sofia", "ethan", "aria", "mason", "nora", "lucas", "chloe", "owen", "maya", "ryan", "lily", "jack", "ella", "sam"}

var seedLastNames = []string{"chen", "park", "garcia", "nguyen", "smith", "kim", "patel", "rossi", "silva", "tanaka",
	"mueller", "martin", "lopez", "wang", "jones", "ali", "dubois", "costa", "ng", "brown"}

var seedShopWords = []string{"Studio", "Lab", "House", "Co", "Market", "Supply", "Club", "Edit", "Corner", "Goods"}

var seedLiveTitles = []string{"Flash sale: %s under $20", "Unboxing the new %s drop", "Live Q&A + %s deals",
	"Friday night %s haul", "%s restock party", "Trying every %s so you don't have to"}
