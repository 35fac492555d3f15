package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"showcase/store"
	"showcase/store/pgcluster"
)

// embeddedDBName is the database the embedded cluster serves.
const embeddedDBName = "showcase"

// openDatabase connects to DATABASE_URL, or starts the embedded cluster when
// none is given. stop releases whatever was started.
func openDatabase(ctx context.Context, cfg config) (db *store.DB, dsn string, embedded bool, stop func(), err error) {
	dsn = cfg.DatabaseURL
	stop = func() {}
	if dsn == "" {
		embedded = true
		dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "postgres"))
		if err != nil {
			return nil, "", false, stop, err
		}
		slog.Info("starting embedded PostgreSQL", "dir", dir)
		cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir})
		if err != nil {
			return nil, "", false, stop, fmt.Errorf("embedded database: %w", err)
		}
		stop = func() {
			if err := cluster.Stop(); err != nil {
				slog.Error("stop embedded PostgreSQL", "err", err)
			}
		}
		if err := cluster.CreateDatabase(ctx, embeddedDBName); err != nil {
			stop()
			return nil, "", false, func() {}, err
		}
		dsn = cluster.DSN(embeddedDBName)
	}
	db, err = store.Open(ctx, dsn, store.PoolOptions{MaxOpenConns: cfg.DBMaxConns})
	if err != nil {
		stop()
		return nil, "", false, func() {}, err
	}
	stopCluster := stop
	closeAll := func() {
		db.Close()
		stopCluster()
	}
	if err := store.Migrate(ctx, db.DB.DB); err != nil {
		closeAll()
		return nil, "", false, func() {}, err
	}
	return db, dsn, embedded, closeAll, nil
}
