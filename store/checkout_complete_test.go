package store_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"showcase/store"
	"showcase/store/storetest"
)

// queryer is what explain reads a plan through: the pool, or one
// connection whose session settings the plan must see.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// explain answers PostgreSQL's plan of query with args, one line a node.
func explain(t *testing.T, db queryer, query string, args ...any) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `EXPLAIN (VERBOSE, COSTS OFF) `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}

// A paid checkout finds the cart lines it claimed by the partial index on
// cart_lines.checkout_id, not by scanning every buyer's cart lines (a scan
// of the whole table on every checkout); the bare completion, for a
// checkout that claimed no cart line and redeemed no code, reads neither
// the cart lines nor the cart's codes. Fails without migration 0028's index
// (a Seq Scan on cart_lines), and if the bare statement still deletes from
// either table.
func TestCheckoutCompletionFindsClaimedCartLinesByIndex(t *testing.T) {
	db := storetest.NewDB(t)
	full := explain(t, db, store.CheckoutCompleteSQL, 1, "ref")
	if !strings.Contains(full, "cart_lines_checkout_idx") || strings.Contains(full, "Seq Scan on public.cart_lines") {
		t.Errorf("the completion does not find the claimed cart lines by cart_lines_checkout_idx; plan:\n%s", full)
	}
	if !strings.Contains(full, "Delete on public.cart_discount_codes") {
		t.Errorf("the completion does not clear the cart's used codes; plan:\n%s", full)
	}
	bare := explain(t, db, store.CheckoutCompleteBareSQL, 1, "ref")
	for _, table := range []string{"cart_lines", "cart_discount_codes"} {
		if strings.Contains(bare, "public."+table) {
			t.Errorf("the bare completion reads %s; plan:\n%s", table, bare)
		}
	}
	for _, want := range []string{"Update on public.orders", "Update on public.payments", "Update on public.checkouts", "Insert on public.webhook_events"} {
		if !strings.Contains(bare, want) {
			t.Errorf("the bare completion has no %q; plan:\n%s", want, bare)
		}
	}
}

// The procedure that runs the short reservation and its flush in one round
// trip (checkout_reserve, migration 0029) runs the reservation statements
// whose text is in Go, verbatim: the tests that read their plans
// (TestCheckoutCampaignPricingIsInlined) and the comments that explain them
// are about what runs. Fails when either statement is changed in Go without
// a migration that redefines the procedure with it.
func TestCheckoutReserveProcedureRunsTheGoStatements(t *testing.T) {
	db := storetest.NewDB(t)
	var src string
	if err := db.GetContext(context.Background(), &src, `SELECT prosrc FROM pg_proc WHERE proname = 'checkout_reserve'`); err != nil {
		t.Fatal(err)
	}
	for name, stmt := range map[string]string{"reserveOneSQL": store.CheckoutReserveOneSQL, "reserveManySQL": store.CheckoutReserveManySQL} {
		if !strings.Contains(src, stmt+"\n        INTO o_checkout_id, o_taken, o_mode;") {
			t.Errorf("checkout_reserve does not run %s as Go has it", name)
		}
	}
}

// The reservation statements keep their generic plan when run over and
// over on one connection, as checkout_reserve runs them (PL/pgSQL caches a
// statement's plan by the same rule as a prepared statement: five custom
// plans, then the generic one unless it is estimated dearer). Here each is
// prepared and run twelve times with a key already taken, which runs the
// whole statement and writes nothing. Fails if an array argument comes into
// the planner's sight again (planned afresh on every execution, 0.75 ms).
func TestCheckoutReservationStatementsKeepTheirGenericPlan(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.DSN(t), store.PoolOptions{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var buyer int64
	if err := db.GetContext(ctx, &buyer, `INSERT INTO users (email, password_hash, handle, display_name)
		VALUES ('p@example.com', 'x', 'planner', 'Planner') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO checkouts (buyer_id, idempotency_key, request_hash, status)
		VALUES ($1, 'taken', 'h', 'PENDING')`, buyer); err != nil {
		t.Fatal(err)
	}
	// $1 to $46 as reserveFast sends them (text, as lib/pq does), for a
	// one-line checkout whose key is taken.
	args := []any{buyer, "taken", "h", 100, "USD", nil, `{"name":"Ana"}`,
		"{1}", "{100}", "{1}", "{NULL}", "{NULL}", "{0}", "{0}",
		"{1}", "{1}", "{1}", "{t}", "{vt}", "{sku}", "{1}", "{100}", "{0}", "{NULL}", "{NULL}", "{0}", "{0}", "{f}",
		"test", "pk", "20000 milliseconds", "{}",
		"{100}", "{NULL}", "{0}", "{NULL}", "{0}", "{0}", "{f}", "{0}", "{NULL}", "{0}", "{0}", "{NULL}",
		"{1}", "{100}"}
	for _, stmt := range []string{store.CheckoutReserveOneSQL, store.CheckoutReserveManySQL} {
		for i := range 12 {
			var checkoutID *int64
			var taken int
			var mode string
			if err := db.QueryRowContext(ctx, stmt, args...).Scan(&checkoutID, &taken, &mode); err != nil {
				t.Fatalf("run %d: %v", i, err)
			}
			if checkoutID != nil || taken != 0 {
				t.Fatalf("run %d wrote checkout %v, took %d: the key was taken", i, *checkoutID, taken)
			}
		}
	}
	var plans []struct {
		Statement string `db:"statement"`
		Generic   int    `db:"generic_plans"`
		Custom    int    `db:"custom_plans"`
	}
	if err := db.SelectContext(ctx, &plans, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE '%INSERT INTO checkouts%' AND statement LIKE '%commit_mode%'`); err != nil {
		t.Fatal(err)
	}
	if len(plans) != 2 {
		t.Fatalf("%d reservation statements prepared, want 2: %+v", len(plans), plans)
	}
	for _, p := range plans {
		if p.Custom > 5 {
			t.Errorf("planned afresh %d times of 12 (generic plan used %d times): %.200s", p.Custom, p.Generic, p.Statement)
		}
	}
}
