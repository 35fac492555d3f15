package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Campaigns. A platform campaign runs over [StartsAt, EndsAt): from its
// start, inclusive, to its end, exclusive, by the database's clock. Admins
// create and change campaigns; shops enrol their variants at a campaign
// price within the campaign's rules until it starts. While it runs, an
// enrolled variant sells at its campaign price (campaign_offer in
// migrations/0018_campaigns.sql), and an order line that sold it at that
// price is credited to the campaign by the checkout that priced it, in the
// same transaction. Nothing the client sends credits a campaign.
//
// Freeze: enrolments are added, repriced and withdrawn only before the
// campaign starts; from its start they are fixed, so no seller raises a
// campaign price mid-campaign. Once started, only the campaign's name may
// change. Percent-off enrolments are priced list × (100 − percent) / 100,
// rounded half up to the minor unit.

// Campaign is a platform campaign.
type Campaign struct {
	ID             int64     `db:"id"`
	Handle         string    `db:"handle"`
	Name           string    `db:"name"`
	StartsAt       time.Time `db:"starts_at"`
	EndsAt         time.Time `db:"ends_at"`
	MinDiscountBps int       `db:"min_discount_bps"`
	MaxDiscountBps int       `db:"max_discount_bps"`
	// Running is whether it ran when it was read, by the database's clock
	// (the clock carts and checkouts are priced by).
	Running   bool      `db:"running"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

func (*Campaign) isNode() {}

// RunningAt reports whether the campaign runs at t: StartsAt ≤ t < EndsAt.
func (c *Campaign) RunningAt(t time.Time) bool { return !t.Before(c.StartsAt) && t.Before(c.EndsAt) }

// MinPercentOff is the least whole percent off the list price a campaign
// price must be.
func (c *Campaign) MinPercentOff() int { return c.MinDiscountBps / 100 }

// MaxPercentOff is the most whole percent off the list price a campaign
// price may be.
func (c *Campaign) MaxPercentOff() int { return c.MaxDiscountBps / 100 }

// Reasons specific to campaigns.
const (
	// ReasonCampaignRule: a campaign price outside the campaign's rules.
	ReasonCampaignRule = "CAMPAIGN_RULE"
	// ReasonCampaignStarted: enrolment (or a change of rules or window)
	// after the campaign started.
	ReasonCampaignStarted = "CAMPAIGN_STARTED"
	// ReasonCampaignOverlap: the variant is enrolled in another campaign
	// whose window overlaps this one's.
	ReasonCampaignOverlap = "CAMPAIGN_OVERLAP"
)

// Limits of campaigns.
const (
	MaxCampaignEnrolments = 100
	MaxCampaignLength     = 90 * 24 * time.Hour
)

var campaignHandlePattern = shopHandlePattern

const campaignColumns = `c.id, c.handle, c.name, c.starts_at, c.ends_at, c.min_discount_bps, c.max_discount_bps,
	(c.starts_at <= now() AND now() < c.ends_at) AS running, c.created_at, c.updated_at`

// NewCampaign is what campaignCreate stores. Discounts are whole percents
// off the list price.
type NewCampaign struct {
	Handle           string
	Name             string
	StartsAt, EndsAt time.Time
	MinPercentOff    int
	MaxPercentOff    int
	CreatedBy        int64
}

// Validate checks a new campaign: a handle of 2 to 40 lowercase letters,
// digits and dashes, a name, an end after the start at most 90 days later,
// and 1 ≤ minPercentOff ≤ maxPercentOff ≤ 99.
func (in NewCampaign) Validate() Problems {
	var p Problems
	if !campaignHandlePattern.MatchString(in.Handle) {
		p.add("handle", "", "handle must be 2 to 40 lowercase letters, digits and dashes")
	}
	p.text("name", in.Name, true, 100)
	validateWindow(&p, in.StartsAt, in.EndsAt)
	validateRules(&p, in.MinPercentOff, in.MaxPercentOff)
	return p
}

func validateWindow(p *Problems, start, end time.Time) {
	switch {
	case start.IsZero() || end.IsZero():
		p.add("startsAt", ReasonRequired, "startsAt and endsAt are required")
	case !end.After(start):
		p.add("endsAt", "", "endsAt must be after startsAt")
	case end.Sub(start) > MaxCampaignLength:
		p.add("endsAt", "", "a campaign runs at most 90 days")
	}
}

func validateRules(p *Problems, minOff, maxOff int) {
	if minOff < 1 || minOff > 99 {
		p.add("minPercentOff", "", "minPercentOff must be 1 to 99")
	}
	if maxOff < 1 || maxOff > 99 {
		p.add("maxPercentOff", "", "maxPercentOff must be 1 to 99")
	} else if minOff > maxOff {
		p.add("maxPercentOff", "", "maxPercentOff must be at least minPercentOff")
	}
}

// CampaignUpdate holds the fields to change; nil leaves a field as it is.
type CampaignUpdate struct {
	Handle           *string
	Name             *string
	StartsAt, EndsAt *time.Time
	MinPercentOff    *int
	MaxPercentOff    *int
}

func campaignTaken(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" && pqErr.Constraint == "campaigns_handle_key" {
		return FieldErrorf(EConflict, "handle", "this campaign handle is taken").Because(ReasonTaken)
	}
	return err
}

// CreateCampaign stores a campaign. Its handle must be free (TAKEN), its
// start may not be in the past (a campaign is announced before it runs).
func (db *DB) CreateCampaign(ctx context.Context, in NewCampaign) (*Campaign, error) {
	if p := in.Validate(); len(p) > 0 {
		return nil, p[0]
	}
	c, err := getOne[Campaign](ctx, db.DB, `INSERT INTO campaigns AS c (handle, name, starts_at, ends_at, min_discount_bps, max_discount_bps, created_by)
		SELECT $1, $2, $3, $4, $5, $6, NULLIF($7::bigint, 0) WHERE $3 >= now() RETURNING `+campaignColumns,
		"campaign", in.Handle, in.Name, in.StartsAt, in.EndsAt, in.MinPercentOff*100, in.MaxPercentOff*100, in.CreatedBy)
	if ErrorCode(err) == ENotFound {
		return nil, FieldErrorf(EInvalid, "startsAt", "startsAt may not be in the past")
	}
	if err != nil {
		return nil, campaignTaken(err)
	}
	return c, nil
}

// UpdateCampaign changes a campaign. Before it starts anything may change
// (a new window may not start in the past, and new rules must hold for
// every enrolment made so far); from its start only the name
// (CAMPAIGN_STARTED otherwise). The campaign row is locked, so an
// enrolment and an update never interleave.
func (db *DB) UpdateCampaign(ctx context.Context, id int64, upd CampaignUpdate) (*Campaign, error) {
	var out *Campaign
	var moved []int64 // the enrolled variants, when the window moved
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var cur struct {
			Campaign
			Started bool `db:"started"`
		}
		if err := tx.GetContext(ctx, &cur, `SELECT `+campaignColumns+`, c.starts_at <= now() AS started FROM campaigns c WHERE c.id = $1 FOR UPDATE`, id); errors.Is(err, sql.ErrNoRows) {
			return Errorf(ENotFound, "campaign not found")
		} else if err != nil {
			return fmt.Errorf("lock campaign: %w", err)
		}
		next := NewCampaign{Handle: cur.Handle, Name: cur.Name, StartsAt: cur.StartsAt, EndsAt: cur.EndsAt,
			MinPercentOff: cur.MinDiscountBps / 100, MaxPercentOff: cur.MaxDiscountBps / 100}
		if upd.Handle != nil {
			next.Handle = strings.TrimSpace(*upd.Handle)
		}
		if upd.Name != nil {
			next.Name = strings.TrimSpace(*upd.Name)
		}
		if upd.StartsAt != nil {
			next.StartsAt = *upd.StartsAt
		}
		if upd.EndsAt != nil {
			next.EndsAt = *upd.EndsAt
		}
		if upd.MinPercentOff != nil {
			next.MinPercentOff = *upd.MinPercentOff
		}
		if upd.MaxPercentOff != nil {
			next.MaxPercentOff = *upd.MaxPercentOff
		}
		if p := next.Validate(); len(p) > 0 {
			return p[0]
		}
		changed := next.Handle != cur.Handle || !next.StartsAt.Equal(cur.StartsAt) || !next.EndsAt.Equal(cur.EndsAt) ||
			next.MinPercentOff*100 != cur.MinDiscountBps || next.MaxPercentOff*100 != cur.MaxDiscountBps
		if cur.Started && changed {
			return Errorf(EInvalid, "the campaign has started: only its name may change").Because(ReasonCampaignStarted)
		}
		var broken int
		if err := tx.GetContext(ctx, &broken, `SELECT count(*) FROM campaign_variants
			WHERE campaign_id = $1 AND ((list_price_amount - price_amount) * 10000 < $2::bigint * list_price_amount
				OR (list_price_amount - price_amount) * 10000 > $3::bigint * list_price_amount)`,
			id, next.MinPercentOff*100, next.MaxPercentOff*100); err != nil {
			return fmt.Errorf("check enrolments: %w", err)
		}
		if broken > 0 {
			return FieldErrorf(EInvalid, "minPercentOff", "%d enrolled variants would break these rules", broken).Because(ReasonCampaignRule)
		}
		if !next.StartsAt.Equal(cur.StartsAt) || !next.EndsAt.Equal(cur.EndsAt) {
			// A new window may not overlap another campaign holding one of
			// this one's variants; the variants are locked as an enrolment
			// locks them, so neither misses the other.
			var enrolled []int64
			if err := tx.SelectContext(ctx, &enrolled, `SELECT variant_id FROM campaign_variants WHERE campaign_id = $1`, id); err != nil {
				return fmt.Errorf("read enrolments: %w", err)
			}
			if err := lockVariantsForEnrolment(ctx, tx, enrolled); err != nil {
				return err
			}
			var clashes int
			if err := tx.GetContext(ctx, &clashes, `SELECT count(DISTINCT cv.variant_id) FROM campaign_variants cv JOIN campaigns k ON k.id = cv.campaign_id
				WHERE cv.variant_id = ANY($1) AND k.id <> $2 AND k.starts_at < $4 AND $3 < k.ends_at`,
				pq.Array(enrolled), id, next.StartsAt, next.EndsAt); err != nil {
				return fmt.Errorf("check overlaps: %w", err)
			}
			if clashes > 0 {
				return FieldErrorf(EConflict, "startsAt", "%d enrolled variants are enrolled in another campaign in this window", clashes).Because(ReasonCampaignOverlap)
			}
			moved = enrolled
		}
		c, err := getOne[Campaign](ctx, tx, `UPDATE campaigns AS c SET handle = $2, name = $3, starts_at = $4, ends_at = $5,
				min_discount_bps = $6, max_discount_bps = $7, updated_at = now()
			WHERE id = $1 AND ($4 = starts_at OR $4 >= now()) RETURNING `+campaignColumns, "campaign",
			id, next.Handle, next.Name, next.StartsAt, next.EndsAt, next.MinPercentOff*100, next.MaxPercentOff*100)
		if ErrorCode(err) == ENotFound {
			return FieldErrorf(EInvalid, "startsAt", "startsAt may not be in the past")
		}
		if err != nil {
			return campaignTaken(err)
		}
		out = c
		return nil
	})
	if err == nil {
		// Its variants' prices change at other moments now.
		db.variantsChanged(ctx, db.productsOfVariants(ctx, moved)...)
	}
	return out, err
}

// CampaignByHandle finds a campaign by its handle (case-insensitive).
func (db *DB) CampaignByHandle(ctx context.Context, handle string) (*Campaign, error) {
	return getOne[Campaign](ctx, db.DB, `SELECT `+campaignColumns+` FROM campaigns c WHERE lower(c.handle) = lower($1)`, "campaign", handle)
}

// CampaignsByIDs loads campaigns by id in one statement.
func (db *DB) CampaignsByIDs(ctx context.Context, ids []int64) (map[int64]*Campaign, error) {
	var rows []*Campaign
	if err := db.SelectContext(ctx, &rows, `SELECT `+campaignColumns+` FROM campaigns c WHERE c.id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("campaigns by ids: %w", err)
	}
	return indexByID(rows, func(c *Campaign) int64 { return c.ID }), nil
}

