package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"showcase/auth"
	"showcase/graph"
	"showcase/store"
	"showcase/store/payment"
)

// The simulated behaviour: what a person does with a video, by whether its
// topic is one of their hidden interests.
const (
	watchInterestedMin = 0.6  // share of the video watched, at least
	watchBoredMax      = 0.15 // share watched when not interested, at most
	likeProbability    = 0.3  // interested viewers like
	clickProbability   = 0.3  // interested viewers tap the product card
	notInterestedProb  = 0.03 // bored viewers say "not interested"
	buyInterested      = 0.03 // purchase model: per impression
	buyBored           = 0.001
)

// server is the API on loopback, in process, with its event buffer.
type server struct {
	base   string
	db     *store.DB
	events *store.EventBuffer
	tokens *auth.Tokens
	close  func()
	client *http.Client
}

// startServer serves the real GraphQL handler (auth middleware, request
// guard, resolvers) over db on 127.0.0.1, ranking the feed by policy and
// reusing first-page arrangements for store.DefaultFeedRankingTTL, as the
// server does by default.
func startServer(db *store.DB, policy string) (*server, error) {
	tokens, err := auth.NewTokens([]byte(strings.Repeat("s", 32)), 24*time.Hour)
	if err != nil {
		return nil, err
	}
	events := store.NewEventBuffer(db)
	// First pages reuse arrangements as the server's do (FEED_RANKING_TTL).
	rankings := store.NewFeedRankings(store.DefaultFeedRankingTTL)
	events.SetFeedRankings(rankings)
	r := &graph.Resolver{DB: db, Tokens: tokens, Payments: payment.NewTestProvider(db.DB.DB), Events: events,
		FeedWeights: store.DefaultFeedWeights, FeedPolicy: policy, FeedRankings: rankings}
	h := graph.WithRequestID(auth.Middleware(tokens, db, graph.GuardRequests(nil, 0, graph.NewHandler(r))))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &server{base: "http://" + ln.Addr().String(), db: db, events: events, tokens: tokens,
		close: func() { _ = srv.Close() }, client: &http.Client{Timeout: 60 * time.Second}}, nil
}

// gql posts a GraphQL request as token and decodes data into out; errors
// are returned.
func (s *server) gql(ctx context.Context, token, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("%s: HTTP %d: %w", firstLine(query), resp.StatusCode, err)
	}
	if len(env.Errors) > 0 {
		return fmt.Errorf("%s: %s", firstLine(query), env.Errors[0].Message)
	}
	if out != nil {
		return json.Unmarshal(env.Data, out)
	}
	return nil
}

func firstLine(q string) string {
	q, _, _ = strings.Cut(strings.TrimSpace(q), "\n")
	return q
}

func gid(typ string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + strconv.FormatInt(id, 10)))
}

func idOf(g string) int64 {
	raw, _ := base64.RawURLEncoding.DecodeString(g)
	_, n, _ := strings.Cut(string(raw), ":")
	id, _ := strconv.ParseInt(n, 10, 64)
	return id
}

// followMutation finds the follow mutation by introspection: "" when the
// schema has none, else the query to send.
func (s *server) followMutation(ctx context.Context) (string, error) {
	var out struct {
		Schema struct {
			MutationType struct {
				Fields []struct {
					Name string
					Type struct {
						Kind   string
						OfType *struct{ Kind string }
					}
				}
			}
		} `json:"__schema"`
	}
	if err := s.gql(ctx, "", `{ __schema { mutationType { fields { name type { kind ofType { kind } } } } } }`, nil, &out); err != nil {
		return "", err
	}
	for _, f := range out.Schema.MutationType.Fields {
		if f.Name != "follow" {
			continue
		}
		kind := f.Type.Kind
		if kind == "NON_NULL" && f.Type.OfType != nil {
			kind = f.Type.OfType.Kind
		}
		if kind == "SCALAR" || kind == "ENUM" {
			return `mutation($id: ID!) { follow(id: $id) }`, nil
		}
		return `mutation($id: ID!) { follow(id: $id) { __typename } }`, nil
	}
	return "", nil
}

