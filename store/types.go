package store

import (
	"time"

	"github.com/lib/pq"
)

// User is a buyer, seller, creator or admin.
type User struct {
	ID            int64          `db:"id"`
	Email         string         `db:"email"`
	PasswordHash  string         `db:"password_hash"`
	Handle        string         `db:"handle"`
	DisplayName   string         `db:"display_name"`
	AvatarURL     string         `db:"avatar_url"`
	FollowerCount int            `db:"follower_count"`
	IsCreator     bool           `db:"is_creator"`
	IsAdmin       bool           `db:"is_admin"`
	InterestTags  pq.StringArray `db:"interest_tags"`
	CreatedAt     time.Time      `db:"created_at"`
	// IsGuest marks an anonymous buyer's guest cart (see CreateGuestCart):
	// never signed in, never shown as a profile.
	IsGuest bool `db:"is_guest"`
}

// Operating models of a shop.
const (
	SelfOperated = "SELF_OPERATED"
	FullyManaged = "FULLY_MANAGED"
)

// Shop sells products.
type Shop struct {
	ID               int64     `db:"id"`
	Handle           string    `db:"handle"`
	Name             string    `db:"name"`
	Description      string    `db:"description"`
	OperatingModel   string    `db:"operating_model"`
	OwnerID          int64     `db:"owner_id"`
	CurrencyCode     string    `db:"currency_code"`
	AffiliateRateBps int       `db:"affiliate_rate_bps"`
	CreatedAt        time.Time `db:"created_at"`
	// TaxesIncluded: the shop's prices include tax (see cost.go).
	TaxesIncluded bool `db:"taxes_included"`
	// FollowerCount is the number of people following the shop, kept equal
	// to its follows rows (see Follow).
	FollowerCount int `db:"follower_count"`
}

// Product statuses.
const (
	ProductDraft    = "DRAFT"
	ProductActive   = "ACTIVE"
	ProductArchived = "ARCHIVED"
)

// Product is something a shop sells, in one or more variants.
type Product struct {
	ID          int64          `db:"id"`
	ShopID      int64          `db:"shop_id"`
	Title       string         `db:"title"`
	Description string         `db:"description"`
	Tags        pq.StringArray `db:"tags"`
	Status      string         `db:"status"`
	CreatedAt   time.Time      `db:"created_at"`
	UpdatedAt   time.Time      `db:"updated_at"`
	// CardPosition is the product's place among a content's product cards,
	// when it was loaded as one (ProductsByContentIDs); 0 otherwise.
	CardPosition int64 `db:"card_position"`
}

// ProductVariant is a purchasable version of a product.
type ProductVariant struct {
	ID           int64     `db:"id"`
	ProductID    int64     `db:"product_id"`
	SKU          string    `db:"sku"`
	Title        string    `db:"title"`
	PriceAmount  int64     `db:"price_amount"`
	CurrencyCode string    `db:"currency_code"`
	Stock        int       `db:"stock"`
	Position     int       `db:"position"`
	ProductState string    `db:"product_status"`
	CreatedAt    time.Time `db:"created_at"`
	// CampaignID is the campaign the variant sells in now, if any (see
	// campaign_offer); CampaignPriceAmount its price there and
	// CompareAtAmount the price it is compared with.
	CampaignID          *int64 `db:"campaign_id"`
	CampaignPriceAmount *int64 `db:"campaign_price_amount"`
	CompareAtAmount     *int64 `db:"compare_at_amount"`
}

// Price is the variant's unit price now: its campaign price while a
// campaign it is enrolled in runs, else its list price (PriceAmount).
func (v *ProductVariant) Price() Money {
	if v.CampaignPriceAmount != nil {
		return Money{Minor: *v.CampaignPriceAmount, CurrencyCode: v.CurrencyCode}
	}
	return Money{Minor: v.PriceAmount, CurrencyCode: v.CurrencyCode}
}

// CompareAtPrice is the price a campaign price is compared with (the list
// price, see campaign_offer) while a campaign runs; nil otherwise.
func (v *ProductVariant) CompareAtPrice() *Money {
	if v.CompareAtAmount == nil {
		return nil
	}
	return &Money{Minor: *v.CompareAtAmount, CurrencyCode: v.CurrencyCode}
}

// AvailableForSale reports whether a buyer can order the variant now.
func (v *ProductVariant) AvailableForSale() bool {
	return v.Stock > 0 && v.ProductState == ProductActive
}

// PriceRange spans a product's variant prices.
type PriceRange struct {
	Min Money
	Max Money
}

// PriceRangeOf computes the price range of variants; ok is false when there
// are none.
func PriceRangeOf(vs []*ProductVariant) (r PriceRange, ok bool) {
	for i, v := range vs {
		p := v.Price()
		if i == 0 || p.Minor < r.Min.Minor {
			r.Min = p
		}
		if i == 0 || p.Minor > r.Max.Minor {
			r.Max = p
		}
	}
	return r, len(vs) > 0
}

// Content kinds.
const (
	KindVideo = "VIDEO"
	KindLive  = "LIVE"
)

// Live session statuses.
const (
	LiveScheduled = "SCHEDULED"
	LiveOnAir     = "LIVE"
	LiveEnded     = "ENDED"
)

// ContentBase holds what videos and live sessions share.
type ContentBase struct {
	ID          int64
	AuthorID    int64
	ShopID      *int64
	Tags        []string
	PublishedAt time.Time
	ViewCount   int64
	LikeCount   int64
}

// Content is a video or a live session.
type Content interface {
	Node
	Base() *ContentBase
}

// Video is a short video with product cards.
type Video struct {
	ContentBase
	Caption         string
	PlaybackURL     string
	ThumbnailURL    string
	DurationSeconds int
}

// Base returns the shared content fields.
func (v *Video) Base() *ContentBase { return &v.ContentBase }

// LiveSession is a live shopping broadcast.
type LiveSession struct {
	ContentBase
	Title            string
	Status           string
	ScheduledStartAt *time.Time
	StartedAt        *time.Time
	EndedAt          *time.Time
	PinnedProductID  *int64
}

// Base returns the shared content fields.
func (l *LiveSession) Base() *ContentBase { return &l.ContentBase }