// Campaigns pages through all campaigns, oldest first (by id, a key that
// never changes).
func (db *DB) Campaigns(ctx context.Context, args PageArgs) (Page[*Campaign], error) {
	after, err := afterID(args.After)
	if err != nil {
		return Page[*Campaign]{}, err
	}
	var rows []*Campaign
	if err := db.SelectContext(ctx, &rows, `SELECT `+campaignColumns+` FROM campaigns c WHERE c.id > $1 ORDER BY c.id LIMIT $2`,
		after, args.First+1); err != nil {
		return Page[*Campaign]{}, fmt.Errorf("campaigns: %w", err)
	}
	return newPage(rows, args, func(c *Campaign) string { return cursorForID(c.ID) }), nil
}

// Enrolment asks to enrol a variant in a campaign: at Price (minor units of
// the variant's currency), or at PercentOff its list price (exactly one).
type Enrolment struct {
	VariantID  int64
	Price      *int64
	PercentOff *int
}

// CampaignPrice is the campaign price of a list price at percentOff whole
// percent off: list × (100 − percentOff) / 100, rounded half up to the
// minor unit.
func CampaignPrice(list int64, percentOff int) int64 {
	num := list * int64(100-percentOff)
	return (2*num + 100) / 200
}

// Enrol enrols a shop's variants in a campaign, or reprices their
// enrolment, all or nothing. Every variant must be the shop's (NOT_FOUND
// otherwise, naming the input), the campaign must not have started
// (CAMPAIGN_STARTED), each price must be within the rules: at least
// min and at most max percent off the variant's list price now
// (CAMPAIGN_RULE), and no variant may be enrolled in another campaign
// whose window overlaps (CAMPAIGN_OVERLAP). The campaign row is locked for
// share and the variants for key share, so the check and the write see the
// same campaign window and list prices.
func (db *DB) Enrol(ctx context.Context, campaignID, shopID int64, in []Enrolment) (Problems, error) {
	if len(in) == 0 || len(in) > MaxCampaignEnrolments {
		return Problems{FieldErrorf(EInvalid, "enrolments", "enrol 1 to %d variants at once", MaxCampaignEnrolments)}, nil
	}
	var products []int64
	problems, err := db.inTxUnlessProblems(ctx, func(tx *sqlx.Tx) (Problems, error) {
		c, started, err := lockCampaign(ctx, tx, campaignID)
		if err != nil {
			return nil, err
		}
		if started {
			return Problems{FieldErrorf(EInvalid, "campaignId", "the campaign has started: enrolments are fixed while it runs").Because(ReasonCampaignStarted)}, nil
		}
		ids := make([]int64, len(in))
		for i, e := range in {
			ids[i] = e.VariantID
		}
		// Two enrolments of one variant in two overlapping campaigns each
		// lock only their own campaign: the variants are locked for no key
		// update first, in id order, and the overlap is read in the next
		// statement, which sees an enrolment committed while this one
		// waited (read committed takes a snapshot per statement).
		if err := lockVariantsForEnrolment(ctx, tx, ids); err != nil {
			return nil, err
		}
		var vs []struct {
			ID        int64  `db:"id"`
			ProductID int64  `db:"product_id"`
			ShopID    int64  `db:"shop_id"`
			Price     int64  `db:"price_amount"`
			Currency  string `db:"currency_code"`
			Overlap   bool   `db:"overlap"`
		}
		if err := tx.SelectContext(ctx, &vs, `SELECT v.id, v.product_id, p.shop_id, v.price_amount, v.currency_code,
				EXISTS (SELECT 1 FROM campaign_variants cv JOIN campaigns k ON k.id = cv.campaign_id
					WHERE cv.variant_id = v.id AND k.id <> $2 AND k.starts_at < $4 AND $3 < k.ends_at) AS overlap
			FROM product_variants v JOIN products p ON p.id = v.product_id
			WHERE v.id = ANY($1) ORDER BY v.id FOR KEY SHARE OF v`, pq.Array(ids), c.ID, c.StartsAt, c.EndsAt); err != nil {
			return nil, fmt.Errorf("lock variants: %w", err)
		}
		byID := map[int64]int{}
		for i := range vs {
			byID[vs[i].ID] = i
		}
		var p Problems
		var rowsV, rowsP, rowsS, prices, lists []int64
		var currencies []string
		seen := map[int64]bool{}
		for i, e := range in {
			field := fmt.Sprintf("enrolments.%d", i)
			k, ok := byID[e.VariantID]
			if !ok || vs[k].ShopID != shopID {
				p = append(p, FieldErrorf(ENotFound, field+".variantId", "no such variant in this shop"))
				continue
			}
			if seen[e.VariantID] {
				p = append(p, FieldErrorf(EInvalid, field+".variantId", "this variant is listed twice"))
				continue
			}
			seen[e.VariantID] = true
			v := vs[k]
			var price int64
			switch {
			case (e.Price == nil) == (e.PercentOff == nil):
				p = append(p, FieldErrorf(EInvalid, field, "give either a price or a percentOff"))
				continue
			case e.PercentOff != nil:
				if *e.PercentOff*100 < c.MinDiscountBps || *e.PercentOff*100 > c.MaxDiscountBps {
					p = append(p, FieldErrorf(EInvalid, field+".percentOff", "%s allows %d%% to %d%% off", c.Name,
						c.MinDiscountBps/100, c.MaxDiscountBps/100).Because(ReasonCampaignRule))
					continue
				}
				price = CampaignPrice(v.Price, *e.PercentOff)
			default:
				price = *e.Price
				off := (v.Price - price) * 10_000
				if price <= 0 || off < int64(c.MinDiscountBps)*v.Price || off > int64(c.MaxDiscountBps)*v.Price {
					lo, hi := CampaignPrice(v.Price, c.MaxDiscountBps/100), CampaignPrice(v.Price, c.MinDiscountBps/100)
					p = append(p, FieldErrorf(EInvalid, field+".price", "%s allows %d%% to %d%% off: a price from about %s to %s", c.Name,
						c.MinDiscountBps/100, c.MaxDiscountBps/100, Money{Minor: lo, CurrencyCode: v.Currency}.Amount(),
						Money{Minor: hi, CurrencyCode: v.Currency}.Amount()).Because(ReasonCampaignRule))
					continue
				}
			}
			if price <= 0 || price >= v.Price {
				p = append(p, FieldErrorf(EInvalid, field, "the campaign price must be above zero and below the list price").Because(ReasonCampaignRule))
				continue
			}
			if v.Overlap {
				p = append(p, FieldErrorf(EConflict, field+".variantId", "this variant is enrolled in another campaign at the same time").Because(ReasonCampaignOverlap))
				continue
			}
			rowsV, rowsP, rowsS = append(rowsV, v.ID), append(rowsP, v.ProductID), append(rowsS, v.ShopID)
			prices, lists, currencies = append(prices, price), append(lists, v.Price), append(currencies, v.Currency)
		}
		if len(p) > 0 {
			return p, nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO campaign_variants (campaign_id, variant_id, product_id, shop_id, price_amount, list_price_amount, currency_code)
			SELECT $1, x.v, x.p, x.s, x.price, x.list, x.cur FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[])
				AS x(v, p, s, price, list, cur)
			ON CONFLICT (campaign_id, variant_id) DO UPDATE SET price_amount = EXCLUDED.price_amount,
				list_price_amount = EXCLUDED.list_price_amount, enrolled_at = now()`,
			c.ID, pq.Array(rowsV), pq.Array(rowsP), pq.Array(rowsS), pq.Array(prices), pq.Array(lists), pq.Array(currencies))
		if err != nil {
			return nil, fmt.Errorf("enrol: %w", err)
		}
		products = rowsP
		return nil, nil
	})
	if err == nil && len(problems) == 0 {
		db.variantsChanged(ctx, products...)
	}
	return problems, err
}

// Withdraw takes a shop's variants out of a campaign that has not started
// (CAMPAIGN_STARTED otherwise); variants not enrolled are ignored.
func (db *DB) Withdraw(ctx context.Context, campaignID, shopID int64, variantIDs []int64) (Problems, error) {
	problems, err := db.inTxUnlessProblems(ctx, func(tx *sqlx.Tx) (Problems, error) {
		_, started, err := lockCampaign(ctx, tx, campaignID)
		if err != nil {
			return nil, err
		}
		if started {
			return Problems{FieldErrorf(EInvalid, "campaignId", "the campaign has started: enrolments are fixed while it runs").Because(ReasonCampaignStarted)}, nil
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM campaign_variants WHERE campaign_id = $1 AND shop_id = $2 AND variant_id = ANY($3)`,
			campaignID, shopID, pq.Array(variantIDs))
		if err != nil {
			return nil, fmt.Errorf("withdraw: %w", err)
		}
		return nil, nil
	})
	if err == nil && len(problems) == 0 {
		db.variantsChanged(ctx, db.productsOfVariants(ctx, variantIDs)...)
	}
	return problems, err
}

