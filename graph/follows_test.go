package graph_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"showcase/graph"
	"showcase/store"
)

const followMutation = `mutation($id: ID!) { follow(id: $id) {
	node { __typename ... on User { id handle followerCount } ... on Shop { id handle followerCount } }
	viewerFollows userErrors { field code message } } }`

const unfollowMutation = `mutation($id: ID!) { unfollow(id: $id) {
	node { __typename ... on User { id handle followerCount } ... on Shop { id handle followerCount } }
	viewerFollows userErrors { field code message } } }`

type followOut struct {
	Node *struct {
		Typename      string `json:"__typename"`
		ID            string
		Handle        string
		FollowerCount int
	}
	ViewerFollows bool
	UserErrors    []userError
}

// gid is the global ID of a row, as the API spells it.
func gid(typeName string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%s:%d", typeName, id)))
}

// follow calls follow (on) or unfollow as token and returns the payload.
func (a *testAPI) follow(token, id string, on bool) followOut {
	a.t.Helper()
	var out struct{ Follow, Unfollow followOut }
	m := followMutation
	if !on {
		m = unfollowMutation
	}
	a.ok(token, m, map[string]any{"id": id}, &out)
	if on {
		return out.Follow
	}
	return out.Unfollow
}

// followRows counts the follows rows, the truth the counts must equal.
func (a *testAPI) followRows(where string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.db.Get(&n, `SELECT count(*) FROM follows WHERE `+where, args...); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// Following twice counts once; unfollowing twice leaves nothing; the payload
// shows the node with its live count, and User.followerCount, Shop.followerCount
// and the lists agree with it.
func TestFollowIsIdempotent(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("glow")
	fan, fanUser := a.user("fan", false)
	_, kol := a.user("kol", true)
	kolID := gid("User", kol.ID)

	for i := 0; i < 2; i++ {
		out := a.follow(fan, kolID, true)
		if len(out.UserErrors) > 0 || out.Node == nil || out.Node.Typename != "User" || out.Node.FollowerCount != 1 || !out.ViewerFollows {
			t.Fatalf("follow #%d = %+v", i+1, out)
		}
		out = a.follow(fan, f.shopID, true)
		if len(out.UserErrors) > 0 || out.Node == nil || out.Node.Typename != "Shop" || out.Node.FollowerCount != 1 || !out.ViewerFollows {
			t.Fatalf("follow shop #%d = %+v", i+1, out)
		}
	}
	if n := a.followRows(`follower_id = $1`, fanUser.ID); n != 2 {
		t.Fatalf("%d follows rows after following a creator and a shop twice each", n)
	}
	viewerFollows := func(token string) [2]bool {
		var out struct {
			U, S struct{ ViewerFollows bool }
		}
		a.ok(token, `query($u: ID!, $s: ID!) { u: node(id: $u) { ... on User { viewerFollows } } s: node(id: $s) { ... on Shop { viewerFollows } } }`,
			map[string]any{"u": kolID, "s": f.shopID}, &out)
		return [2]bool{out.U.ViewerFollows, out.S.ViewerFollows}
	}
	if got := viewerFollows(fan); got != [2]bool{true, true} {
		t.Fatalf("the fan's viewerFollows = %v", got)
	}
	if got := viewerFollows(""); got != [2]bool{false, false} {
		t.Fatalf("anonymous viewerFollows = %v", got)
	}
	var lists struct {
		User struct {
			FollowerCount int
			Followers     struct {
				Edges []struct {
					Node       struct{ Handle string }
					FollowedAt string
				}
			}
		}
		Fan struct {
			Following struct {
				Edges []struct {
					Node struct {
						Typename string `json:"__typename"`
						ID       string
					}
				}
			}
		}
		Shop struct{ FollowerCount int }
	}
	q := `query($kol: ID!, $fan: ID!, $shop: ID!) {
		user: node(id: $kol) { ... on User { followerCount followers(first: 10) { edges { node { handle } followedAt } } } }
		fan: node(id: $fan) { ... on User { following(first: 10) { edges { node { __typename ... on User { id } ... on Shop { id } } } } } }
		shop: node(id: $shop) { ... on Shop { followerCount } } }`
	vars := map[string]any{"kol": kolID, "fan": gid("User", fanUser.ID), "shop": f.shopID}
	a.ok("", q, vars, &lists)
	if lists.User.FollowerCount != 1 || len(lists.User.Followers.Edges) != 1 || lists.User.Followers.Edges[0].Node.Handle != "fan" ||
		lists.User.Followers.Edges[0].FollowedAt == "" || lists.Shop.FollowerCount != 1 || len(lists.Fan.Following.Edges) != 2 {
		t.Fatalf("after following: %+v", lists)
	}

	for i := 0; i < 2; i++ {
		out := a.follow(fan, kolID, false)
		if len(out.UserErrors) > 0 || out.Node == nil || out.Node.FollowerCount != 0 || out.ViewerFollows {
			t.Fatalf("unfollow #%d = %+v", i+1, out)
		}
		out = a.follow(fan, f.shopID, false)
		if len(out.UserErrors) > 0 || out.Node == nil || out.Node.FollowerCount != 0 || out.ViewerFollows {
			t.Fatalf("unfollow shop #%d = %+v", i+1, out)
		}
	}
	if n := a.followRows(`follower_id = $1`, fanUser.ID); n != 0 {
		t.Fatalf("%d follows rows after unfollowing", n)
	}
	if got := viewerFollows(fan); got != [2]bool{false, false} {
		t.Fatalf("the fan's viewerFollows after unfollowing = %v", got)
	}
	a.ok("", q, vars, &lists)
	if lists.User.FollowerCount != 0 || len(lists.User.Followers.Edges) != 0 || lists.Shop.FollowerCount != 0 || len(lists.Fan.Following.Edges) != 0 {
		t.Fatalf("after unfollowing: %+v", lists)
	}
}

// Following oneself, one's own shop, a person who is not a creator, or
// something that is not a creator or shop is refused with a stable code, and
// nothing is written.
func TestFollowRefusals(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("glow") // the seller owns the shop
	kol, kolUser := a.user("kol", true)
	_, buyer := a.user("buyer", false)

	cases := []struct {
		name, token, id, code string
	}{
		{"Self", kol, gid("User", kolUser.ID), "CANNOT_FOLLOW_SELF"},
		{"OwnShop", f.sellerToken, f.shopID, "CANNOT_FOLLOW_SELF"},
		{"NotACreator", kol, gid("User", buyer.ID), "NOT_FOLLOWABLE"},
		{"AProduct", kol, f.productID, "NOT_FOLLOWABLE"},
		{"UnknownUser", kol, gid("User", 999999), "NOT_FOUND"},
		{"UnknownShop", kol, gid("Shop", 999999), "NOT_FOUND"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := a.follow(c.token, c.id, true)
			if out.Node != nil || out.ViewerFollows || len(out.UserErrors) != 1 || out.UserErrors[0].Code != c.code ||
				strings.Join(out.UserErrors[0].Field, ".") != "id" {
				t.Fatalf("follow = %+v, want %s at id", out, c.code)
			}
		})
	}
	t.Run("Malformed", func(t *testing.T) {
		resp := a.post(kol, followMutation, map[string]any{"id": "not-an-id"})
		if resp.code() != "BAD_USER_INPUT" {
			t.Fatalf("errors = %+v", resp.Errors)
		}
	})
	if n := a.followRows(`true`); n != 0 {
		t.Fatalf("%d follows rows written by refused follows", n)
	}
	var counts int
	if err := a.db.Get(&counts, `SELECT (SELECT coalesce(sum(follower_count), 0) FROM users) + (SELECT coalesce(sum(follower_count), 0) FROM shops)`); err != nil || counts != 0 {
		t.Fatalf("follower counts sum to %d after refusals (err %v)", counts, err)
	}
}

