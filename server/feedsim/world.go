package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/lib/pq"

	"showcase/store"
)

// world is the catalogue the simulator builds, and what only it knows: the
// topic of every video and the population's hidden interests.
type world struct {
	topics   []string
	topicOf  map[int64]int   // video -> topic
	authorOf map[int64]int64 // video -> creator
	variant  map[int64]int64 // video -> the variant of its card
	price    map[int64]int64 // video -> that variant's price, in cents
	videos   int
	creators map[int][]int64 // topic -> creator ids
	users    []*simUser
}

// simUser is one simulated person.
type simUser struct {
	id       int64
	token    string
	device   string       // signed out: the device's id (token empty)
	likes    map[int]bool // hidden favourite topics
	followed map[int64]bool
	rng      *rand.Rand
	done     int // interactions so far
}

// interested is the hidden interest of u in a video's topic.
func (u *simUser) interested(topic int) bool { return u.likes[topic] }

// buildWorld writes the catalogue over SQL (setting up is not what is
// measured): per topic, creatorsPerTopic creators with a shop each, a
// product of the topic, and videosPerCreator 30-second videos tagged with
// it, of Zipf-like popularity, published over the last ten days; then the
// population, each person with two hidden favourite topics.
func buildWorld(ctx context.Context, db *store.DB, o options, rng *rand.Rand) (*world, error) {
	w := &world{topicOf: map[int64]int{}, authorOf: map[int64]int64{}, variant: map[int64]int64{}, price: map[int64]int64{},
		creators: map[int][]int64{}}
	all := []string{"skincare", "fitness", "gadgets", "ootd", "snacks", "homedecor", "pets", "gaming", "books", "outdoors", "toys", "music"}
	w.topics = all[:o.Topics]
	now := time.Now()
	for t, topic := range w.topics {
		for c := 0; c < o.CreatorsPerTopic; c++ {
			u, err := db.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("%s%d@sim.example", topic, c), PasswordHash: "-",
				Handle: fmt.Sprintf("%s_%d", topic, c), DisplayName: fmt.Sprintf("%s %d", topic, c)})
			if err != nil {
				return nil, err
			}
			w.creators[t] = append(w.creators[t], u.ID)
			var shopID, productID, variantID int64
			if err := db.GetContext(ctx, &shopID, `INSERT INTO shops (handle, name, operating_model, owner_id)
				VALUES ($1, $1, 'SELF_OPERATED', $2) RETURNING id`, fmt.Sprintf("shop-%s-%d", topic, c), u.ID); err != nil {
				return nil, err
			}
			price := int64(1000 + rng.IntN(9000))
			if err := db.GetContext(ctx, &productID, `INSERT INTO products (shop_id, title, tags) VALUES ($1, $2, ARRAY[$3]) RETURNING id`,
				shopID, topic+" thing", topic); err != nil {
				return nil, err
			}
			if err := db.GetContext(ctx, &variantID, `INSERT INTO product_variants (product_id, sku, title, price_amount, currency_code, stock)
				VALUES ($1, $2, 'one', $3, 'USD', 1000000) RETURNING id`, productID, fmt.Sprintf("sku-%s-%d", topic, c), price); err != nil {
				return nil, err
			}
			for v := 0; v < o.VideosPerCreator; v++ {
				views := int64(10000 / (1 + rng.IntN(200))) // a few hits, a long tail
				published := now.Add(-time.Duration(3*24+rng.IntN(7*24)) * time.Hour)
				var id int64
				if err := db.GetContext(ctx, &id, `INSERT INTO contents (kind, author_id, shop_id, tags, published_at, view_count, like_count, caption, playback_url, duration_seconds)
					VALUES ('VIDEO', $1, $2, ARRAY[$3], $4, $5::bigint, $5::bigint / 20, $3 || ' video', 'https://cdn.example/v', 30) RETURNING id`,
					u.ID, shopID, topic, published, views); err != nil {
					return nil, err
				}
				// The views as engagement history too, so that 7-day rates
				// (GPM, engagement) have their real denominators.
				if _, err := db.ExecContext(ctx, `WITH card AS (INSERT INTO content_products (content_id, product_id) VALUES ($1, $2))
					INSERT INTO content_event_counts (content_id, bucket, views) VALUES ($1, date_trunc('minute', now() - interval '1 day'), $3)`,
					id, productID, views); err != nil {
					return nil, err
				}
				w.topicOf[id], w.authorOf[id], w.variant[id], w.price[id] = t, u.ID, variantID, price
				w.videos++
			}
		}
	}
	if err := db.RefreshContentScores(ctx); err != nil {
		return nil, err
	}
	for i := 0; i < o.Users; i++ {
		u, err := db.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("viewer%d@sim.example", i), PasswordHash: "-",
			Handle: fmt.Sprintf("viewer_%d", i), DisplayName: fmt.Sprintf("Viewer %d", i)})
		if err != nil {
			return nil, err
		}
		su := &simUser{id: u.ID, likes: map[int]bool{}, followed: map[int64]bool{},
			rng: rand.New(rand.NewPCG(o.Seed, uint64(i)))}
		for len(su.likes) < 2 {
			su.likes[rng.IntN(len(w.topics))] = true
		}
		w.users = append(w.users, su)
	}
	return w, nil
}

// publishFresh adds n new videos of a topic, published now with no views:
// content the recommender has never seen.
func (w *world) publishFresh(ctx context.Context, db *store.DB, topic, n int) ([]int64, error) {
	creator := w.creators[topic][0]
	var ids []int64
	err := db.SelectContext(ctx, &ids, `INSERT INTO contents (kind, author_id, shop_id, tags, caption, playback_url, duration_seconds)
		SELECT 'VIDEO', $1, (SELECT id FROM shops WHERE owner_id = $1), ARRAY[$2], $2 || ' new video', 'https://cdn.example/n', 30
		FROM generate_series(1, $3) RETURNING id`, creator, w.topics[topic], n)
	if err != nil {
		return nil, err
	}
	var product, variant, price int64
	if err := db.QueryRowContext(ctx, `SELECT p.id, v.id, v.price_amount FROM products p JOIN product_variants v ON v.product_id = p.id
		WHERE p.shop_id = (SELECT id FROM shops WHERE owner_id = $1)`, creator).Scan(&product, &variant, &price); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO content_products (content_id, product_id) SELECT unnest($1::bigint[]), $2`, pq.Array(ids), product); err != nil {
		return nil, err
	}
	for _, id := range ids {
		w.topicOf[id], w.authorOf[id], w.variant[id], w.price[id] = topic, creator, variant, price
	}
	// The score refresh runs every minute on a server; run it now so that
	// the new videos are candidates as fresh content, not as "new since the
	// last refresh" (which every policy ranks).
	return ids, db.RefreshContentScores(ctx)
}