// lockVariantsForEnrolment locks variants for no key update in id order:
// what an enrolment and a campaign's window move take before they read
// which campaigns hold the variants (CAMPAIGN_OVERLAP), so that two of
// them never both miss the other.
func lockVariantsForEnrolment(ctx context.Context, tx *sqlx.Tx, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM product_variants WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, pq.Array(ids)); err != nil {
		return fmt.Errorf("lock variants: %w", err)
	}
	return nil
}

// lockCampaign locks a campaign for share (an update waits for the
// enrolment) and reports whether it has started by the database's clock.
func lockCampaign(ctx context.Context, tx *sqlx.Tx, id int64) (*Campaign, bool, error) {
	var c struct {
		Campaign
		Started bool `db:"started"`
	}
	err := tx.GetContext(ctx, &c, `SELECT `+campaignColumns+`, c.starts_at <= now() AS started FROM campaigns c WHERE c.id = $1 FOR SHARE`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, FieldErrorf(ENotFound, "campaignId", "campaign not found")
	}
	if err != nil {
		return nil, false, fmt.Errorf("lock campaign: %w", err)
	}
	return &c.Campaign, c.Started, nil
}

// CampaignOffer is what campaign_offer finds for a variant at a moment.
type CampaignOffer struct {
	VariantID  int64 `db:"variant_id"`
	CampaignID int64 `db:"campaign_id"`
	Price      int64 `db:"price_amount"`
}

