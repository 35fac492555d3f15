package store

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Scopes an app may hold.
const (
	ScopeCatalogRead  = "catalog:read"
	ScopeCatalogWrite = "catalog:write"
	ScopeContentRead  = "content:read"
	ScopeContentWrite = "content:write"
	ScopeMetricsRead  = "metrics:read"
	ScopeOrdersRead   = "orders:read"
	ScopeOrdersWrite  = "orders:write"
)

// AllScopes lists every scope.
var AllScopes = []string{ScopeCatalogRead, ScopeCatalogWrite, ScopeContentRead, ScopeContentWrite,
	ScopeMetricsRead, ScopeOrdersRead, ScopeOrdersWrite}

// ValidScope reports whether s is a known scope.
func ValidScope(s string) bool {
	for _, k := range AllScopes {
		if k == s {
			return true
		}
	}
	return false
}

// App is a registered third-party app.
type App struct {
	ID        int64          `db:"id"`
	ClientID  string         `db:"client_id"`
	Name      string         `db:"name"`
	Scopes    pq.StringArray `db:"scopes"`
	ShopID    *int64         `db:"shop_id"`
	CreatedBy int64          `db:"created_by"`
	RevokedAt *time.Time     `db:"revoked_at"`
	CreatedAt time.Time      `db:"created_at"`
}

func (*App) isNode() {}

const appColumns = `id, client_id, name, scopes, shop_id, created_by, revoked_at, created_at`

// NewApp is what createApp stores.
type NewApp struct {
	Name      string
	Scopes    []string
	ShopID    *int64
	CreatedBy int64
}

// Validate checks a new app.
func (in NewApp) Validate() Problems {
	var p Problems
	p.text("name", in.Name, true, 100)
	if len(in.Scopes) == 0 {
		p.add("scopes", ReasonRequired, "an app needs at least one scope")
	}
	for i, s := range in.Scopes {
		if !ValidScope(s) {
			p.add(fmt.Sprintf("scopes.%d", i), "", "unknown scope %q", s)
		}
	}
	return p
}

// CreateApp registers an app and returns it with its secret, shown only now.
func (db *DB) CreateApp(ctx context.Context, in NewApp) (*App, string, error) {
	secret := NewSecret()
	app, err := getOne[App](ctx, db.DB, `INSERT INTO apps (client_id, secret_hash, name, scopes, shop_id, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+appColumns, "app",
		"app_"+NewSecret()[:24], HashSecret(secret), in.Name, pq.Array(in.Scopes), in.ShopID, in.CreatedBy)
	return app, secret, err
}

// AppByID loads an app, revoked or not: one statement, or none when the
// process's ProfileCache (UseProfileCache) read it less than
// SESSION_CACHE_TTL ago and heard of no change to it since.
func (db *DB) AppByID(ctx context.Context, id int64) (*App, error) {
	if c := db.profiles; c != nil && c.sessionTTL > 0 {
		return c.appByID(ctx, db, id)
	}
	return db.appByID(ctx, id)
}

func (db *DB) appByID(ctx context.Context, id int64) (*App, error) {
	return getOne[App](ctx, db.DB, `SELECT `+appColumns+` FROM apps WHERE id = $1`, "app", id)
}

// RotateAppSecret replaces an active app's secret and returns the new one.
func (db *DB) RotateAppSecret(ctx context.Context, id int64) (*App, string, error) {
	secret := NewSecret()
	app, err := getOne[App](ctx, db.DB, `UPDATE apps SET secret_hash = $2 WHERE id = $1 AND revoked_at IS NULL
		RETURNING `+appColumns, "app", id, HashSecret(secret))
	db.profiles.forget('a', id)
	return app, secret, err
}

// RevokeApp stops an app from getting or using tokens: in this process
// before it returns (ProfileCache), in the others when the notification
// arrives.
func (db *DB) RevokeApp(ctx context.Context, id int64) (*App, error) {
	app, err := getOne[App](ctx, db.DB, `UPDATE apps SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
		RETURNING `+appColumns, "app", id)
	db.profiles.forget('a', id)
	return app, err
}

// AuthenticateApp checks client credentials in constant time and returns the
// active app they belong to.
func (db *DB) AuthenticateApp(ctx context.Context, clientID, secret string) (*App, error) {
	var row struct {
		App
		SecretHash string `db:"secret_hash"`
	}
	err := db.GetContext(ctx, &row, `SELECT `+appColumns+`, secret_hash FROM apps WHERE client_id = $1 AND revoked_at IS NULL`, clientID)
	want := row.SecretHash
	if err != nil {
		want = HashSecret("no such app") // keep the comparison's cost the same
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(HashSecret(secret))) != 1 || err != nil {
		return nil, Errorf(EUnauthorized, "invalid client credentials")
	}
	return &row.App, nil
}

// AppsByIDs loads apps by id in one statement.
func (db *DB) AppsByIDs(ctx context.Context, ids []int64) (map[int64]*App, error) {
	var rows []*App
	if err := db.SelectContext(ctx, &rows, `SELECT `+appColumns+` FROM apps WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("apps by ids: %w", err)
	}
	return indexByID(rows, func(a *App) int64 { return a.ID }), nil
}