const pageQuery = `query($first: Int, $after: String) { feed(first: $first, after: $after) {
	edges { node { id } } pageInfo { hasNextPage endCursor } } }`

// page reads a feed page: its video ids and the cursor after it.
func (s *server) page(ctx context.Context, token string, first int, after string) ([]int64, string, error) {
	vars := map[string]any{"first": first}
	if after != "" {
		vars["after"] = after
	}
	var out struct {
		Feed struct {
			Edges    []struct{ Node struct{ ID string } }
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
		}
	}
	if err := s.gql(ctx, token, pageQuery, vars, &out); err != nil {
		return nil, "", err
	}
	ids := make([]int64, len(out.Feed.Edges))
	for i, e := range out.Feed.Edges {
		ids[i] = idOf(e.Node.ID)
	}
	next := ""
	if out.Feed.PageInfo.HasNextPage {
		next = out.Feed.PageInfo.EndCursor
	}
	return ids, next, nil
}

// watch plays a page's videos as the person would, given their hidden
// interests, until they have done `until` interactions (one per video
// watched): views with a watch time, likes, product clicks, "not
// interested" and purchases, all through the API. It returns how many
// videos it watched.
func (s *server) watch(ctx context.Context, w *world, u *simUser, ids []int64, until int) (int, error) {
	var events []map[string]any
	watched := 0
	for _, id := range ids {
		if u.done >= until {
			break
		}
		topic, ok := w.topicOf[id]
		if !ok {
			continue // a content the simulator did not make
		}
		u.done++
		watched++
		interested := u.interested(topic)
		share := watchBoredMax * u.rng.Float64()
		if interested {
			share = watchInterestedMin + (1-watchInterestedMin)*u.rng.Float64()
		}
		events = append(events, map[string]any{"type": "VIEW", "contentId": gid("Video", id), "watchMs": int(share * 30000)})
		if !interested && u.rng.Float64() < notInterestedProb {
			events = append(events, map[string]any{"type": "NOT_INTERESTED", "contentId": gid("Video", id)})
		}
		if interested && u.rng.Float64() < clickProbability {
			var product int64
			if err := s.db.GetContext(ctx, &product, `SELECT product_id FROM product_variants WHERE id = $1`, w.variant[id]); err != nil {
				return watched, err
			}
			events = append(events, map[string]any{"type": "PRODUCT_CLICK", "contentId": gid("Video", id), "productId": gid("Product", product)})
		}
		if interested && u.rng.Float64() < likeProbability {
			if err := s.gql(ctx, u.token, `mutation($id: ID!) { likeContent(contentId: $id) { userErrors { code } } }`,
				map[string]any{"id": gid("Video", id)}, nil); err != nil {
				return watched, err
			}
		}
		p := buyBored
		if interested {
			p = buyInterested
		}
		if u.rng.Float64() < p {
			var out struct {
				Checkout struct{ UserErrors []struct{ Message string } }
			}
			err := s.gql(ctx, u.token, `mutation($v: ID!, $c: ID!, $k: String!) { checkout(input: {
				lines: [{ variantId: $v, quantity: 1 }], sourceContentId: $c, idempotencyKey: $k,
				shippingAddress: { name: "Sim", line1: "1 Main St", city: "Springfield", postalCode: "1", countryCode: "US" },
				payment: { token: "tok_ok" } }) { userErrors { message } } }`,
				map[string]any{"v": gid("ProductVariant", w.variant[id]), "c": gid("Video", id),
					"k": fmt.Sprintf("sim-%d-%d-%d", u.id, id, u.done)}, &out)
			if err != nil {
				return watched, err
			}
			if len(out.Checkout.UserErrors) > 0 {
				return watched, fmt.Errorf("checkout: %s", out.Checkout.UserErrors[0].Message)
			}
		}
	}
	if len(events) > 0 {
		var out struct{ RecordEvents struct{ Accepted int } }
		if err := s.gql(ctx, u.token, `mutation($e: [EngagementEventInput!]!) { recordEvents(events: $e) { accepted } }`,
			map[string]any{"e": events}, &out); err != nil {
			return watched, err
		}
	}
	return watched, nil
}

