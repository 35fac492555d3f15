package store_test

import (
	"context"
	"database/sql"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lib/pq"

	"showcase/server/demo"
	"showcase/store"
	"showcase/store/storetest"
)

// A statement trigger that reads both of its transition tables must not
// rescan one of them per row of the other, whatever plan its connection
// cached. PL/pgSQL keeps the plan made on a connection's first call; when
// that call changed one row, a join of old and new rows is a nested loop,
// and a later statement changing n rows on the same pooled connection costs
// n² (seen: `UPDATE products SET status = 'ACTIVE'` over 50,000 products ran
// for more than ten minutes after one product edit on the same connection).
//
// For every such trigger in the schema, the test makes the first call on a
// connection change one row, then a statement change several, and reads the
// nested statements' executed plans (auto_explain, sent to the client): no
// scan of a transition table may run more than once. (The statements run as
// a superuser, whom LOAD 'auto_explain' needs; the triggers are the same.)
func TestTransitionTablesReadOnceWhateverThePlanCache(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	db := openPool(t, dsn, store.PoolOptions{MaxOpenConns: 4})
	if _, err := demo.Seed(ctx, db, demo.SeedOptions{Users: 30, Creators: 6, Shops: 3, Products: 20, Videos: 40, HistoryDays: 3, Seed: 7}); err != nil {
		t.Fatal(err)
	}

	// Every trigger with both an old and a new transition table: a new one
	// needs a case below (its statements must change compared columns).
	var triggers []string
	if err := db.SelectContext(ctx, &triggers, `SELECT c.relname || '.' || p.proname FROM pg_trigger g
		JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_proc p ON p.oid = g.tgfoid
		WHERE g.tgoldtable IS NOT NULL AND g.tgnewtable IS NOT NULL ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ one, many string }{
		"content_products.content_products_card_categories": {
			`UPDATE content_products SET position = position + 1 WHERE (content_id, product_id) = (SELECT content_id, product_id FROM content_products ORDER BY 1, 2 LIMIT 1)`,
			`UPDATE content_products SET position = position + 1`},
		"comments.comments_rollup": {
			`UPDATE comments SET created_at = created_at - interval '1 second' WHERE ctid = (SELECT min(ctid) FROM comments)`,
			`UPDATE comments SET created_at = created_at - interval '1 second'`},
		"content_event_counts.content_event_counts_rollup": {
			`UPDATE content_event_counts SET views = views + 1 WHERE ctid = (SELECT min(ctid) FROM content_event_counts)`,
			`UPDATE content_event_counts SET views = views + 1`},
		"content_likes.likes_rollup": {
			`UPDATE content_likes SET created_at = created_at - interval '1 second' WHERE ctid = (SELECT min(ctid) FROM content_likes)`,
			`UPDATE content_likes SET created_at = created_at - interval '1 second'`},
		"order_lines.order_lines_sales": {
			`UPDATE order_lines SET quantity = quantity WHERE ctid = (SELECT min(ctid) FROM order_lines)`,
			`UPDATE order_lines SET quantity = quantity`},
		"orders.orders_sales": {
			`UPDATE orders SET paid_at = paid_at - interval '1 second' WHERE id = (SELECT min(id) FROM orders WHERE paid_at IS NOT NULL)`,
			`UPDATE orders SET paid_at = paid_at - interval '1 second' WHERE paid_at IS NOT NULL`},
		"product_event_counts.product_event_counts_rollup": {
			`UPDATE product_event_counts SET impressions = impressions + 1 WHERE ctid = (SELECT min(ctid) FROM product_event_counts)`,
			`UPDATE product_event_counts SET impressions = impressions + 1`},
		"contents.log_feed_changes_contents_upd": {
			`UPDATE contents SET view_count = view_count + 1 WHERE id = (SELECT min(id) FROM contents)`,
			`UPDATE contents SET view_count = view_count + 1`},
		"contents.log_score_changes_of_contents": {
			`UPDATE contents SET like_count = like_count + 1 WHERE id = (SELECT min(id) FROM contents)`,
			`UPDATE contents SET like_count = like_count + 1`},
		"orders.log_score_changes_by_order": {
			`UPDATE orders SET paid_at = paid_at + interval '1 second' WHERE id = (SELECT min(id) FROM orders WHERE paid_at IS NOT NULL)`,
			`UPDATE orders SET paid_at = paid_at + interval '1 second' WHERE paid_at IS NOT NULL`},
		"products.products_card_categories": {
			`UPDATE products SET tags = array_prepend('first-' || id, tags) WHERE id = (SELECT min(id) FROM products)`,
			`UPDATE products SET tags = array_prepend('again-' || id, tags)`},
	}
	var names []string
	for name := range cases {
		names = append(names, name)
	}
	slices.Sort(names)
	if !slices.Equal(triggers, names) {
		t.Fatalf("triggers reading both transition tables: %v; this test covers %v", triggers, names)
	}

	for _, name := range names {
		c := cases[name]
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var plans []string
			connector, err := pq.NewConnector(superuserDSN(t, dsn))
			if err != nil {
				t.Fatal(err)
			}
			conn := sql.OpenDB(pq.ConnectorWithNoticeHandler(connector, func(n *pq.Error) {
				mu.Lock()
				plans = append(plans, n.Message)
				mu.Unlock()
			}))
			defer conn.Close()
			conn.SetMaxOpenConns(1) // one backend: the plan cache under test
			for _, s := range []string{`LOAD 'auto_explain'`, `SET auto_explain.log_min_duration = 0`,
				`SET auto_explain.log_nested_statements = on`, `SET auto_explain.log_analyze = on`, `SET client_min_messages = log`} {
				if _, err := conn.ExecContext(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range []string{c.one, c.many} {
				res, err := conn.ExecContext(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				if n, _ := res.RowsAffected(); s == c.many && n < 3 {
					t.Fatalf("%s changed %d rows: too few to show a rescan", s, n)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			fn := name[strings.Index(name, ".")+1:]
			scans := tuplestoreScans(plans)
			if len(scans) == 0 {
				t.Fatalf("%s: no transition table scan in the executed plans: %q", fn, plans)
			}
			for _, loops := range scans {
				if loops > 1 {
					t.Errorf("%s: a transition table scanned %d times in one statement:\n%s", fn, loops, strings.Join(plans, "\n"))
				}
			}
		})
	}
}

// superuserDSN returns a superuser's URL of dsn's database (LOAD of a
// library outside $libdir/plugins needs one).
func superuserDSN(t *testing.T, dsn string) string {
	t.Helper()
	test, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := url.Parse(storetest.AdminDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	admin.Path = test.Path
	return admin.String()
}

var tuplestoreLoops = regexp.MustCompile(`Named Tuplestore Scan.*\bloops=(\d+)\)`)

// tuplestoreScans returns the loop count of every executed transition table
// scan in auto_explain's plans.
func tuplestoreScans(plans []string) []int {
	var out []int
	for _, p := range plans {
		for _, m := range tuplestoreLoops.FindAllStringSubmatch(p, -1) {
			n, _ := strconv.Atoi(m[1])
			out = append(out, n)
		}
	}
	return out
}
