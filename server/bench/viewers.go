package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"showcase/auth"
	"showcase/store"
)

// benchJWTSecret signs the server's tokens in a benchmark run, so that the
// load generator can issue tokens for many viewers without logging each in.
const benchJWTSecret = "showcase-bench-secret-0123456789abcdef"

// manyViewers is how many signed-in viewers the many-viewers feed scenario
// spreads its requests over: more than a run's requests at the feed's
// executed rate, so that (almost) every first page is a viewer's first
// within FEED_RANKING_TTL and ranks.
const manyViewers = 500

// learnViewers teaches n people's interest profiles through the store's own
// learning path (events and signals flushed by an EventBuffer, as the API
// does): each views (to the end) 20 contents and likes 5 of them, drawn from
// three shops and two creators of their own, so that their profiles carry
// tag, category, creator and shop affinities and co-engagement. It returns
// a token for each person (deterministic: seed 7).
func (e *environment) learnViewers(ctx context.Context, n int) ([]string, error) {
	var users []int64
	if err := e.db.SelectContext(ctx, &users, `SELECT id FROM users WHERE email <> ALL($1) ORDER BY id LIMIT $2`,
		[]string{"seller@showcase.dev", "admin@showcase.dev"}, n); err != nil {
		return nil, err
	}
	var contents []struct {
		ID     int64 `db:"id"`
		Author int64 `db:"author_id"`
		Shop   int64 `db:"shop_id"`
	}
	if err := e.db.SelectContext(ctx, &contents, `SELECT id, author_id, coalesce(shop_id, 0) AS shop_id FROM contents
		WHERE kind = 'VIDEO' ORDER BY id`); err != nil {
		return nil, err
	}
	if len(contents) == 0 {
		return nil, fmt.Errorf("learn viewers: no videos")
	}
	byShop, byAuthor := map[int64][]int64{}, map[int64][]int64{}
	var shops, authors []int64
	for _, c := range contents {
		if len(byShop[c.Shop]) == 0 {
			shops = append(shops, c.Shop)
		}
		if len(byAuthor[c.Author]) == 0 {
			authors = append(authors, c.Author)
		}
		byShop[c.Shop] = append(byShop[c.Shop], c.ID)
		byAuthor[c.Author] = append(byAuthor[c.Author], c.ID)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	pick := func(ids []int64) int64 { return ids[rng.IntN(len(ids))] }
	buf := store.NewEventBuffer(e.db)
	now := time.Now()
	for _, u := range users {
		viewer := store.UserProfile(u)
		var seen []int64
		for i := 0; i < 20; i++ {
			var id int64
			if i%5 < 3 {
				id = pick(byShop[shops[(int(u)+i%5*7)%len(shops)]])
			} else {
				id = pick(byAuthor[authors[(int(u)*13+i%5)%len(authors)]])
			}
			seen = append(seen, id)
			buf.Add([]store.Event{{Type: store.EventView, ContentID: id, WatchMs: 3_600_000, At: now, Viewer: viewer}})
		}
		for _, id := range seen[:5] {
			buf.AddSignal(store.Signal{Profile: viewer, ContentID: id, Weight: store.DefaultForYouSettings.Like})
		}
	}
	if err := buf.Flush(ctx); err != nil {
		return nil, fmt.Errorf("learn viewers: %w", err)
	}
	tokens, err := auth.NewTokens([]byte(benchJWTSecret), time.Hour)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(users))
	for i, u := range users {
		if out[i], err = tokens.Issue(u); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// eachViewer asks query as tokens[i % len(tokens)] for the i-th request.
func eachViewer(base string, tokens []string, query string) request {
	return func(i int64) (*http.Request, error) {
		return graphqlRequest(base, tokens[i%int64(len(tokens))], query, nil)
	}
}
