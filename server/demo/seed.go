// Package demo generates the demo and benchmark datasets: coherent shops,
// products with drawn images, videos with posters, live sessions, follows and
// weeks of engagement and orders. It is a client of the store: it writes
// through store.DB in one transaction and knows nothing the store keeps private.
package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"showcase/media"
	"showcase/store"
)

// Demo accounts, all with password Password.
const (
	Password    = "showcase-demo"
	BuyerEmail  = "demo@showcase.dev"
	SellerEmail = "seller@showcase.dev"
	AdminEmail  = "admin@showcase.dev"
)

// SeedOptions sizes a generated dataset.
type SeedOptions struct {
	Users, Creators, Shops, Products, Videos, LiveSessions int
	// HistoryDays of engagement and orders are generated for every content
	// (0 for none), so that metrics and breakdowns have something to show.
	HistoryDays int
	// Seed makes the dataset reproducible.
	Seed int64
	// Progress, when set, is told how far each stage has come.
	Progress func(stage string, done, total int)
	// Media, when set, receives one to four drawn images per product (see
	// images.go); nil seeds products without media.
	Media media.Store
}

// DefaultOptions is the dataset `make run` explores.
func DefaultOptions() SeedOptions {
	return SeedOptions{Users: 60, Creators: 15, Shops: 10, Products: 240, Videos: 300, LiveSessions: 12, HistoryDays: 30, Seed: 1}
}

// SeedReport counts what Seed wrote and names the well-known accounts, so
// that whoever seeded can tell a person how to log in.
type SeedReport struct {
	Users, Shops, Products, Variants, Videos, LiveSessions int
	// Images counts the drawn product images (0 without SeedOptions.Media).
	Images int
	// Posters counts the drawn video posters (0 without SeedOptions.Media).
	Posters                 int
	Orders, Likes, Comments int
	// DemoEmail is the buyer's; all three accounts share Password.
	DemoEmail, DemoPassword, SellerEmail, AdminEmail string
}

// seeder holds the state of one generation run.
type seeder struct {
	ctx          context.Context
	tx           *sqlx.Tx
	opts         SeedOptions
	rng          *rand.Rand
	now          time.Time
	report       SeedReport
	shopOwner    []int64 // by shop index
	ownerShop    map[int64]int64
	creators     []int64
	shopProducts map[int64][]int64 // active products by shop id
	productCat   map[int64]int
	productTitle map[int64]string
	// imagesDone delivers the product images drawn in the background.
	imagesDone chan seedImagesResult
	allActive  []int64
	// the first variant of each product, for generated orders
	firstVariant  map[int64]seedVariant
	shopOfProduct map[int64]int64
	contentInfo   []seedContent
	// contentViews are the views history gave each content.
	contentViews map[int64]int64
	cards        map[int64][]int64
	// unchecked is set when foreign keys are not checked row by row and must
	// be checked in bulk before committing.
	unchecked bool
}

type seedVariant struct {
	id, price  int64
	title, sku string
	currency   string
}

type seedContent struct {
	id, author, shop int64
	kind             string
	published        time.Time
}

