// Package storetest gives each test its own freshly migrated PostgreSQL
// database, cloned from a template so that it costs milliseconds. The server
// is DATABASE_URL when set, else a throwaway cluster this process starts.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/peterldowns/pgtestdb"

	"showcase/store"
	"showcase/store/pgcluster"
)

var (
	adminOnce   sync.Once
	adminConfig pgtestdb.Config
	adminErr    error
	cluster     *pgcluster.Cluster
	clusterDir  string
)

// Main runs a package's tests and then stops the throwaway cluster, if one
// was started. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "storetest:", err)
		}
		os.RemoveAll(clusterDir)
	}
	os.Exit(code)
}

// AdminDSN returns a superuser URL of the test server's "postgres" database,
// for tests that must act on the server itself.
func AdminDSN(t testing.TB) string {
	t.Helper()
	conf := admin(t)
	return conf.URL()
}

// DSN returns the URL of a new, migrated database for this test only.
func DSN(t testing.TB) string {
	t.Helper()
	conf := pgtestdb.Custom(t, admin(t), migrator{})
	return conf.URL()
}

// NewDB opens a new, migrated database for this test only.
func NewDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), DSN(t), store.PoolOptions{MaxOpenConns: 20})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func admin(t testing.TB) pgtestdb.Config {
	t.Helper()
	adminOnce.Do(func() { adminConfig, adminErr = startAdmin() })
	if adminErr != nil {
		t.Fatalf("test database server: %v", adminErr)
	}
	return adminConfig
}

func startAdmin() (pgtestdb.Config, error) {
	if dsn := os.Getenv("DATABASE_URL"); dsn != "" {
		return configFromURL(dsn)
	}
	dir, err := os.MkdirTemp("", "showcase-testpg-")
	if err != nil {
		return pgtestdb.Config{}, err
	}
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: dir, Ephemeral: true})
	if err != nil {
		os.RemoveAll(dir)
		return pgtestdb.Config{}, err
	}
	cluster, clusterDir = c, dir
	return configFromURL(c.DSN("postgres"))
}

func configFromURL(dsn string) (pgtestdb.Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return pgtestdb.Config{}, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pw, _ := u.User.Password()
	db := u.Path
	if len(db) > 0 && db[0] == '/' {
		db = db[1:]
	}
	if db == "" {
		db = "postgres"
	}
	opts := u.Query()
	if opts.Get("sslmode") == "" {
		opts.Set("sslmode", "disable")
	}
	return pgtestdb.Config{
		DriverName:                "postgres",
		Host:                      u.Hostname(),
		Port:                      u.Port(),
		User:                      u.User.Username(),
		Password:                  pw,
		Database:                  db,
		Options:                   opts.Encode(),
		ForceTerminateConnections: true,
	}, nil
}

// migrator builds the template database with the application's migrations.
type migrator struct{}

func (migrator) Hash() (string, error) { return store.MigrationsHash() }

func (migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	return store.Migrate(ctx, db)
}