// CampaignOffersAt finds the campaign prices of variants at a moment (the
// same rule carts and checkouts price by); variants without one are left
// out.
func (db *DB) CampaignOffersAt(ctx context.Context, variantIDs []int64, at time.Time) (map[int64]CampaignOffer, error) {
	var rows []CampaignOffer
	if err := db.SelectContext(ctx, &rows, `SELECT v.id AS variant_id, o.campaign_id, o.price_amount
		FROM product_variants v, campaign_offer(v.id, v.price_amount, $2) o
		WHERE v.id = ANY($1) AND o.campaign_id IS NOT NULL`, pq.Array(variantIDs), at); err != nil {
		return nil, fmt.Errorf("campaign offers: %w", err)
	}
	out := map[int64]CampaignOffer{}
	for _, r := range rows {
		out[r.VariantID] = r
	}
	return out, nil
}

// CampaignFigures are a campaign's sales: the paid order lines credited to
// it (orders PAID, FULFILLED or DELIVERED; cancelled and refunded ones no
// longer count).
type CampaignFigures struct {
	// Orders counts the orders with at least one credited line.
	Orders int64
	// UnitsSold sums the credited lines' quantities.
	UnitsSold int64
	// GMV is the credited lines' totals (unit price × quantity, before
	// shipping and tax) per currency, by code; never summed across
	// currencies.
	GMV []Money
	// TopProducts and TopContent are the products and the contents they
	// were bought from with the most credited units (ties: lower id first),
	// at most MaxCampaignTop of each.
	TopProducts []CampaignSales
	TopContent  []CampaignSales
}