// Seed fills an empty database with a realistic, reproducible dataset in one
// transaction, all or nothing. It bulk-loads with COPY so that the
// benchmark's large datasets load in seconds.
func Seed(ctx context.Context, db *store.DB, opts SeedOptions) (SeedReport, error) {
	if opts.Shops < 1 || opts.Users < opts.Shops+2 || opts.Products < opts.Shops {
		return SeedReport{}, fmt.Errorf("seed: need at least 1 shop, shops+2 users and a product per shop")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(Password), bcrypt.DefaultCost)
	if err != nil {
		return SeedReport{}, err
	}
	s := &seeder{
		ctx: ctx, opts: opts, rng: rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed)), now: time.Now().UTC(),
		ownerShop: map[int64]int64{}, shopProducts: map[int64][]int64{}, productCat: map[int64]int{}, productTitle: map[int64]string{},
		firstVariant: map[int64]seedVariant{}, shopOfProduct: map[int64]int64{}, cards: map[int64][]int64{},
	}
	s.report.DemoEmail, s.report.DemoPassword = BuyerEmail, Password
	s.report.SellerEmail, s.report.AdminEmail = SellerEmail, AdminEmail
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return SeedReport{}, fmt.Errorf("seed: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck
	s.tx = tx
	if err := s.run(string(hash)); err != nil {
		return SeedReport{}, fmt.Errorf("seed: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return SeedReport{}, fmt.Errorf("seed: %w", err)
	}
	return s.report, nil
}

// run writes the whole dataset in s.tx, step by step; hash is the demo
// accounts' bcrypt password hash.
func (s *seeder) run(hash string) error {
	ctx := s.ctx
	// Bulk loads of a large dataset outlast the per-statement timeout.
	if _, err := s.tx.ExecContext(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return err
	}
	var exists bool
	if err := s.tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM users)`); err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("seed: the database already has data")
	}
	if err := s.prepareSession(); err != nil {
		return err
	}
	for _, step := range []func(string) error{s.users, func(string) error { return s.shops() }, func(string) error { return s.products() },
		func(string) error { return s.shippingAndTax() },
		func(string) error { return s.startImages() },
		func(string) error { return s.videos() }, func(string) error { return s.posters() }, func(string) error { return s.lives() }, func(string) error { return s.history() }, func(string) error { return s.campaigns() }, func(string) error { return s.finishImages() },
		func(string) error { return s.languages() },
		func(string) error { return s.follows() },
		func(string) error { return s.derived() }, func(string) error { return s.checkReferences() }, func(string) error { return s.fixSequences() }} {
		if err := step(hash); err != nil {
			return err
		}
	}
	return nil
}

// prepareSession skips the per-row foreign-key triggers where the role may
// (a superuser): they cost more than half of a large seed, and
// checkReferences checks the same keys set-wise in a fraction of the time.
func (s *seeder) prepareSession() error {
	if _, err := s.tx.ExecContext(s.ctx, `SAVEPOINT seed_replica`); err != nil {
		return err
	}
	if _, err := s.tx.ExecContext(s.ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		// Not a superuser: keep the triggers.
		_, err = s.tx.ExecContext(s.ctx, `ROLLBACK TO SAVEPOINT seed_replica`)
		return err
	}
	s.unchecked = true
	_, err := s.tx.ExecContext(s.ctx, `RELEASE SAVEPOINT seed_replica`)
	return err
}

// checkReferences verifies every foreign key (MATCH SIMPLE, as the
// constraints do) with one anti-join each when the triggers were skipped, so
// that a generator bug still fails the seed instead of committing orphans.
func (s *seeder) checkReferences() error {
	if !s.unchecked {
		return nil
	}
	if _, err := s.tx.ExecContext(s.ctx, `SET LOCAL session_replication_role = origin`); err != nil {
		return err
	}
	var fks []struct {
		Name          string         `db:"conname"`
		Child, Parent string         // tables, quoted where needed
		ChildCols     pq.StringArray `db:"child_cols"`
		ParentCols    pq.StringArray `db:"parent_cols"`
	}
	err := s.tx.SelectContext(s.ctx, &fks, `
		SELECT c.conname, c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent,
			(SELECT array_agg(quote_ident(a.attname) ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k (attnum, n)
				JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS child_cols,
			(SELECT array_agg(quote_ident(a.attname) ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY k (attnum, n)
				JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS parent_cols
		FROM pg_constraint c WHERE c.contype = 'f' ORDER BY c.conrelid, c.conname`)
	if err != nil {
		return fmt.Errorf("list foreign keys: %w", err)
	}
	for i, fk := range fks {
		var notNull, match []string
		for k, col := range fk.ChildCols {
			notNull = append(notNull, "c."+col+" IS NOT NULL")
			match = append(match, "p."+fk.ParentCols[k]+" = c."+col)
		}
		var orphans bool
		if err := s.tx.GetContext(s.ctx, &orphans, fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s))`,
			fk.Child, strings.Join(notNull, " AND "), fk.Parent, strings.Join(match, " AND "))); err != nil {
			return fmt.Errorf("check %s: %w", fk.Name, err)
		}
		if orphans {
			return fmt.Errorf("seed generated rows that violate %s", fk.Name)
		}
		if s.opts.Progress != nil {
			s.opts.Progress("references", i+1, len(fks))
		}
	}
	return nil
}

// derived writes, when the seed skips the triggers (unchecked; it runs
// before checkReferences turns them back on, so writes nothing twice), what
// they keep from the rows the seed wrote: each carded content's card categories
// (the For You ranking's categories), the sales rows of the counted orders
// (orders, units and GMV figures), and the all-time figure totals: the
// rollup's boundary goes back to -infinity and one fold sums the history up
// to the current hour, as migration 0031 did for the data of its day.
// Without it a superuser's seed (make run's embedded database, the
// benchmark's) showed all-time views, likes and comments of the current hour
// only, no orders or GMV, and no card categories.
func (s *seeder) derived() error {
	if !s.unchecked {
		return nil
	}
	for _, q := range []string{
		// content_card_categories(id), set-wise: that function once per
		// content was planned without statistics on the rows of this
		// transaction (a scan of every card per content: hours at 200,000).
		`UPDATE contents c SET card_categories = x.cats FROM (
			SELECT cp.content_id, coalesce(array_agg(DISTINCT p.tags[1] ORDER BY p.tags[1]) FILTER (WHERE p.tags[1] IS NOT NULL), '{}') AS cats
			FROM content_products cp JOIN products p ON p.id = cp.product_id GROUP BY cp.content_id) x
			WHERE c.id = x.content_id`,
		`UPDATE figures_rollup SET closed_until = '-infinity'`,
		`SELECT write_sales(ARRAY(SELECT id FROM orders))`,
		`SELECT fold_figures(date_trunc('hour', now()))`,
	} {
		if _, err := s.tx.ExecContext(s.ctx, q); err != nil {
			return fmt.Errorf("derived rows: %w", err)
		}
	}
	if s.opts.Progress != nil {
		s.opts.Progress("derived", 1, 1)
	}
	return nil
}

// copyRows streams n rows into table with COPY.
func (s *seeder) copyRows(stage, table string, cols []string, n int, row func(i int) []any) error {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pq.QuoteIdentifier(c)
	}
	stmt, err := s.tx.PrepareContext(s.ctx, "COPY "+pq.QuoteIdentifier(table)+" ("+strings.Join(quoted, ", ")+") FROM STDIN")
	if err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	defer stmt.Close()
	for i := 0; i < n; i++ {
		if _, err := stmt.ExecContext(s.ctx, row(i)...); err != nil {
			return fmt.Errorf("copy %s: %w", table, err)
		}
		// The last row is reported once COPY has finished, not before.
		if s.opts.Progress != nil && (i+1)%5000 == 0 && i+1 < n {
			s.opts.Progress(stage, i+1, n)
		}
	}
	if _, err := stmt.ExecContext(s.ctx); err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	if s.opts.Progress != nil {
		s.opts.Progress(stage, n, n)
	}
	return nil
}

