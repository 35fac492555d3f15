package demo

// seedCategory is a family of products with its own words, tags and price
// range, so that generated titles, captions and interests read like a real
// catalogue and a viewer's interests meet the content's hashtags.
type seedCategory struct {
	Name       string
	Adjectives []string
	Nouns      []string
	// Tags are the shared vocabulary: products, contents and users' interests
	// all draw from them.
	Tags []string
	// Variants are alternative option sets; a product takes 1–4 of one set.
	Variants [][]string
	// Pitches are the middle sentence of a product description.
	Pitches []string
	// PriceMin and PriceMax bound a first variant's price in minor units.
	PriceMin, PriceMax int
}

var seedCategories = []seedCategory{
	{
		Name:       "beauty",
		Adjectives: []string{"Hydrating", "Glow", "Vitamin C", "Matte", "Velvet", "Dewy", "Brightening"},
		Nouns:      []string{"Serum", "Lip Tint", "Cushion Foundation", "Sheet Mask", "Sunscreen", "Eye Palette", "Toner"},
		Tags:       []string{"skincare", "makeup", "glowup", "kbeauty", "selfcare"},
		Variants:   [][]string{{"30 ml", "50 ml", "100 ml"}, {"Rose", "Coral", "Nude", "Berry"}},
		Pitches: []string{"Lightweight and fragrance-free, it sinks in fast and layers under makeup.",
			"Dermatologist tested and gentle enough for sensitive skin.",
			"Buildable colour that lasts through a full day.",
			"Packed with niacinamide and hyaluronic acid for that glass-skin finish."},
		PriceMin: 899, PriceMax: 4999,
	},
	{
		Name:       "fashion",
		Adjectives: []string{"Oversized", "Linen", "Cropped", "Pleated", "Vintage", "Ribbed", "Quilted"},
		Nouns:      []string{"Hoodie", "Cargo Pants", "Midi Skirt", "Denim Jacket", "Tote Bag", "Knit Cardigan", "Sneakers"},
		Tags:       []string{"ootd", "streetwear", "fashion", "thrift", "style"},
		Variants:   [][]string{{"S", "M", "L", "XL"}, {"Black", "Cream", "Olive"}},
		Pitches: []string{"A relaxed fit that dresses up or down.",
			"Soft, breathable fabric that holds its shape wash after wash.",
			"The piece every outfit video this season is built around.",
			"True to size; size up for the oversized look."},
		PriceMin: 1499, PriceMax: 8999,
	},
	{
		Name:       "home",
		Adjectives: []string{"Ceramic", "Minimalist", "Bamboo", "Cozy", "Foldable", "Scented", "Nordic"},
		Nouns:      []string{"Mug Set", "Storage Box", "Throw Blanket", "Desk Lamp", "Candle", "Plant Pot", "Organizer"},
		Tags:       []string{"homedecor", "cleantok", "organization", "cozy", "kitchen"},
		Variants:   [][]string{{"Small", "Large"}, {"White", "Sage", "Sand"}},
		Pitches: []string{"Clean lines that fit any room.",
			"Makes small spaces feel calm and tidy.",
			"Sturdy, easy to clean and made to last.",
			"The little upgrade that makes every morning nicer."},
		PriceMin: 999, PriceMax: 5999,
	},
	{
		Name:       "electronics",
		Adjectives: []string{"Wireless", "Magnetic", "Mini", "Noise-Cancelling", "Fast-Charge", "Smart", "Portable"},
		Nouns:      []string{"Earbuds", "Power Bank", "Phone Stand", "Ring Light", "Speaker", "Charger", "Keyboard"},
		Tags:       []string{"gadgets", "tech", "desksetup", "techtok", "unboxing"},
		Variants:   [][]string{{"Black", "White"}, {"10000 mAh", "20000 mAh"}},
		Pitches: []string{"USB-C, pairs in seconds, works with every phone.",
			"All-day battery in a pocket-sized body.",
			"The desk-setup upgrade that went viral for a reason.",
			"Comes with a 12-month warranty and a braided cable."},
		PriceMin: 1299, PriceMax: 19900,
	},
	{
		Name:       "snacks",
		Adjectives: []string{"Spicy", "Crunchy", "Matcha", "Honey Butter", "Sea Salt", "Mango", "Cheesy"},
		Nouns:      []string{"Chips", "Ramen Pack", "Mochi", "Cookies", "Jerky", "Gummies", "Tea Sampler"},
		Tags:       []string{"snacks", "foodie", "asmr", "tastetest", "mukbang"},
		Variants:   [][]string{{"1 pack", "6 pack", "12 pack"}},
		Pitches: []string{"Small-batch and impossible to stop eating.",
			"The flavour everyone is taste-testing this month.",
			"No artificial colours; best enjoyed with friends.",
			"Imported fresh and packed to stay crunchy."},
		PriceMin: 399, PriceMax: 1999,
	},
	{
		Name:       "fitness",
		Adjectives: []string{"Non-Slip", "Adjustable", "Resistance", "Seamless", "Insulated", "Compact", "Pro"},
		Nouns:      []string{"Yoga Mat", "Dumbbells", "Leggings", "Water Bottle", "Jump Rope", "Foam Roller", "Gym Bag"},
		Tags:       []string{"fitness", "gymtok", "workout", "yoga", "wellness"},
		Variants:   [][]string{{"XS", "S", "M", "L"}, {"Lilac", "Black"}},
		Pitches: []string{"Built for home workouts and the gym alike.",
			"Sweat-proof, squat-proof and easy to pack.",
			"Coaches recommend it for beginners and pros.",
			"Light enough to carry, tough enough for daily training."},
		PriceMin: 999, PriceMax: 7999,
	},
	{
		Name:       "pets",
		Adjectives: []string{"Chew-Proof", "Orthopedic", "Interactive", "Self-Cleaning", "Plush", "Reflective", "Calming"},
		Nouns:      []string{"Dog Bed", "Cat Tree", "Treat Puzzle", "Leash", "Litter Mat", "Pet Brush", "Toy Set"},
		Tags:       []string{"pets", "dogsoftiktok", "catsoftiktok", "petcare", "cute"},
		Variants:   [][]string{{"Small", "Medium", "Large"}},
		Pitches: []string{"Vet approved and machine washable.",
			"Keeps busy pets happy for hours.",
			"Made from pet-safe, non-toxic materials.",
			"Our own dogs tested it; they would not give it back."},
		PriceMin: 699, PriceMax: 8999,
	},
	{
		Name:       "toys",
		Adjectives: []string{"Glow-in-the-Dark", "Magnetic", "Wooden", "Squishy", "Build-Your-Own", "Mini", "Collectible"},
		Nouns:      []string{"Blocks", "Puzzle", "Plushie", "Figure", "Slime Kit", "Card Game", "Robot"},
		Tags:       []string{"toys", "kidstok", "collectibles", "puzzle", "fun"},
		Variants:   [][]string{{"Standard"}, {"Blue", "Pink", "Green"}},
		Pitches: []string{"Screen-free fun for ages 6 and up.",
			"Collect them all; new series drop every month.",
			"Safety tested and gift-ready out of the box.",
			"Equally loved by kids and the grown-ups who buy them."},
		PriceMin: 599, PriceMax: 4999,
	},
}

