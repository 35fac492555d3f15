package storetest_test

import (
	"context"
	"testing"

	"showcase/store"
	"showcase/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestEachTestGetsItsOwnDatabase(t *testing.T) {
	ctx := context.Background()
	a := storetest.NewDB(t)
	b := storetest.NewDB(t)
	if _, err := a.CreateUser(ctx, store.NewUser{Email: "a@example.com", PasswordHash: "x", Handle: "alice", DisplayName: "A"}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.GetContext(ctx, &n, `SELECT count(*) FROM users`); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("second database sees %d users of the first", n)
	}
}

func TestMigrationsAreIdempotent(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := store.Migrate(ctx, db.DB.DB); err != nil {
			t.Fatalf("migrate again (run %d): %v", i+1, err)
		}
	}
	var applied int
	if err := db.GetContext(ctx, &applied, `SELECT count(*) FROM schema_migrations`); err != nil {
		t.Fatal(err)
	}
	if applied != len(ms) {
		t.Fatalf("schema_migrations has %d rows, want %d", applied, len(ms))
	}
}

func TestMigrationsApplyToAnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	admin, err := store.Open(ctx, storetest.AdminDSN(t), store.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS migrate_empty`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE migrate_empty`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.ExecContext(ctx, `DROP DATABASE IF EXISTS migrate_empty WITH (FORCE)`) })
	dsn := replaceDB(storetest.AdminDSN(t), "migrate_empty")
	db, err := store.Open(ctx, dsn, store.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := store.Migrate(ctx, db.DB.DB); err != nil {
		t.Fatalf("migrate empty database: %v", err)
	}
	for _, table := range []string{"users", "shops", "products", "product_variants", "contents", "content_products"} {
		var exists bool
		if err := db.GetContext(ctx, &exists, `SELECT to_regclass($1) IS NOT NULL`, table); err != nil || !exists {
			t.Errorf("table %s missing after migration (err %v)", table, err)
		}
	}
}