// CampaignSales is one product's or content's credited sales.
type CampaignSales struct {
	ID        int64
	Orders    int64
	UnitsSold int64
	// GMV per currency, by code (a product has one; content may have several).
	GMV []Money
}

// MaxCampaignTop bounds a campaign's top products and top content.
const MaxCampaignTop = 10

// CampaignFiguresByIDs computes several campaigns' figures in one statement.
func (db *DB) CampaignFiguresByIDs(ctx context.Context, ids []int64) (map[int64]*CampaignFigures, error) {
	var rows []struct {
		CampaignID int64         `db:"campaign_id"`
		Kind       string        `db:"kind"`
		SubjectID  sql.NullInt64 `db:"subject_id"`
		Currency   string        `db:"currency_code"`
		Orders     int64         `db:"orders"`
		Units      int64         `db:"units"`
		GMV        int64         `db:"gmv"`
		Rank       int           `db:"rank"`
	}
	err := db.SelectContext(ctx, &rows, `WITH credited AS (
			SELECT l.campaign_id, l.order_id, l.product_id, l.source_content_id, l.quantity, l.total_amount, o.currency_code
			FROM order_lines l JOIN orders o ON o.id = l.order_id
			WHERE l.campaign_id = ANY($1) AND o.status IN `+paidStatuses+`
		), total AS (
			SELECT campaign_id, 'TOTAL' AS kind, NULL::bigint AS subject_id, currency_code,
				count(DISTINCT order_id) AS orders, sum(quantity) AS units, sum(total_amount) AS gmv
			FROM credited GROUP BY campaign_id, currency_code
		), orders_all AS (
			SELECT campaign_id, 'ORDERS' AS kind, NULL::bigint AS subject_id, '' AS currency_code,
				count(DISTINCT order_id) AS orders, sum(quantity) AS units, 0::numeric AS gmv
			FROM credited GROUP BY campaign_id
		), by_subject AS (
			SELECT campaign_id, kind, subject_id, currency_code, orders, units, gmv,
				dense_rank() OVER (PARTITION BY campaign_id, kind ORDER BY all_units DESC, subject_id) AS rank
			FROM (
				SELECT campaign_id, 'PRODUCT' AS kind, product_id AS subject_id, currency_code,
					count(DISTINCT order_id) AS orders, sum(quantity) AS units, sum(total_amount) AS gmv,
					sum(sum(quantity)) OVER (PARTITION BY campaign_id, product_id) AS all_units
				FROM credited GROUP BY campaign_id, product_id, currency_code
				UNION ALL
				SELECT campaign_id, 'CONTENT', source_content_id, currency_code,
					count(DISTINCT order_id), sum(quantity), sum(total_amount),
					sum(sum(quantity)) OVER (PARTITION BY campaign_id, source_content_id)
				FROM credited WHERE source_content_id IS NOT NULL GROUP BY campaign_id, source_content_id, currency_code
			) s
		)
		SELECT campaign_id, kind, subject_id, currency_code, orders, units, gmv, 0 AS rank FROM total
		UNION ALL SELECT campaign_id, kind, subject_id, currency_code, orders, units, gmv, 0 FROM orders_all
		UNION ALL SELECT campaign_id, kind, subject_id, currency_code, orders, units, gmv, rank FROM by_subject WHERE rank <= $2
		ORDER BY campaign_id, kind, rank, currency_code`, pq.Array(ids), MaxCampaignTop)
	if err != nil {
		return nil, fmt.Errorf("campaign figures: %w", err)
	}
	out := make(map[int64]*CampaignFigures, len(ids))
	for _, id := range ids {
		out[id] = &CampaignFigures{GMV: []Money{}, TopProducts: []CampaignSales{}, TopContent: []CampaignSales{}}
	}
	for _, r := range rows {
		f := out[r.CampaignID]
		money := Money{Minor: r.GMV, CurrencyCode: strings.TrimSpace(r.Currency)}
		switch r.Kind {
		case "TOTAL":
			f.GMV = append(f.GMV, money)
		case "ORDERS":
			f.Orders, f.UnitsSold = r.Orders, r.Units
		case "PRODUCT", "CONTENT":
			list := &f.TopProducts
			if r.Kind == "CONTENT" {
				list = &f.TopContent
			}
			if n := len(*list); n == 0 || (*list)[n-1].ID != r.SubjectID.Int64 {
				*list = append(*list, CampaignSales{ID: r.SubjectID.Int64, GMV: []Money{}})
			}
			s := &(*list)[len(*list)-1]
			// An order counts once per currency group; a subject's orders
			// are in one currency each, so the groups add up.
			s.Orders += r.Orders
			s.UnitsSold += r.Units
			s.GMV = append(s.GMV, money)
		}
	}
	return out, nil
}