// seedDescriptionEndings close product descriptions.
var seedDescriptionEndings = []string{"Ships in 48 hours.", "Free returns within 30 days.",
	"Restocked weekly after selling out on live.", "Loved by thousands of buyers.", ""}

// seedShopPitches describe shops; %s is the category.
var seedShopPitches = []string{"Everyday %s, shipped fast. Follow for drops and live deals.",
	"Small-batch %s picked by our team. Live every weekend.",
	"Your go-to for %s finds under $50. New arrivals every Friday.",
	"Independent %s brand. Tap follow so you never miss a restock."}

// seedCaptions open video captions; %s is the product, lower case.
var seedCaptions = []string{"This %s changed everything", "POV: you finally found the perfect %s",
	"Honest review of the %s 👀", "3 ways to use my %s", "Run, don't walk: the %s is back",
	"Obsessed with this %s 😍", "Is the %s worth the hype?", "Unboxing the %s everyone is talking about"}

var seedFirstNames = []string{"mia", "leo", "ava", "kai", "zoe", "eli", "ivy", "max", "luna", "noah", "emma", "liam",
	"sofia", "ethan", "aria", "mason", "nora", "lucas", "chloe", "owen", "maya", "ryan", "lily", "jack", "ella", "sam"}

var seedLastNames = []string{"chen", "park", "garcia", "nguyen", "smith", "kim", "patel", "rossi", "silva", "tanaka",
	"mueller", "martin", "lopez", "wang", "jones", "ali", "dubois", "costa", "ng", "brown"}

var seedShopWords = []string{"Studio", "Lab", "House", "Co", "Market", "Supply", "Club", "Edit", "Corner", "Goods"}

// seedLiveTitles name live sessions; %s is the category.
var seedLiveTitles = []string{"Flash sale: %s deals all night", "Unboxing the new %s drop", "Live Q&A and %s deals",
	"Friday night %s haul", "%s restock party", "Testing viral %s finds so you don't have to"}