// pageStats are what a measured page says about a policy.
type pageStats struct {
	impressions, relevant, followed int
	expectedGMV                     float64 // cents, under the purchase model
}

func (p *pageStats) add(w *world, u *simUser, ids []int64) {
	for _, id := range ids {
		topic, ok := w.topicOf[id]
		if !ok {
			continue
		}
		p.impressions++
		buy := buyBored
		if u.interested(topic) {
			p.relevant++
			buy = buyInterested
		}
		if u.followed[w.authorOf[id]] {
			p.followed++
		}
		p.expectedGMV += buy * float64(w.price[id])
	}
}

// checkpoint is a policy's measure after some interactions.
type checkpoint struct {
	Interactions int
	Precision    float64 // share of served items in the viewer's hidden interests
	Followed     float64 // share of served items by creators the viewer follows
	Coverage     float64 // distinct items served across the population ÷ catalogue
	GMVPerMille  float64 // dollars per 1,000 impressions under the purchase model
}

// policyResult is one policy's run.
type policyResult struct {
	Policy      string
	Checkpoints []checkpoint
	Follows     bool
	// FreshSeconds are, per probed viewer, the seconds from a new interest's
	// signals until the next page led with it (-1: not within 30 s).
	FreshSeconds []float64
	// Reach is the share of viewers whose next page showed a new video of a
	// topic, among those interested in it and among the others.
	ReachMatching, ReachOthers float64
}

// simulate runs one policy over a fresh database.
func simulate(ctx context.Context, o options, dsn, policy string) (*policyResult, error) {
	db, err := store.Open(ctx, dsn, store.PoolOptions{MaxOpenConns: 8})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := store.Migrate(ctx, db.DB.DB); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0))
	w, err := buildWorld(ctx, db, o, rng)
	if err != nil {
		return nil, fmt.Errorf("build world: %w", err)
	}
	s, err := startServer(db, policy)
	if err != nil {
		return nil, err
	}
	defer s.close()
	res := &policyResult{Policy: policy}
	follow, err := s.followMutation(ctx)
	if err != nil {
		return nil, err
	}
	res.Follows = follow != ""
	for _, u := range w.users {
		if u.token, err = s.tokens.Issue(u.id); err != nil {
			return nil, err
		}
		if follow != "" {
			// Each person follows one creator of a favourite topic.
			var fav []int
			for t := range u.likes {
				fav = append(fav, t)
			}
			slices.Sort(fav)
			creator := w.creators[fav[0]][u.rng.IntN(len(w.creators[fav[0]]))]
			if err := s.gql(ctx, u.token, follow, map[string]any{"id": gid("User", creator)}, nil); err != nil {
				return nil, fmt.Errorf("follow: %w", err)
			}
			u.followed[creator] = true
		}
	}
	for i, at := range o.Checkpoints {
		var stats pageStats
		served := map[int64]bool{}
		for _, u := range w.users {
			ids, next, err := s.page(ctx, u.token, o.Page, "")
			if err != nil {
				return nil, err
			}
			stats.add(w, u, ids)
			for _, id := range ids {
				served[id] = true
			}
			if i+1 == len(o.Checkpoints) {
				continue
			}
			// Then the person scrolls on from that page to the next
			// checkpoint, each page written before the next is asked for
			// (the server's one-second flush, without waiting for it).
			until := o.Checkpoints[i+1]
			for steps := 0; u.done < until && steps < 100; steps++ {
				if _, err := s.watch(ctx, w, u, ids, until); err != nil {
					return nil, err
				}
				if err := s.events.Flush(ctx); err != nil {
					return nil, err
				}
				if u.done >= until {
					break
				}
				if next == "" {
					ids, next, err = s.page(ctx, u.token, o.Page, "")
				} else {
					ids, next, err = s.page(ctx, u.token, o.Page, next)
				}
				if err != nil {
					return nil, err
				}
			}
		}
		cp := checkpoint{Interactions: at, Coverage: float64(len(served)) / float64(w.videos)}
		if stats.impressions > 0 {
			cp.Precision = float64(stats.relevant) / float64(stats.impressions)
			cp.Followed = float64(stats.followed) / float64(stats.impressions)
			cp.GMVPerMille = stats.expectedGMV / float64(stats.impressions) * 1000 / 100
		}
		res.Checkpoints = append(res.Checkpoints, cp)
	}
	if err := s.freshInterest(ctx, o, w, res); err != nil {
		return nil, fmt.Errorf("fresh interest: %w", err)
	}
	if err := s.newContentReach(ctx, o, w, res); err != nil {
		return nil, fmt.Errorf("new content: %w", err)
	}
	return res, nil
}