func (s *seeder) pick(list []string) string { return list[s.rng.IntN(len(list))] }

// tagList picks n distinct tags of a category.
func (s *seeder) tagList(cat int, n int) []string {
	c := seedCategories[cat]
	out := make([]string, 0, n)
	for len(out) < n {
		t := s.pick(c.Tags)
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// tags is tagList as a text[] literal, which COPY takes as it is.
func (s *seeder) tags(cat int, n int) string { return arrayLiteral(s.tagList(cat, n)) }

func arrayLiteral(tags []string) string {
	v, _ := pq.StringArray(tags).Value()
	return v.(string)
}

// users: index 0 is the demo buyer, 1 the admin, 2.. the shop owners (the
// first is the demo seller), then buyers and creators.
func (s *seeder) users(hash string) error {
	o := s.opts
	creatorsLeft := o.Creators
	isCreator := make([]bool, o.Users)
	// Half the shop owners make their own content; the rest of the creators are affiliates.
	for i := 2; i < 2+o.Shops && creatorsLeft > o.Creators/2; i += 2 {
		isCreator[i] = true
		creatorsLeft--
	}
	for i := 2 + o.Shops; i < o.Users && creatorsLeft > 0; i++ {
		if i%3 == 0 || o.Users-i <= creatorsLeft {
			isCreator[i] = true
			creatorsLeft--
		}
	}
	for i := 0; i < o.Users; i++ {
		id := int64(i + 1)
		if i >= 2 && i < 2+o.Shops {
			s.shopOwner = append(s.shopOwner, id)
		}
		if isCreator[i] {
			s.creators = append(s.creators, id)
		}
	}
	if len(s.creators) == 0 {
		s.creators = append(s.creators, s.shopOwner[0])
	}
	s.report.Users = o.Users
	names := s.personNames(o.Users)
	return s.copyRows("users", "users", []string{"id", "email", "password_hash", "handle", "display_name", "avatar_url",
		"follower_count", "is_creator", "is_admin", "interest_tags", "created_at"}, o.Users, func(i int) []any {
		handle, display := names[i].handle, names[i].display
		email := handle + "@example.com"
		switch i {
		case 0:
			handle, email = "demo", BuyerEmail
		case 1:
			handle, email = "admin", AdminEmail
		case 2:
			handle, email = "seller", SellerEmail
		}
		followers := int(math.Exp(s.rng.Float64() * 8))
		if isCreator[i] {
			followers = int(math.Exp(7 + s.rng.Float64()*8))
		}
		// Two tags of a favourite category and one of another, e.g.
		// {skincare,makeup,gadgets}: interests overlap content tags.
		cat := s.rng.IntN(len(seedCategories))
		interests := s.tagList(cat, 2)
		other := (cat + 1 + s.rng.IntN(len(seedCategories)-1)) % len(seedCategories)
		interests = append(interests, s.pick(seedCategories[other].Tags))
		return []any{i + 1, email, hash, handle, display,
			fmt.Sprintf("https://cdn.showcase.example/a/%d.jpg", i+1), followers, isCreator[i], i == 1, arrayLiteral(interests),
			s.now.Add(-time.Duration(s.rng.IntN(365*24)) * time.Hour)}
	})
}

func (s *seeder) shops() error {
	o := s.opts
	s.report.Shops = o.Shops
	taken := map[string]bool{}
	return s.copyRows("shops", "shops", []string{"id", "handle", "name", "description", "operating_model", "owner_id",
		"currency_code", "affiliate_rate_bps", "created_at"}, o.Shops, func(i int) []any {
		// A shop sells one category (seedShopCategory), named in its name.
		cat := seedCategories[seedShopCategory(int64(i+1))]
		name := fmt.Sprintf("%s %s %s", titleCase(s.pick(seedLastNames)), titleCase(cat.Name), s.pick(seedShopWords))
		for try := 0; taken[name]; try++ {
			name = fmt.Sprintf("%s %s %s", titleCase(s.pick(seedLastNames)), titleCase(cat.Name), s.pick(seedShopWords))
			if try >= 50 {
				name += fmt.Sprintf(" %d", i+1)
			}
		}
		taken[name] = true
		handle := strings.ToLower(strings.ReplaceAll(name, " ", "-")) + fmt.Sprintf("-%d", i+1)
		model, currency := store.SelfOperated, "USD"
		if i%3 == 1 {
			model = store.FullyManaged
		}
		if i%7 == 6 {
			currency = "EUR"
		}
		s.ownerShop[s.shopOwner[i]] = int64(i + 1)
		return []any{i + 1, handle, name, fmt.Sprintf(s.pick(seedShopPitches), cat.Name),
			model, s.shopOwner[i], currency, 500 + 100*s.rng.IntN(16), s.now.AddDate(0, 0, -400+i)}
	})
}

func (s *seeder) products() error {
	o := s.opts
	type variantRow struct {
		productID, shopID int64
		title             string
		pos               int
		price             int64
	}
	var variants []variantRow
	shopCurrency := func(shopID int64) string {
		if (shopID-1)%7 == 6 {
			return "EUR"
		}
		return "USD"
	}
	titles := map[int64]map[string]bool{} // by shop
	err := s.copyRows("products", "products", []string{"id", "shop_id", "title", "description", "tags", "status", "created_at"}, o.Products, func(i int) []any {
		id, shopID := int64(i+1), int64(i%o.Shops+1)
		cat := seedShopCategory(shopID)
		c := seedCategories[cat]
		// Titles are distinct within a shop while the category's words last.
		if titles[shopID] == nil {
			titles[shopID] = map[string]bool{}
		}
		title := s.pick(c.Adjectives) + " " + s.pick(c.Nouns)
		for try := 0; titles[shopID][title] && try < 40; try++ {
			title = s.pick(c.Adjectives) + " " + s.pick(c.Nouns)
		}
		titles[shopID][title] = true
		description := strings.TrimSpace(fmt.Sprintf("The %s from our %s line. %s %s", title, c.Name, s.pick(c.Pitches),
			s.pick(seedDescriptionEndings)))
		status := store.ProductActive
		if i >= o.Shops && s.rng.IntN(100) < 3 {
			status = store.ProductDraft
		} else {
			s.shopProducts[shopID] = append(s.shopProducts[shopID], id)
			s.allActive = append(s.allActive, id)
		}
		s.productCat[id] = cat
		s.productTitle[id] = title
		options := c.Variants[s.rng.IntN(len(c.Variants))]
		// Prices end in 99 within the category's range; bigger variants cost more.
		base := int64(c.PriceMin + 100*s.rng.IntN((c.PriceMax-c.PriceMin)/100+1))
		for k, n := 0, 1+s.rng.IntN(min(4, len(options))); k < n; k++ {
			variants = append(variants, variantRow{productID: id, shopID: shopID, title: options[k], pos: k, price: base + int64(k)*200})
		}
		return []any{id, shopID, title, description, s.tags(cat, 3), status, s.now.Add(-time.Duration(s.rng.IntN(90*24)) * time.Hour)}
	})
	if err != nil {
		return err
	}
	s.report.Products = o.Products
	s.report.Variants = len(variants)
	return s.copyRows("variants", "product_variants", []string{"id", "product_id", "sku", "title", "price_amount", "currency_code",
		"stock", "position"}, len(variants), func(i int) []any {
		v := variants[i]
		stock := s.rng.IntN(501)
		if s.rng.IntN(100) < 5 {
			stock = 0
		}
		sku, price := fmt.Sprintf("SH%04d-P%06d-%d", v.shopID, v.productID, v.pos+1), v.price
		if v.pos == 0 {
			s.firstVariant[v.productID] = seedVariant{id: int64(i + 1), price: price, title: v.title, sku: sku, currency: shopCurrency(v.shopID)}
			s.shopOfProduct[v.productID] = v.shopID
		}
		return []any{i + 1, v.productID, sku, v.title, price, shopCurrency(v.shopID), stock, v.pos}
	})
}

// featured picks 1..max active products: the author's own shop's when they
// own one, else one shop's (as an affiliate).
func (s *seeder) featured(author int64, max int) (shopID int64, products []int64) {
	shopID, own := s.ownerShop[author]
	if !own || len(s.shopProducts[shopID]) == 0 {
		shopID = int64(s.rng.IntN(s.opts.Shops) + 1)
	}
	pool := s.shopProducts[shopID]
	if len(pool) == 0 {
		pool = s.allActive
	}
	seen := map[int64]bool{}
	for n := 1 + s.rng.IntN(max); len(products) < n && len(seen) < len(pool); {
		p := pool[s.rng.IntN(len(pool))]
		if !seen[p] {
			seen[p] = true
			products = append(products, p)
		}
	}
	return shopID, products
}

type seedCard struct{ content, product int64 }

func (s *seeder) videos() error {
	o := s.opts
	var cards []seedCard
	err := s.copyRows("videos", "contents", []string{"id", "kind", "author_id", "shop_id", "tags", "published_at", "view_count",
		"like_count", "caption", "playback_url", "thumbnail_url", "duration_seconds"}, o.Videos, func(i int) []any {
		id := int64(i + 1)
		author := s.creators[s.rng.IntN(len(s.creators))]
		shopID, products := s.featured(author, 3)
		for _, p := range products {
			cards = append(cards, seedCard{id, p})
		}
		published := s.now.Add(-time.Duration(s.rng.IntN(60*24*60)) * time.Minute)
		s.contentInfo = append(s.contentInfo, seedContent{id: id, author: author, shop: shopID, kind: store.KindVideo, published: published})
		s.cards[id] = products
		cat := s.productCat[products[0]]
		tags := s.tagList(cat, 2)
		views := int64(math.Exp(3 + s.rng.Float64()*9))
		if s.rng.IntN(100) == 0 {
			views *= 20 // the occasional viral hit
		}
		// The caption names the first card's product; the hashtags are its category's.
		caption := fmt.Sprintf(s.pick(seedCaptions), strings.ToLower(s.productTitle[products[0]])) + " #" + strings.Join(tags, " #")
		return []any{id, store.KindVideo, author, shopID, arrayLiteral(tags), published,
			views, views * int64(2+s.rng.IntN(9)) / 100, caption,
			fmt.Sprintf("https://cdn.showcase.example/v/%d.m3u8", id), fmt.Sprintf("https://cdn.showcase.example/t/%d.jpg", id),
			8 + s.rng.IntN(173)}
	})
	if err != nil {
		return err
	}
	s.report.Videos = o.Videos
	return s.copyCards("video cards", cards)
}

func (s *seeder) copyCards(stage string, cards []seedCard) error {
	pos := map[int64]int{}
	return s.copyRows(stage, "content_products", []string{"content_id", "product_id", "position"}, len(cards), func(i int) []any {
		c := cards[i]
		p := pos[c.content]
		pos[c.content]++
		return []any{c.content, c.product, p}
	})
}

func (s *seeder) lives() error {
	o := s.opts
	onAir := max(3, o.LiveSessions/4)
	scheduled := o.LiveSessions / 3
	var cards []seedCard
	err := s.copyRows("live sessions", "contents", []string{"id", "kind", "author_id", "shop_id", "tags", "published_at", "view_count",
		"like_count", "title", "live_status", "scheduled_start_at", "started_at", "ended_at", "pinned_product_id"}, o.LiveSessions, func(i int) []any {
		id := int64(o.Videos + i + 1)
		shopIdx := i % o.Shops
		host := s.shopOwner[shopIdx]
		if i%2 == 1 {
			host = s.creators[s.rng.IntN(len(s.creators))]
		}
		shopID, products := s.featured(host, 6)
		if len(products) < 2 && len(s.shopProducts[shopID]) >= 2 {
			products = s.shopProducts[shopID][:2]
		}
		for _, p := range products {
			cards = append(cards, seedCard{id, p})
		}
		s.cards[id] = products
		cat := s.productCat[products[0]]
		title := titleCase(fmt.Sprintf(s.pick(seedLiveTitles), seedCategories[cat].Name))
		views := int64(math.Exp(5 + s.rng.Float64()*6))
		var status string
		var scheduledAt, started, ended, pinned any
		switch {
		case i < onAir:
			status = store.LiveOnAir
			st := s.now.Add(-time.Duration(5+s.rng.IntN(115)) * time.Minute)
			scheduledAt, started, pinned = st.Add(-10*time.Minute), st, products[0]
			s.contentInfo = append(s.contentInfo, seedContent{id: id, author: host, shop: shopID, kind: store.KindLive, published: st})
			return []any{id, store.KindLive, host, shopID, s.tags(cat, 2), st, views, views / 20, title, status, scheduledAt, started, ended, pinned}
		case i < onAir+scheduled:
			status = store.LiveScheduled
			scheduledAt = s.now.Add(time.Duration(1+s.rng.IntN(72)) * time.Hour)
			return []any{id, store.KindLive, host, shopID, s.tags(cat, 2), s.now, 0, 0, title, status, scheduledAt, started, ended, pinned}
		default:
			status = store.LiveEnded
			st := s.now.Add(-time.Duration(24+s.rng.IntN(24*30)) * time.Hour)
			scheduledAt, started, ended = st, st, st.Add(time.Duration(30+s.rng.IntN(120))*time.Minute)
			s.contentInfo = append(s.contentInfo, seedContent{id: id, author: host, shop: shopID, kind: store.KindLive, published: st})
			return []any{id, store.KindLive, host, shopID, s.tags(cat, 2), st, views, views / 20, title, status, scheduledAt, started, ended, pinned}
		}
	})
	if err != nil {
		return err
	}
	s.report.LiveSessions = o.LiveSessions
	return s.copyCards("live cards", cards)
}

// fixSequences moves each id sequence past the explicit ids COPY wrote.
func (s *seeder) fixSequences() error {
	for _, t := range []string{"users", "shops", "products", "product_variants", "contents", "checkouts", "orders", "order_lines", "comments"} {
		if _, err := s.tx.ExecContext(s.ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), coalesce((SELECT max(id) FROM %s), 1))`, t, t)); err != nil {
			return fmt.Errorf("fix sequence of %s: %w", t, err)
		}
	}
	return nil
}

// seedShopCategory is the one category (an index into seedCategories) a
// shop sells: shops take the categories in turn.
func seedShopCategory(shopID int64) int { return int(shopID-1) % len(seedCategories) }

type personName struct{ handle, display string }

// personNames gives n people distinct names: every first and last name pair
// once, in a shuffled order, then the pairs again with a middle initial
// ("Mia K. Chen", handle "mia.k.chen"), then with a number.
func (s *seeder) personNames(n int) []personName {
	type pair struct{ first, last string }
	var pairs []pair
	for _, f := range seedFirstNames {
		for _, l := range seedLastNames {
			pairs = append(pairs, pair{f, l})
		}
	}
	s.rng.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
	out := make([]personName, n)
	for i := range out {
		p, round := pairs[i%len(pairs)], i/len(pairs)
		handle, display := p.first+"."+p.last, titleCase(p.first)+" "+titleCase(p.last)
		if round > 0 {
			initial := string(rune('a' + (round-1)%26))
			handle = p.first + "." + initial + "." + p.last
			display = titleCase(p.first) + " " + strings.ToUpper(initial) + ". " + titleCase(p.last)
			if k := (round - 1) / 26; k > 0 {
				handle += strconv.Itoa(k + 1)
				display += " " + strconv.Itoa(k+1)
			}
		}
		out[i] = personName{handle, display}
	}
	return out
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
