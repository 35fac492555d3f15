package store_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// seedForYouCatalogue writes a catalogue with everything the For You
// ranking reads: videos and live sessions (on air, ended, scheduled, in the
// future), tags, shops, cards and their categories, a running and an ended
// campaign, scores, contents new since the last refresh, and learned
// viewers user:1..40 (interests, declared tags, follows, engaged and
// dismissed and completed contents shared with peers) and device:d1.
func seedForYouCatalogue(t testing.TB, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(script string) error {
		for _, st := range strings.Split(script, ";\n") {
			start := time.Now()
			if _, err := conn.ExecContext(ctx, st); err != nil {
				return fmt.Errorf("%s: %w", st, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Logf("%v: %.80s", d, st)
			}
		}
		return nil
	}
	if err := exec(`SET statement_timeout = 0;
		SELECT setseed(0.42);
		INSERT INTO users (email, password_hash, handle, display_name, interest_tags)
		SELECT 'u' || i || '@example.com', '-', 'u' || i, 'U', CASE WHEN i % 4 = 0 THEN ARRAY['t' || (i % 20), 't' || ((i + 3) % 20)] ELSE '{}' END
		FROM generate_series(1, 80) i;
		INSERT INTO shops (handle, name, operating_model, owner_id) SELECT 's' || i, 'S', 'SELF_OPERATED', i FROM generate_series(1, 15) i;
		INSERT INTO products (shop_id, title, tags) SELECT 1 + i % 15, 'p' || i,
			CASE WHEN i % 5 = 0 THEN '{}' ELSE ARRAY['cat' || (i % 7), 't' || (i % 20)] END FROM generate_series(1, 100) i;
		INSERT INTO product_variants (product_id, sku, title, price_amount, currency_code) SELECT id, 'v' || id, 'v', 1000, 'USD' FROM products;
		INSERT INTO contents (kind, author_id, shop_id, tags, published_at, created_at, view_count, like_count, caption, playback_url, duration_seconds, title, live_status)
		SELECT k, 1 + (random() * 59)::int, CASE WHEN random() < 0.6 THEN 1 + (random() * 14)::int END,
			(SELECT coalesce(array_agg(DISTINCT 't' || (random() * 19)::int), '{}') FROM generate_series(0, (random() * 3)::int + i % 2 - 1) g WHERE g >= 0),
			p, p, CASE WHEN random() < 0.3 THEN (random() * 90)::int ELSE (random() * 20000)::int END, (random() * 500)::int,
			'c', 'https://x/' || i, 30, 'live', CASE WHEN k = 'LIVE' THEN (ARRAY['LIVE', 'ENDED', 'SCHEDULED', 'LIVE'])[1 + (random() * 3)::int] END
		FROM (SELECT i, CASE WHEN random() < 0.1 THEN 'LIVE' ELSE 'VIDEO' END AS k,
			now() - random() * interval '20 days' + CASE WHEN i % 97 = 0 THEN interval '2 days' ELSE interval '0' END AS p
			FROM generate_series(1, 3000) i) s;
		INSERT INTO content_products (content_id, product_id)
		SELECT DISTINCT c.id, 1 + (random() * 99)::int FROM contents c, generate_series(1, 2) g WHERE c.id % 5 = 0;
		INSERT INTO campaigns (handle, name, starts_at, ends_at, min_discount_bps, max_discount_bps)
		VALUES ('now', 'Now', now() - interval '1 day', now() + interval '1 day', 100, 5000),
			('past', 'Past', now() - interval '10 days', now() - interval '5 days', 100, 5000);
		INSERT INTO campaign_variants (campaign_id, variant_id, product_id, shop_id, price_amount, list_price_amount, currency_code)
		SELECT CASE WHEN v.id % 2 = 0 THEN 1 ELSE 2 END, v.id, p.id, p.shop_id, 500, 1000, 'USD'
		FROM product_variants v JOIN products p ON p.id = v.product_id WHERE p.id % 3 = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecomputeContentScoresWithoutRests(ctx); err != nil {
		t.Fatal(err)
	}
	if err := exec(`SELECT setseed(0.43);
		UPDATE content_scores SET gpm_7d = CASE WHEN random() < 0.2 THEN random() * 5000 ELSE 0 END, engagement_7d = random() * 0.2;
		-- new since the refresh
		INSERT INTO contents (kind, author_id, shop_id, tags, view_count, caption, playback_url, duration_seconds)
		SELECT 'VIDEO', 1 + i % 60, 1 + i % 15, ARRAY['t' || (i % 20)], i, 'c', 'https://x/n' || i, 30 FROM generate_series(1, 30) i;
		INSERT INTO interests (profile, weights, updated_at)
		SELECT 'user:' || u, (SELECT jsonb_object_agg(key, w) FROM (
				SELECT DISTINCT ON (key) key, round((random() * 25 - 5)::numeric, 3) AS w FROM (
					SELECT CASE (random() * 3)::int WHEN 0 THEN 'TAG:t' || (random() * 19)::int WHEN 1 THEN 'CREATOR:' || 1 + (random() * 59)::int
						WHEN 2 THEN 'SHOP:' || 1 + (random() * 14)::int ELSE 'CATEGORY:cat' || (random() * 6)::int END AS key
					FROM generate_series(1, 3 + u % 25)) k) kw), now() - (u % 9) * interval '1 day'
		FROM generate_series(1, 40) u WHERE u % 10 <> 7;
		INSERT INTO interests (profile, weights, updated_at) VALUES ('device:d1', '{"TAG:t3": 5, "SHOP:2": -3}', now());
		INSERT INTO follows (follower_id, creator_id) SELECT DISTINCT u, 41 + (random() * 30)::int FROM generate_series(1, 40) u, generate_series(1, 3) g WHERE u % 3 = 0;
		INSERT INTO follows (follower_id, shop_id) SELECT DISTINCT u, 1 + (random() * 14)::int FROM generate_series(1, 40) u, generate_series(1, 2) g WHERE u % 4 = 1;
		INSERT INTO profile_contents (profile, content_id, weight, completed, dismissed, updated_at)
		SELECT DISTINCT ON (p, c) p, c, CASE WHEN random() < 0.8 THEN random() * 5 ELSE 0 END, random() < 0.2, random() < 0.1, now() - random() * interval '3 days'
		FROM (SELECT CASE WHEN u = 41 THEN 'device:d1' ELSE 'user:' || u END AS p, (SELECT min(id) FROM contents) + (random() * 400)::int AS c
			FROM generate_series(1, 41) u, generate_series(1, 25) g) s`); err != nil {
		t.Fatal(err)
	}
}

// The For You ranking in Go (feed index, one statement for the viewer's
// state) ranks exactly as the SQL statement it replaced: the same
// candidates, scores, flags and arrangement, for learned viewers, a device,
// an unknown profile and the anonymous viewer, on a first page and on a
// walk's tail.
func TestForYouRankingMatchesSQL(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	seedForYouCatalogue(t, db)
	s := &store.DefaultForYouSettings
	w := store.FeedWeights{GPM: 8, Engagement: 2}
	now := time.Now().UTC().Truncate(time.Microsecond)
	type viewer struct {
		profile string
		id      int64
	}
	viewers := []viewer{{"", 0}, {"device:d1", 0}, {"device:nobody", 0}}
	for u := int64(1); u <= 40; u++ {
		viewers = append(viewers, viewer{store.UserProfile(u), u})
	}
	checked := 0
	for _, v := range viewers {
		want, err := db.ForYouRankedBySQL(ctx, s, w, v.profile, v.id, now, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.ForYouRankedInGo(ctx, s, w, v.profile, v.id, now, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		compareRanked(t, fmt.Sprintf("%q first page", v.profile), got, want)
		if g, w := store.ForYouArrangement(got, v.profile, 0, 20, s), store.ForYouArrangement(want, v.profile, 0, 20, s); !slices.Equal(g, w) {
			t.Errorf("%q: arrangement %v, want %v", v.profile, g[:min(len(g), 30)], w[:min(len(w), 30)])
		}
		// A walk's tail after 20 items.
		arr := store.ForYouArrangement(want, v.profile, 0, 20, s)
		var walk int64
		if err := db.GetContext(ctx, &walk, `INSERT INTO list_walks (id, viewer_id, kind, ids) VALUES ((random() * 1e15)::bigint, $1, 'feed', $2) RETURNING id`,
			v.id, int64Array(arr)); err != nil {
			t.Fatal(err)
		}
		want, err = db.ForYouRankedBySQL(ctx, s, w, v.profile, v.id, now, walk, 20)
		if err != nil {
			t.Fatal(err)
		}
		got, err = db.ForYouRankedInGo(ctx, s, w, v.profile, v.id, now, walk, 20)
		if err != nil {
			t.Fatal(err)
		}
		compareRanked(t, fmt.Sprintf("%q tail", v.profile), got, want)
		checked += len(want)
	}
	if checked < 1000 {
		t.Fatalf("only %d items compared: the catalogue is too small to mean anything", checked)
	}
}

func int64Array(ids []int64) string {
	b := []byte("{")
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d", id)
	}
	return string(append(b, '}'))
}

func compareRanked(t *testing.T, what string, got, want []store.RankedItem) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d candidates, want %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("%s: item %d is %+v, want %+v", what, i, got[i], want[i])
			return
		}
	}
}
