package demo

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/lib/pq"
)

// TopCreatorFollowers is the TOP_CREATORS threshold `make run` sets for
// the demo data (the Makefile passes it as TOP_CREATOR_FOLLOWERS): the demo
// has 60 people, so real follower counts stay under 60, and with the
// production default (DefaultTopCreatorFollowers) no demo creator would be
// a top creator. With it, the few creators who sell the most are.
const TopCreatorFollowers = 25

// follows writes real follows rows: every person follows two to seven
// creators, drawn by popularity (creators ranked by the affiliate sales the
// history gave them, the first far ahead), and one to three shops, none of
// their own; then sets every follower count from the rows (the follows
// trigger is off when a superuser seeds). It runs after the history, whose
// sales it ranks by, and draws from its own random source, so the rest of
// the dataset is the same with or without it.
func (s *seeder) follows() error {
	rng := rand.New(rand.NewPCG(uint64(s.opts.Seed), 0xf0110))
	var ranked []int64
	if err := s.tx.SelectContext(s.ctx, &ranked, `SELECT c.id FROM unnest($1::bigint[]) AS c(id)
		LEFT JOIN (SELECT creator_id, count(*) AS n FROM order_lines WHERE creator_id IS NOT NULL GROUP BY 1) l ON l.creator_id = c.id
		ORDER BY coalesce(l.n, 0) DESC, c.id`, pq.Array(s.creators)); err != nil {
		return err
	}
	weights := make([]float64, len(ranked))
	for r := range ranked {
		weights[r] = 1 / math.Pow(float64(r+1), 1.2)
	}
	type follow struct {
		follower, creator, shop int64
		at                      time.Time
	}
	var rows []follow
	at := func() time.Time {
		return s.now.Add(-time.Duration(rng.Int64N(int64(60 * 24 * time.Hour)))).Truncate(time.Microsecond)
	}
	for u := int64(1); u <= int64(s.opts.Users); u++ {
		taken := map[int]bool{}
		for n := 2 + rng.IntN(6); n > 0; n-- {
			total := 0.0
			for r, id := range ranked {
				if !taken[r] && id != u {
					total += weights[r]
				}
			}
			if total == 0 {
				break
			}
			x := rng.Float64() * total
			for r, id := range ranked {
				if taken[r] || id == u {
					continue
				}
				if x -= weights[r]; x < 0 || r == len(ranked)-1 {
					taken[r] = true
					rows = append(rows, follow{follower: u, creator: id, at: at()})
					break
				}
			}
		}
		shops := map[int]bool{}
		for n := 1 + rng.IntN(3); n > 0; n-- {
			i := rng.IntN(len(s.shopOwner))
			if shops[i] || s.shopOwner[i] == u {
				continue
			}
			shops[i] = true
			rows = append(rows, follow{follower: u, shop: int64(i + 1), at: at()})
		}
	}
	nullable := func(id int64) any {
		if id == 0 {
			return nil
		}
		return id
	}
	err := s.copyRows("follows", "follows", []string{"follower_id", "creator_id", "shop_id", "created_at"}, len(rows), func(i int) []any {
		f := rows[i]
		return []any{f.follower, nullable(f.creator), nullable(f.shop), f.at}
	})
	if err != nil {
		return err
	}
	if _, err := s.tx.ExecContext(s.ctx, `UPDATE users u SET follower_count = (SELECT count(*) FROM follows f WHERE f.creator_id = u.id)`); err != nil {
		return err
	}
	_, err = s.tx.ExecContext(s.ctx, `UPDATE shops s SET follower_count = (SELECT count(*) FROM follows f WHERE f.shop_id = s.id)`)
	return err
}
