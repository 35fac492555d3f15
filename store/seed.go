package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"
)

// Demo accounts, all with password DemoPassword.
const (
	DemoPassword    = "showcase-demo"
	DemoBuyerEmail  = "demo@showcase.dev"
	DemoSellerEmail = "seller@showcase.dev"
	DemoAdminEmail  = "admin@showcase.dev"
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
}

// DemoSeedOptions is the dataset `make run` explores.
func DemoSeedOptions() SeedOptions {
	return SeedOptions{Users: 60, Creators: 15, Shops: 10, Products: 240, Videos: 300, LiveSessions: 12, HistoryDays: 30, Seed: 1}
}

// SeedReport counts what Seed wrote.
type SeedReport struct {
	Users, Shops, Products, Variants, Videos, LiveSessions int
	Orders, Likes, Comments                                int
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
	allActive    []int64
	// the first variant of each product, for generated orders
	firstVariant  map[int64]seedVariant
	shopOfProduct map[int64]int64
	contentInfo   []seedContent
	cards         map[int64][]int64
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
// transaction. It bulk-loads with COPY so that the benchmark's large datasets
// load in seconds.
func Seed(ctx context.Context, db *DB, opts SeedOptions) (SeedReport, error) {
	if opts.Shops < 1 || opts.Users < opts.Shops+2 || opts.Products < opts.Shops {
		return SeedReport{}, fmt.Errorf("seed: need at least 1 shop, shops+2 users and a product per shop")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(DemoPassword), bcrypt.DefaultCost)
	if err != nil {
		return SeedReport{}, err
	}
	s := &seeder{
		ctx: ctx, opts: opts, rng: rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed)), now: time.Now().UTC(),
		ownerShop: map[int64]int64{}, shopProducts: map[int64][]int64{}, productCat: map[int64]int{},
		firstVariant: map[int64]seedVariant{}, shopOfProduct: map[int64]int64{}, cards: map[int64][]int64{},
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		s.tx = tx
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM users)`); err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("seed: the database already has data")
		}
		for _, step := range []func(string) error{s.users, func(string) error { return s.shops() }, func(string) error { return s.products() },
			func(string) error { return s.videos() }, func(string) error { return s.lives() }, func(string) error { return s.history() },
			func(string) error { return s.fixSequences() }} {
			if err := step(string(hash)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return SeedReport{}, fmt.Errorf("seed: %w", err)
	}
	return s.report, nil
}

// copyRows streams n rows into table with COPY.
func (s *seeder) copyRows(stage, table string, cols []string, n int, row func(i int) []any) error {
	stmt, err := s.tx.PrepareContext(s.ctx, pq.CopyIn(table, cols...))
	if err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	defer stmt.Close()
	for i := 0; i < n; i++ {
		if _, err := stmt.ExecContext(s.ctx, row(i)...); err != nil {
			return fmt.Errorf("copy %s: %w", table, err)
		}
		if s.opts.Progress != nil && (i+1)%5000 == 0 {
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

func (s *seeder) tags(cat int, n int) string {
	c := seedCategories[cat]
	picked := map[string]bool{}
	var out []string
	for len(out) < n {
		t := s.pick(c.Tags)
		if !picked[t] {
			picked[t] = true
			out = append(out, t)
		}
	}
	v, _ := pq.StringArray(out).Value()
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
	return s.copyRows("users", "users", []string{"id", "email", "password_hash", "handle", "display_name", "avatar_url",
		"follower_count", "is_creator", "is_admin", "interest_tags", "created_at"}, o.Users, func(i int) []any {
		first, last := s.pick(seedFirstNames), s.pick(seedLastNames)
		handle := fmt.Sprintf("%s.%s%d", first, last, i)
		email := handle + "@example.com"
		switch i {
		case 0:
			handle, email = "demo", DemoBuyerEmail
		case 1:
			handle, email = "admin", DemoAdminEmail
		case 2:
			handle, email = "seller", DemoSellerEmail
		}
		followers := int(math.Exp(s.rng.Float64() * 8))
		if isCreator[i] {
			followers = int(math.Exp(7 + s.rng.Float64()*8))
		}
		interests := s.tags(s.rng.IntN(len(seedCategories)), 2) // e.g. {skincare,makeup}
		other, _ := pq.StringArray(append(parseArray(interests), seedCategories[s.rng.IntN(len(seedCategories))].Tags[0])).Value()
		return []any{i + 1, email, hash, handle, titleCase(first) + " " + titleCase(last),
			fmt.Sprintf("https://cdn.showcase.example/a/%d.jpg", i+1), followers, isCreator[i], i == 1, other,
			s.now.Add(-time.Duration(s.rng.IntN(365*24)) * time.Hour)}
	})
}

func (s *seeder) shops() error {
	o := s.opts
	s.report.Shops = o.Shops
	return s.copyRows("shops", "shops", []string{"id", "handle", "name", "description", "operating_model", "owner_id",
		"currency_code", "affiliate_rate_bps", "created_at"}, o.Shops, func(i int) []any {
		cat := seedCategories[i%len(seedCategories)]
		name := fmt.Sprintf("%s %s %s", titleCase(s.pick(seedLastNames)), titleCase(cat.Name), s.pick(seedShopWords))
		handle := strings.ToLower(strings.ReplaceAll(name, " ", "-")) + fmt.Sprintf("-%d", i+1)
		model, currency := SelfOperated, "USD"
		if i%3 == 1 {
			model = FullyManaged
		}
		if i%7 == 6 {
			currency = "EUR"
		}
		s.ownerShop[s.shopOwner[i]] = int64(i + 1)
		return []any{i + 1, handle, name, fmt.Sprintf("%s for every day, shipped fast. Follow for drops and live deals.", titleCase(cat.Name)),
			model, s.shopOwner[i], currency, 500 + 100*s.rng.IntN(16), s.now.AddDate(0, 0, -400+i)}
	})
}

func (s *seeder) products() error {
	o := s.opts
	type variantRow struct {
		productID, shopID int64
		title             string
		pos               int
	}
	var variants []variantRow
	shopCurrency := func(shopID int64) string {
		if (shopID-1)%7 == 6 {
			return "EUR"
		}
		return "USD"
	}
	err := s.copyRows("products", "products", []string{"id", "shop_id", "title", "description", "tags", "status", "created_at"}, o.Products, func(i int) []any {
		id, shopID := int64(i+1), int64(i%o.Shops+1)
		cat := (int(shopID) - 1 + s.rng.IntN(3)/2) % len(seedCategories)
		c := seedCategories[cat]
		title := s.pick(c.Adjectives) + " " + s.pick(c.Nouns)
		status := ProductActive
		if i >= o.Shops && s.rng.IntN(100) < 3 {
			status = ProductDraft
		} else {
			s.shopProducts[shopID] = append(s.shopProducts[shopID], id)
			s.allActive = append(s.allActive, id)
		}
		s.productCat[id] = cat
		options := c.Variants[s.rng.IntN(len(c.Variants))]
		for k := 0; k < 1+s.rng.IntN(min(4, len(options))); k++ {
			variants = append(variants, variantRow{productID: id, shopID: shopID, title: options[k], pos: k})
		}
		return []any{id, shopID, title, fmt.Sprintf("%s from our %s line. Loved by thousands of buyers; ships in 48 hours.", title, c.Name),
			s.tags(cat, 3), status, s.now.Add(-time.Duration(s.rng.IntN(90*24)) * time.Hour)}
	})
	if err != nil {
		return err
	}
	s.report.Products = o.Products
	s.report.Variants = len(variants)
	basePrice := map[int64]int64{}
	return s.copyRows("variants", "product_variants", []string{"id", "product_id", "sku", "title", "price_amount", "currency_code",
		"stock", "position"}, len(variants), func(i int) []any {
		v := variants[i]
		if _, ok := basePrice[v.productID]; !ok {
			basePrice[v.productID] = int64(399 + 100*s.rng.IntN(196))
		}
		stock := s.rng.IntN(501)
		if s.rng.IntN(100) < 5 {
			stock = 0
		}
		sku, price := fmt.Sprintf("SH%04d-P%06d-%d", v.shopID, v.productID, v.pos+1), basePrice[v.productID]+int64(v.pos)*200
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
		s.contentInfo = append(s.contentInfo, seedContent{id: id, author: author, shop: shopID, kind: KindVideo, published: published})
		s.cards[id] = products
		cat := s.productCat[products[0]]
		tags := s.tags(cat, 2)
		views := int64(math.Exp(3 + s.rng.Float64()*9))
		if s.rng.IntN(100) == 0 {
			views *= 20 // the occasional viral hit
		}
		c := seedCategories[cat]
		caption := fmt.Sprintf("This %s %s changed everything %s", strings.ToLower(s.pick(c.Adjectives)), strings.ToLower(s.pick(c.Nouns)),
			"#"+strings.Join(parseArray(tags), " #"))
		return []any{id, KindVideo, author, shopID, tags, published,
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
		title := fmt.Sprintf(s.pick(seedLiveTitles), seedCategories[cat].Name)
		views := int64(math.Exp(5 + s.rng.Float64()*6))
		var status string
		var scheduledAt, started, ended, pinned any
		switch {
		case i < onAir:
			status = LiveOnAir
			st := s.now.Add(-time.Duration(5+s.rng.IntN(115)) * time.Minute)
			scheduledAt, started, pinned = st.Add(-10*time.Minute), st, products[0]
			s.contentInfo = append(s.contentInfo, seedContent{id: id, author: host, shop: shopID, kind: KindLive, published: st})
			return []any{id, KindLive, host, shopID, s.tags(cat, 2), st, views, views / 20, title, status, scheduledAt, started, ended, pinned}
		case i < onAir+scheduled:
			status = LiveScheduled
			scheduledAt = s.now.Add(time.Duration(1+s.rng.IntN(72)) * time.Hour)
			return []any{id, KindLive, host, shopID, s.tags(cat, 2), s.now, 0, 0, title, status, scheduledAt, started, ended, pinned}
		default:
			status = LiveEnded
			st := s.now.Add(-time.Duration(24+s.rng.IntN(24*30)) * time.Hour)
			scheduledAt, started, ended = st, st, st.Add(time.Duration(30+s.rng.IntN(120))*time.Minute)
			s.contentInfo = append(s.contentInfo, seedContent{id: id, author: host, shop: shopID, kind: KindLive, published: st})
			return []any{id, KindLive, host, shopID, s.tags(cat, 2), st, views, views / 20, title, status, scheduledAt, started, ended, pinned}
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

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// parseArray reads back a simple text[] literal made by pq.StringArray.
func parseArray(lit string) []string {
	lit = strings.Trim(lit, "{}")
	if lit == "" {
		return nil
	}
	parts := strings.Split(lit, ",")
	for i, p := range parts {
		parts[i] = strings.Trim(p, `"`)
	}
	return parts
}