// Anonymous callers cannot follow or read a FOLLOWING feed; app tokens, with
// any scopes, cannot either (whom a person follows is theirs, as a like is);
// the lists and counts are public, to apps too with a read scope.
func TestFollowAccess(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("glow")
	_, kol := a.user("kol", true)
	kolID := gid("User", kol.ID)
	app, _ := a.appToken(f.sellerToken, f.shopID, store.AllScopes)

	for _, m := range []string{followMutation, unfollowMutation} {
		if resp := a.post("", m, map[string]any{"id": kolID}); resp.code() != "UNAUTHENTICATED" {
			t.Errorf("anonymous: %+v", resp.Errors)
		}
		if resp := a.post(app, m, map[string]any{"id": kolID}); resp.code() != "FORBIDDEN" {
			t.Errorf("app with every scope: %+v", resp.Errors)
		}
	}
	if n := a.followRows(`true`); n != 0 {
		t.Fatalf("%d follows rows written", n)
	}
	feed := `{ feed(kind: FOLLOWING) { edges { node { id } } } }`
	if resp := a.post("", feed, nil); resp.code() != "UNAUTHENTICATED" {
		t.Errorf("anonymous FOLLOWING feed: %+v", resp.Errors)
	}
	if resp := a.post(app, feed, nil); resp.code() != "FORBIDDEN" {
		t.Errorf("app FOLLOWING feed: %+v", resp.Errors)
	}
	noScope, _ := a.appToken(f.sellerToken, f.shopID, []string{"orders:write"})
	if resp := a.post(noScope, feed, nil); resp.code() != "FORBIDDEN" {
		t.Errorf("app without content:read, FOLLOWING feed: %+v", resp.Errors)
	}
	// The FOR_YOU feed is unchanged for them.
	a.ok("", `{ feed(kind: FOR_YOU, first: 1) { edges { node { id } } } }`, nil, nil)
	a.ok(app, `{ feed(first: 1) { edges { node { id } } } }`, nil, nil)

	fan, _ := a.user("fan", false)
	a.follow(fan, kolID, true)
	var out struct {
		Node struct {
			FollowerCount int
			Followers     struct {
				Edges []struct{ Node struct{ Handle string } }
			}
		}
	}
	q := `query($id: ID!) { node(id: $id) { ... on User { followerCount followers { edges { node { handle } } } } } }`
	for name, token := range map[string]string{"anonymous": "", "app": app} {
		a.ok(token, q, map[string]any{"id": kolID}, &out)
		if out.Node.FollowerCount != 1 || len(out.Node.Followers.Edges) != 1 {
			t.Errorf("%s reads %+v", name, out)
		}
	}
}