// freshInterest measures how long a new interest takes to show in the next
// page: a person shares and watches through three videos of the topic they
// never cared for that their next page held least of, and asks for the
// next page of their walk (the same cursor) until it holds more videos of
// that topic than before, with the server's one-second
// flush running in the background.
func (s *server) freshInterest(ctx context.Context, o options, w *world, res *policyResult) error {
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.events.Run(runCtx, time.Second) }()
	defer func() { stop(); <-done }()
	for _, u := range w.users[:min(o.Probes, len(w.users))] {
		_, cursor, err := s.page(ctx, u.token, o.Page, "")
		if err != nil {
			return err
		}
		// The topic the person never cared for that is scarcest in their
		// next page as it stands.
		peek, _, err := s.page(ctx, u.token, o.Page, cursor)
		if err != nil {
			return err
		}
		topic, before := -1, len(peek)+1
		for t := range w.topics {
			n := 0
			for _, id := range peek {
				if tp, ok := w.topicOf[id]; ok && tp == t {
					n++
				}
			}
			if !u.likes[t] && n < before {
				topic, before = t, n
			}
		}
		if topic < 0 {
			continue
		}
		var picks []int64
		for id, t := range w.topicOf {
			if t == topic {
				picks = append(picks, id)
			}
		}
		slices.Sort(picks)
		var events []map[string]any
		for _, id := range picks[:3] {
			events = append(events, map[string]any{"type": "VIEW", "contentId": gid("Video", id), "watchMs": 30000},
				map[string]any{"type": "SHARE", "contentId": gid("Video", id)})
		}
		if err := s.gql(ctx, u.token, `mutation($e: [EngagementEventInput!]!) { recordEvents(events: $e) { accepted } }`,
			map[string]any{"e": events}, nil); err != nil {
			return err
		}
		start := time.Now()
		took := -1.0
		for time.Since(start) < 30*time.Second {
			ids, _, err := s.page(ctx, u.token, o.Page, cursor)
			if err != nil {
				return err
			}
			n := 0
			for _, id := range ids {
				if t, ok := w.topicOf[id]; ok && t == topic && !slices.Contains(picks[:3], id) {
					n++
				}
			}
			if n > before {
				took = time.Since(start).Seconds()
				break
			}
			time.Sleep(100 * time.Millisecond) // the polling interval
		}
		res.FreshSeconds = append(res.FreshSeconds, took)
	}
	return nil
}

// newContentReach publishes new videos of the first topic and asks every
// person for a first page: the share who see one, among those interested
// in the topic and among the others.
func (s *server) newContentReach(ctx context.Context, o options, w *world, res *policyResult) error {
	if err := s.events.Flush(ctx); err != nil {
		return err
	}
	fresh, err := w.publishFresh(ctx, s.db, 0, 3)
	if err != nil {
		return err
	}
	var matching, matched, others, reachedOthers int
	for _, u := range w.users {
		ids, _, err := s.page(ctx, u.token, o.Page, "")
		if err != nil {
			return err
		}
		hit := false
		for _, id := range ids {
			hit = hit || slices.Contains(fresh, id)
		}
		if u.likes[0] {
			matching++
			if hit {
				matched++
			}
		} else {
			others++
			if hit {
				reachedOthers++
			}
		}
	}
	if matching > 0 {
		res.ReachMatching = float64(matched) / float64(matching)
	}
	if others > 0 {
		res.ReachOthers = float64(reachedOthers) / float64(others)
	}
	return nil
}