// Many people following (and some unfollowing) one creator and one shop at
// once, over real HTTP connections, leave counts equal to the rows.
func TestFollowerCountIsExactUnderConcurrency(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("glow")
	_, kol := a.user("kol", true)
	kolID := gid("User", kol.ID)
	srv := httptest.NewServer(a.handler)
	defer srv.Close()

	const fans = 40
	tokens := make([]string, fans)
	for i := range tokens {
		tokens[i], _ = a.user(fmt.Sprintf("fan%02d", i), false)
	}
	send := func(token, query, id string) error {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"id": id}})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		var resp gqlResponse
		if err := json.NewDecoder(res.Body).Decode(&resp); err != nil {
			return err
		}
		if len(resp.Errors) > 0 || bytes.Contains(resp.Data, []byte(`"code"`)) {
			return fmt.Errorf("%s: %+v %s", query[:20], resp.Errors, resp.Data)
		}
		return nil
	}
	run := func(jobs []func() error) {
		var wg sync.WaitGroup
		errs := make(chan error, len(jobs))
		for _, job := range jobs {
			wg.Add(1)
			go func() { defer wg.Done(); errs <- job() }()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// Every fan follows both twice at once.
	var jobs []func() error
	for _, tok := range tokens {
		for _, id := range []string{kolID, f.shopID, kolID, f.shopID} {
			jobs = append(jobs, func() error { return send(tok, followMutation, id) })
		}
	}
	run(jobs)
	counts := func() (user, shop int) {
		var out struct {
			U struct{ FollowerCount int }
			S struct{ FollowerCount int }
		}
		a.ok("", `query($u: ID!, $s: ID!) { u: node(id: $u) { ... on User { followerCount } } s: node(id: $s) { ... on Shop { followerCount } } }`,
			map[string]any{"u": kolID, "s": f.shopID}, &out)
		return out.U.FollowerCount, out.S.FollowerCount
	}
	if u, s := counts(); u != fans || s != fans || a.followRows(`creator_id = $1`, kol.ID) != fans {
		t.Fatalf("after %d fans followed twice at once: creator %d, shop %d", fans, u, s)
	}
	// Half unfollow (twice at once) while the other half follow again.
	jobs = nil
	for i, tok := range tokens {
		q := followMutation
		if i%2 == 0 {
			q = unfollowMutation
		}
		for _, id := range []string{kolID, f.shopID, kolID, f.shopID} {
			jobs = append(jobs, func() error { return send(tok, q, id) })
		}
	}
	run(jobs)
	u, s := counts()
	if u != fans/2 || s != fans/2 || a.followRows(`creator_id = $1`, kol.ID) != fans/2 || a.followRows(`shop_id = $1`, mustID(t, f.shopID)) != fans/2 {
		t.Fatalf("after half unfollowed: creator %d, shop %d, want %d", u, s, fans/2)
	}
}

type followWalkPage struct {
	Edges []struct {
		Cursor string
		Node   struct {
			Typename string `json:"__typename"`
			ID       string
			Handle   string
		}
	}
	PageInfo struct {
		HasNextPage bool
		EndCursor   string
	}
}

// Walking followers and following, newest first, while follows are added
// and removed between pages: nothing repeats, nothing that stayed is
// skipped, and ties on the follow time are broken by the other side's id.
func TestFollowListsPageExactlyUnderChange(t *testing.T) {
	// Statements are counted below: a loader's window no busy machine
	// overruns (with the default 2 ms, ten tries in a row split under CI's load).
	a := newTestAPIWith(t, countingStatements)
	_, kol := a.user("kol", true)
	kolID := gid("User", kol.ID)
	fanToken, fan := a.user("fan", false)

	// 12 followers of kol; the last 6 are then given one same, older follow time.
	tokens := map[string]string{}
	for i := 0; i < 12; i++ {
		h := fmt.Sprintf("f%02d", i)
		tok, _ := a.user(h, false)
		tokens[h] = tok
		a.follow(tok, kolID, true)
	}
	if _, err := a.db.Exec(`UPDATE follows SET created_at = now() - interval '1 day' WHERE creator_id = $1 AND follower_id IN
		(SELECT id FROM users WHERE handle BETWEEN 'f06' AND 'f11')`, kol.ID); err != nil {
		t.Fatal(err)
	}
	walk := func(q string, vars map[string]any, pick func(json.RawMessage) followWalkPage, between func(page int, seen []string)) []string {
		var seen []string
		after := any(nil)
		for page := 0; page < 20; page++ {
			v := map[string]any{"after": after}
			for k, x := range vars {
				v[k] = x
			}
			var raw json.RawMessage
			a.ok(fanToken, q, v, &raw)
			p := pick(raw)
			for _, e := range p.Edges {
				seen = append(seen, e.Node.Handle+e.Node.ID)
			}
			if !p.PageInfo.HasNextPage {
				return seen
			}
			after = p.PageInfo.EndCursor
			between(page, seen)
		}
		t.Fatal("the walk did not end")
		return nil
	}
	followersQ := `query($id: ID!, $after: String) { node(id: $id) { ... on User { followers(first: 4, after: $after) {
		edges { cursor node { handle } } pageInfo { hasNextPage endCursor } } } } }`
	pickFollowers := func(raw json.RawMessage) followWalkPage {
		var out struct {
			Node struct{ Followers followWalkPage }
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return out.Node.Followers
	}
	// Newest first: f05..f00 followed one after the other, then f06..f11 tied at an older time, by id descending.
	want := []string{"f05", "f04", "f03", "f02", "f01", "f00", "f11", "f10", "f09", "f08", "f07", "f06"}
	if got := walk(followersQ, map[string]any{"id": kolID}, pickFollowers, func(int, []string) {}); !slices.Equal(got, want) {
		t.Fatalf("followers walk = %v, want %v", got, want)
	}
	// During a walk: after page 1, an unseen follower (f09) and a seen one (f04) unfollow and a new one
	// follows (newest: before the cursor); after page 2, one seen earlier (f05) unfollows and follows again.
	got := walk(followersQ, map[string]any{"id": kolID}, pickFollowers, func(page int, seen []string) {
		switch page {
		case 0:
			a.follow(tokens["f09"], kolID, false)
			a.follow(tokens["f04"], kolID, false)
			late, _ := a.user("late", false)
			a.follow(late, kolID, true)
		case 1:
			a.follow(tokens["f05"], kolID, false)
			a.follow(tokens["f05"], kolID, true)
		}
	})
	want = []string{"f05", "f04", "f03", "f02", "f01", "f00", "f11", "f10", "f08", "f07", "f06"}
	if !slices.Equal(got, want) {
		t.Fatalf("followers walk under change = %v, want %v", got, want)
	}

	// following: creators and shops mixed, all followed in one microsecond.
	var shopIDs, creatorIDs []string
	for i := 0; i < 4; i++ {
		seller, _ := a.user(fmt.Sprintf("seller%d", i), false)
		shopIDs = append(shopIDs, a.shop(seller, fmt.Sprintf("shop%d", i)))
		_, c := a.user(fmt.Sprintf("c%d", i), true)
		creatorIDs = append(creatorIDs, gid("User", c.ID))
	}
	for _, id := range append(append([]string{}, shopIDs...), creatorIDs...) {
		a.follow(fanToken, id, true)
	}
	if _, err := a.db.Exec(`UPDATE follows SET created_at = now() - interval '1 day' WHERE follower_id = $1`, fan.ID); err != nil {
		t.Fatal(err)
	}
	followingQ := `query($id: ID!, $after: String) { node(id: $id) { ... on User { following(first: 3, after: $after) {
		edges { cursor node { __typename ... on User { id } ... on Shop { id } } } pageInfo { hasNextPage endCursor } } } } }`
	pickFollowing := func(raw json.RawMessage) followWalkPage {
		var out struct {
			Node struct{ Following followWalkPage }
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return out.Node.Following
	}
	// Shops first (kind 1 before 0, descending), each by id descending.
	want = []string{shopIDs[3], shopIDs[2], shopIDs[1], shopIDs[0], creatorIDs[3], creatorIDs[2], creatorIDs[1], creatorIDs[0]}
	got = walk(followingQ, map[string]any{"id": gid("User", fan.ID)}, pickFollowing, func(page int, seen []string) {
		if page == 0 { // a seen shop and an unseen creator are unfollowed, a new creator followed
			a.follow(fanToken, shopIDs[3], false)
			a.follow(fanToken, creatorIDs[1], false)
			_, c := a.user("c9", true)
			a.follow(fanToken, gid("User", c.ID), true)
		}
	})
	want = slices.DeleteFunc(want, func(s string) bool { return s == creatorIDs[1] })
	if !slices.Equal(got, want) {
		t.Fatalf("following walk under change = %v, want %v", got, want)
	}
	// Batch-loaded: the followed creators' and shops' own followers cost the same for 2 (c9 and a shop) or all 7.
	nested := `query($id: ID!, $first: Int) { node(id: $id) { ... on User { following(first: $first) { edges { node {
		... on User { handle followerCount viewerFollows followers(first: 5) { edges { node { handle viewerFollows } } } }
		... on Shop { name followerCount viewerFollows followers(first: 5) { edges { node { handle } } } } } } } } } }`
	a.ok(fanToken, nested, map[string]any{"id": gid("User", fan.ID), "first": 2}, nil)
	small := a.statements.Load()
	a.ok(fanToken, nested, map[string]any{"id": gid("User", fan.ID), "first": 7}, nil)
	if big := a.statements.Load(); big != small {
		t.Fatalf("statements: following(first: 2) → %d, following(first: 7) → %d", small, big)
	}
	if resp := a.post(fanToken, followersQ, map[string]any{"id": kolID, "after": "bm90LWEtY3Vyc29y"}); resp.code() != "BAD_USER_INPUT" {
		t.Fatalf("a forged cursor: %+v", resp.Errors)
	}
	if resp := a.post(fanToken, `{ viewer { followers(first: 101) { edges { cursor } } } }`, nil); resp.code() != "BAD_USER_INPUT" {
		t.Fatalf("first: 101: %+v", resp.Errors)
	}
}

// The FOLLOWING feed lists followed creators' content and followed shops'
// content (content carrying their products), newest first, once each, and
// nothing else; paging is exact while content is published and follows
// change during the walk; new content shows on the next walk.
func TestFollowingFeed(t *testing.T) {
	a := newTestAPI(t)
	followed := a.fixture("glow")   // a followed shop
	other := a.fixture("elsewhere") // not followed
	kolToken, kol := a.user("kol", true)
	strangerToken, _ := a.user("stranger", true)
	fanToken, _ := a.user("fan", false)

	publish := func(token, productID string) string {
		var out struct {
			PublishVideo struct {
				Video      struct{ ID string }
				UserErrors []userError
			}
		}
		a.ok(token, publishVideoMutation, videoInput(productID), &out)
		if len(out.PublishVideo.UserErrors) > 0 {
			t.Fatalf("publish: %+v", out.PublishVideo.UserErrors)
		}
		return out.PublishVideo.Video.ID
	}
	schedule := func(token, productID string) string {
		var out struct{ ScheduleLiveSession liveOut }
		a.ok(token, scheduleLiveMutation, liveInput(productID), &out)
		return out.ScheduleLiveSession.LiveSession.ID
	}
	// In publication order (each one published a second after the last).
	kolOther := publish(kolToken, other.productID)                 // followed creator, any shop: in
	strangerFollowed := publish(strangerToken, followed.productID) // followed shop's product: in
	strangerOther := publish(strangerToken, other.productID)       // neither: out
	kolFollowed := publish(kolToken, followed.productID)           // both: in, once
	kolLive := schedule(kolToken, other.productID)                 // followed creator's scheduled live: in
	endedLive := schedule(kolToken, other.productID)               // ended: out
	sellerOwn := publish(followed.sellerToken, followed.productID) // the followed shop's own video: in
	ids := []string{kolOther, strangerFollowed, strangerOther, kolFollowed, kolLive, endedLive, sellerOwn}
	for i, id := range ids {
		if _, err := a.db.Exec(`UPDATE contents SET published_at = now() - interval '1 hour' + $2 * interval '1 second' WHERE id = $1`,
			mustID(t, id), i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.db.Exec(`UPDATE contents SET live_status = 'ENDED', ended_at = now() WHERE id = $1`, mustID(t, endedLive)); err != nil {
		t.Fatal(err)
	}
	a.follow(fanToken, gid("User", kol.ID), true)
	a.follow(fanToken, followed.shopID, true)

	walk := func(first int, between func(page int)) []string {
		var seen []string
		after := any(nil)
		for page := 0; page < 20; page++ {
			var out struct {
				Feed struct {
					Edges []struct {
						Node struct {
							Typename string `json:"__typename"`
							ID       string
						}
					}
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
				}
			}
			a.ok(fanToken, `query($first: Int, $after: String) { feed(kind: FOLLOWING, first: $first, after: $after) {
				edges { node { __typename id } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"first": first, "after": after}, &out)
			for _, e := range out.Feed.Edges {
				seen = append(seen, e.Node.ID)
			}
			if !out.Feed.PageInfo.HasNextPage {
				return seen
			}
			after = out.Feed.PageInfo.EndCursor
			between(page)
		}
		t.Fatal("the walk did not end")
		return nil
	}
	want := []string{sellerOwn, kolLive, kolFollowed, strangerFollowed, kolOther}
	if got := walk(20, func(int) {}); !slices.Equal(got, want) {
		t.Fatalf("FOLLOWING feed = %v\nwant %v", got, want)
	}
	// During a walk of pages of 2: new content by the followed creator lands above the cursor (next walk),
	// and unfollowing the shop after the first page removes only the shop's content not yet seen
	// (strangerFollowed); the kol's content, seen or not, neither repeats nor vanishes.
	var fresh string
	got := walk(2, func(page int) {
		if page == 0 {
			fresh = publish(kolToken, other.productID)
			a.follow(fanToken, followed.shopID, false)
		}
	})
	if want := []string{sellerOwn, kolLive, kolFollowed, kolOther}; !slices.Equal(got, want) {
		t.Fatalf("walk under change = %v\nwant %v", got, want)
	}
	if got := walk(20, func(int) {}); !slices.Equal(got, []string{fresh, kolLive, kolFollowed, kolOther}) {
		t.Fatalf("the next walk = %v, want the new video first then the kol's", got)
	}
	// Somebody following nobody gets an empty feed; a cursor of another list is refused.
	var empty struct{ Feed struct{ Edges []any } }
	a.ok(strangerToken, `{ feed(kind: FOLLOWING) { edges { node { id } } } }`, nil, &empty)
	if len(empty.Feed.Edges) != 0 {
		t.Fatalf("following nobody: %+v", empty)
	}
	if resp := a.post(fanToken, `{ feed(kind: FOLLOWING, after: "eyJ3IjoxLCJwIjoxfQ") { edges { node { id } } } }`, nil); resp.code() != "BAD_USER_INPUT" {
		t.Fatalf("a FOR_YOU walk cursor in FOLLOWING: %+v", resp.Errors)
	}
	// The page with its authors, shops and cards costs what it costs for 2 or 20.
	q := `query($first: Int) { feed(kind: FOLLOWING, first: $first) { edges { node { id author { handle } shop { name }
		products(first: 3) { edges { node { title variants(first: 1) { edges { node { id } } } } } } } } } }`
	a.ok(fanToken, q, map[string]any{"first": 1}, nil)
	small := a.statements.Load()
	a.ok(fanToken, q, map[string]any{"first": 20}, nil)
	if big := a.statements.Load(); big != small {
		t.Fatalf("statements: first 1 → %d, first 20 → %d", small, big)
	}
}

// A creator's affiliate sales move from AFFILIATES to TOP_CREATORS when
// real follows take them to the threshold, and back when one unfollows.
func TestTopCreatorChannelFollowsRealFollowers(t *testing.T) {
	a := newTestAPIWith(t, func(r *graph.Resolver) { r.TopCreatorFollowers = 3 })
	f := a.fixture("brand")
	kolToken, kol := a.user("kol", true)
	buyer, _ := a.user("buyer", false)
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(kolToken, publishVideoMutation, videoInput(f.productID), &pv)
	in := checkoutInput("aff", "tok_ok", line(f.variantIDs[0], 1))
	in["in"].(map[string]any)["sourceContentId"] = pv.PublishVideo.Video.ID
	a.ok(buyer, checkoutMutation, in, nil)

	channels := func() map[string]int {
		var out struct {
			Shop struct {
				Metrics struct {
					ByChannel []struct {
						Channel string
						Orders  int
					}
				}
			}
		}
		a.ok(f.sellerToken, `{ shop(handle: "brand-shop") { metrics { byChannel { channel orders } } } }`, nil, &out)
		m := map[string]int{}
		for _, c := range out.Shop.Metrics.ByChannel {
			m[c.Channel] = c.Orders
		}
		return m
	}
	if c := channels(); c["AFFILIATES"] != 1 || c["TOP_CREATORS"] != 0 {
		t.Fatalf("with no followers: %v", c)
	}
	var fans []string
	for i := 0; i < 3; i++ {
		tok, _ := a.user(fmt.Sprintf("fan%d", i), false)
		fans = append(fans, tok)
		a.follow(tok, gid("User", kol.ID), true)
		if c := channels(); (i < 2 && (c["AFFILIATES"] != 1 || c["TOP_CREATORS"] != 0)) || (i == 2 && (c["AFFILIATES"] != 0 || c["TOP_CREATORS"] != 1)) {
			t.Fatalf("with %d followers (threshold 3): %v", i+1, c)
		}
	}
	a.follow(fans[0], gid("User", kol.ID), false)
	if c := channels(); c["AFFILIATES"] != 1 || c["TOP_CREATORS"] != 0 {
		t.Fatalf("back to 2 followers: %v", c)
	}
}
