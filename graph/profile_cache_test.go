package graph_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// keepingProfiles gives a's store handle a ProfileCache keeping users,
// shops, session and app checks for an hour, listening to the triggers'
// notifications on a's database: only a notification (or a's own write)
// can make it forget within the test.
func keepingProfiles(a *testAPI) {
	a.t.Helper()
	keepingProfilesHearing(a, a.dsn)
}

// keepingProfilesHearing is keepingProfiles listening on the database of
// dsn: another database's hears none of a's notifications, so only a's own
// writes can make it forget.
func keepingProfilesHearing(a *testAPI, dsn string) {
	a.t.Helper()
	c := store.NewProfileCache(time.Hour, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	a.t.Cleanup(cancel)
	if err := c.Listen(ctx, dsn); err != nil {
		a.t.Fatal(err)
	}
	a.db.UseProfileCache(c)
}

const profilesFeedQuery = `{ feed(first: 10) { edges { node { id
	... on Video { author { handle displayName followerCount } shop { name followerCount } } } } } }`

type profilesPage struct {
	Feed struct {
		Edges []struct {
			Node struct {
				ID     string
				Author *struct {
					Handle, DisplayName string
					FollowerCount       int
				}
				Shop *struct {
					Name          string
					FollowerCount int
				}
			}
		}
	}
}

// firstProfiles returns the first video's author and shop as the feed
// shows them, and what the page cost.
func (a *testAPI) firstProfiles(token string) (author, shop string, authorFollowers, shopFollowers int, statements int64) {
	a.t.Helper()
	var p profilesPage
	a.ok(token, profilesFeedQuery, nil, &p)
	for _, e := range p.Feed.Edges {
		if e.Node.Author != nil && e.Node.Shop != nil {
			return e.Node.Author.DisplayName, e.Node.Shop.Name, e.Node.Author.FollowerCount, e.Node.Shop.FollowerCount, a.statements.Load()
		}
	}
	a.t.Fatal("the feed page has no video with an author and a shop")
	return
}

// A feed page's authors and shops are kept per process: from the second
// page on they cost no statement. A change made through another process
// (a shop renamed, a follow moving a follower count, a display name changed
// by hand) reaches this process's next page by notification (the TTL is an
// hour); a caller's own follow shows in their next read at once.
func TestFeedAuthorsAndShopsKeptAndForgottenThroughAnotherProcess(t *testing.T) {
	a := newTestAPI(t)
	keepingProfiles(a)
	b := a.replica()
	keepingProfiles(b)
	f := a.manyContents(12)
	viewer, _ := a.user("viewer", false)

	author, shop, _, shopFollowers, cold := a.firstProfiles(viewer)
	_, _, _, _, warm := a.firstProfiles(viewer)
	if warm != cold-2 {
		t.Fatalf("a warm page cost %d statements, the first %d: authors and shops not kept (want 2 fewer)", warm, cold)
	}

	// Through the other process: the shop renamed.
	b.ok(f.sellerToken, `mutation($in: UpdateShopInput!) { updateShop(input: $in) { shop { name } } }`,
		map[string]any{"in": map[string]any{"id": f.shopID, "name": "Renamed Shop"}}, nil)
	until(t, "the rename through another process shows", func() bool {
		_, got, _, _, _ := a.firstProfiles(viewer)
		return got == "Renamed Shop"
	})
	if shop == "Renamed Shop" {
		t.Fatal("the shop had the new name already")
	}
	// By hand (an operator's SQL): the author's display name.
	if _, err := b.db.ExecContext(context.Background(), `UPDATE users SET display_name = 'Renamed Author' WHERE id = (SELECT owner_id FROM shops LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	until(t, "the display name written by hand shows", func() bool {
		got, _, _, _, _ := a.firstProfiles(viewer)
		return got == "Renamed Author"
	})
	if author == "Renamed Author" {
		t.Fatal("the author had the new name already")
	}
	// A follow through the other process moves the shop's follower count.
	b.ok(viewer, `mutation($id: ID!) { follow(id: $id) { userErrors { code } } }`, map[string]any{"id": f.shopID}, nil)
	until(t, "a follow through another process shows", func() bool {
		_, _, _, got, _ := a.firstProfiles(viewer)
		return got == shopFollowers+1
	})

}

// A caller's own writes show in their next request at once, although the
// process hears no notification (its cache listens on another database)
// and keeps for an hour: a follow moves the follower counts the feed
// shows, a renamed shop shows renamed, a logged-out session and a revoked
// app are refused.
func TestProfilesOwnWritesShowAtOnce(t *testing.T) {
	a := newTestAPI(t)
	keepingProfilesHearing(a, storetest.DSN(t))
	f := a.manyContents(12)
	viewer, _ := a.user("viewer", false)
	_, _, _, shopFollowers, cold := a.firstProfiles(viewer)
	if _, _, _, _, warm := a.firstProfiles(viewer); warm != cold-2 {
		t.Fatalf("a warm page cost %d statements, the first %d: authors and shops not kept", warm, cold)
	}
	a.ok(viewer, `mutation($id: ID!) { follow(id: $id) { userErrors { code } } }`, map[string]any{"id": f.shopID}, nil)
	if _, _, _, got, _ := a.firstProfiles(viewer); got != shopFollowers+1 {
		t.Fatalf("after the caller's follow the shop shows %d followers, want %d", got, shopFollowers+1)
	}
	a.ok(f.sellerToken, `mutation($in: UpdateShopInput!) { updateShop(input: $in) { shop { name } } }`,
		map[string]any{"in": map[string]any{"id": f.shopID, "name": "Renamed Shop"}}, nil)
	if _, got, _, _, _ := a.firstProfiles(viewer); got != "Renamed Shop" {
		t.Fatalf("after the owner's rename the shop shows %q", got)
	}

	var up struct{ SignUp authOut2 }
	a.ok("", `mutation { signUp(input: {email: "s@example.com", password: "long enough", handle: "sam", displayName: "Sam"}) { token refreshToken } }`, nil, &up)
	a.ok(up.SignUp.Token, `{ viewer { handle } }`, nil, nil)
	a.ok(up.SignUp.Token, `{ viewer { handle } }`, nil, nil)
	a.ok("", `mutation($t: String!) { logOut(refreshToken: $t) { ok } }`, map[string]any{"t": up.SignUp.RefreshToken}, nil)
	if st := a.post(up.SignUp.Token, `{ viewer { handle } }`, nil).Status; st != http.StatusUnauthorized {
		t.Fatalf("the caller's logged-out session over HTTP: %d", st)
	}

	app, appID := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
	a.ok(app, `{ shops(first: 1) { edges { node { id } } } }`, nil, nil)
	a.ok(app, `{ shops(first: 1) { edges { node { id } } } }`, nil, nil)
	a.ok(f.sellerToken, `mutation($id: ID!) { revokeApp(id: $id) { app { id } } }`, map[string]any{"id": appID}, nil)
	if st := a.post(app, `{ shops(first: 1) { edges { node { id } } } }`, nil).Status; st != http.StatusUnauthorized {
		t.Fatalf("the caller's revoked app over HTTP: %d", st)
	}
}

// refusedSoon waits until process p refuses token with a 401, then checks
// that the next requests are refused too (a revoked credential is never
// accepted again after the notification).
func refusedSoon(t *testing.T, p *testAPI, token, what string) {
	t.Helper()
	until(t, what+" is refused", func() bool {
		return p.post(token, `{ viewer { handle } }`, nil).Status == http.StatusUnauthorized
	})
	for i := 0; i < 5; i++ {
		if st := p.post(token, `{ viewer { handle } }`, nil).Status; st != http.StatusUnauthorized {
			t.Fatalf("%s: refused, then answered %d", what, st)
		}
	}
}

// Session and app checks are kept per process (a warm signed-in request
// costs no check), and every way a credential ends, made through another
// process or by hand, ends it on this process by notification although
// the TTL is an hour: a logOut, a refresh token replayed, an app revoked,
// a role taken away, an account deleted, a password changed (last: the
// others log in with the password).
func TestSessionChecksEndThroughAnotherProcess(t *testing.T) {
	a := newTestAPI(t)
	keepingProfiles(a)
	b := a.replica()
	keepingProfiles(b)
	ctx := context.Background()
	var up struct{ SignUp authOut2 }
	a.ok("", `mutation { signUp(input: {email: "s@example.com", password: "long enough", handle: "sam", displayName: "Sam"}) { token } }`, nil, &up)
	logIn := func() authOut2 {
		var out struct{ LogIn authOut2 }
		a.ok("", `mutation { logIn(input: {email: "s@example.com", password: "long enough"}) { token refreshToken } }`, nil, &out)
		return out.LogIn
	}
	// warm checks that a's second request with token costs one statement
	// fewer than its first (the check is kept).
	warm := func(t *testing.T, token string) {
		t.Helper()
		a.ok(token, `{ viewer { handle followerCount } }`, nil, nil)
		cold := a.statements.Load()
		a.ok(token, `{ viewer { handle followerCount } }`, nil, nil)
		if got := a.statements.Load(); got != cold-1 {
			t.Fatalf("a warm signed-in request cost %d statements, the first %d: the check is not kept", got, cold)
		}
	}

	t.Run("LoggedOut", func(t *testing.T) {
		s, other := logIn(), logIn()
		warm(t, s.Token)
		warm(t, other.Token)
		b.ok("", `mutation($t: String!) { logOut(refreshToken: $t) { ok } }`, map[string]any{"t": s.RefreshToken}, nil)
		refusedSoon(t, a, s.Token, "the logged-out session")
		if st := a.post(other.Token, `{ viewer { handle } }`, nil).Status; st != http.StatusOK {
			t.Fatalf("another session of the same person: %d", st)
		}
	})
	t.Run("RefreshTokenReplayed", func(t *testing.T) {
		s := logIn()
		warm(t, s.Token)
		b.ok("", `mutation($t: String!) { refreshSession(refreshToken: $t) { token } }`, map[string]any{"t": s.RefreshToken}, nil)
		b.post("", `mutation($t: String!) { refreshSession(refreshToken: $t) { token } }`, map[string]any{"t": s.RefreshToken})
		refusedSoon(t, a, s.Token, "the replayed session")
	})
	t.Run("AppRevoked", func(t *testing.T) {
		f := a.fixture("appshop")
		app, appID := a.appToken(f.sellerToken, f.shopID, []string{"catalog:read"})
		a.ok(app, `{ shops(first: 1) { edges { node { id } } } }`, nil, nil)
		cold := a.statements.Load()
		a.ok(app, `{ shops(first: 1) { edges { node { id } } } }`, nil, nil)
		if got := a.statements.Load(); got != cold-1 {
			t.Fatalf("a warm app request cost %d statements, the first %d: the app check is not kept", got, cold)
		}
		b.ok(f.sellerToken, `mutation($id: ID!) { revokeApp(id: $id) { app { id } } }`, map[string]any{"id": appID}, nil)
		until(t, "the revoked app is refused", func() bool {
			return a.post(app, `{ shops(first: 1) { edges { node { id } } } }`, nil).Status == http.StatusUnauthorized
		})
	})
	t.Run("RoleTakenAway", func(t *testing.T) {
		s := logIn()
		if _, err := b.db.ExecContext(ctx, `UPDATE users SET is_admin = true WHERE email = 's@example.com'`); err != nil {
			t.Fatal(err)
		}
		// Made admin by hand: heard, so the next check reads the role.
		campaign := func() string {
			return a.post(s.Token, `mutation { campaignCreate(input: {handle: "!", name: "", startsAt: "2000-01-01T00:00:00Z",
				endsAt: "2000-01-02T00:00:00Z", minPercentOff: 0, maxPercentOff: 0}) { userErrors { code } } }`, nil).code()
		}
		until(t, "the new admin may create campaigns", func() bool { return campaign() != "FORBIDDEN" })
		if _, err := b.db.ExecContext(ctx, `UPDATE users SET is_admin = false WHERE email = 's@example.com'`); err != nil {
			t.Fatal(err)
		}
		until(t, "the former admin is forbidden", func() bool { return campaign() == "FORBIDDEN" })
	})
	t.Run("AccountDeleted", func(t *testing.T) {
		var d struct{ SignUp authOut2 }
		a.ok("", `mutation { signUp(input: {email: "d@example.com", password: "long enough", handle: "dee", displayName: "Dee"}) { token } }`, nil, &d)
		s := d.SignUp
		warm(t, s.Token)
		tx, err := b.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		for _, q := range []string{
			`DELETE FROM refresh_tokens WHERE user_id = (SELECT id FROM users WHERE email = 'd@example.com')`,
			`DELETE FROM follows WHERE follower_id = (SELECT id FROM users WHERE email = 'd@example.com')`,
			`DELETE FROM users WHERE email = 'd@example.com'`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		refusedSoon(t, a, s.Token, "the deleted account's session")
	})
	t.Run("PasswordChanged", func(t *testing.T) {
		s := logIn()
		warm(t, s.Token)
		a.ok(s.Token, `{ viewer { handle followerCount } }`, nil, nil)
		kept := a.statements.Load()
		if _, err := b.db.ExecContext(ctx, `UPDATE users SET password_hash = 'changed' WHERE email = 's@example.com'`); err != nil {
			t.Fatal(err)
		}
		// Forgotten: the next request checks the session again.
		until(t, "the session is checked again after the password change", func() bool {
			a.ok(s.Token, `{ viewer { handle followerCount } }`, nil, nil)
			return a.statements.Load() == kept+1
		})
	})
}

// While the cache does not listen (before Listen, or with its connection
// lost) nothing is kept: every signed-in request checks its session and
// every feed page reads its authors and shops.
func TestProfilesNotKeptWithoutListening(t *testing.T) {
	a := newTestAPI(t)
	a.db.UseProfileCache(store.NewProfileCache(time.Hour, time.Hour))
	a.manyContents(12)
	viewer, _ := a.user("viewer", false)
	_, _, _, _, cold := a.firstProfiles(viewer)
	_, _, _, _, again := a.firstProfiles(viewer)
	if again != cold {
		t.Fatalf("without listening a second page cost %d statements, the first %d: something was kept", again, cold)
	}
}

// A session ended while the process's listening connection is lost (its
// backend killed, as a PostgreSQL restart does; the notification is lost)
// is refused once the listener has noticed, and still after it has
// reconnected: nothing kept before the loss is served again, although the
// TTL is an hour.
func TestSessionChecksNotServedAcrossALostListener(t *testing.T) {
	a := newTestAPI(t)
	keepingProfiles(a)
	ctx := context.Background()
	signUp := func(n string) string {
		var up struct{ SignUp authOut2 }
		a.ok("", `mutation($in: SignUpInput!) { signUp(input: $in) { token } }`, map[string]any{"in": map[string]any{
			"email": n + "@example.com", "password": "long enough", "handle": n, "displayName": n}}, &up)
		return up.SignUp.Token
	}
	s, o := signUp("sam"), signUp("olu")
	cost := func(token string) int64 {
		a.ok(token, `{ viewer { handle } }`, nil, nil)
		return a.statements.Load()
	}
	cost(s)
	warmCost := cost(s)
	if cost(o); cost(o) != warmCost {
		t.Fatal("the observer's session check is not kept")
	}
	// One statement kills the listening connection's backend, then ends
	// the session and commits, before the listener has reconnected (it
	// reconnects at once, in a few milliseconds): the notification is lost.
	var killed int
	if err := a.db.GetContext(ctx, &killed, `WITH k AS (SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n
			FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %showcase_profiles%'),
		ended AS (UPDATE refresh_tokens SET revoked_at = now()
			WHERE user_id = (SELECT id FROM users WHERE email = 'sam@example.com') AND (SELECT n FROM k) > 0)
		SELECT n FROM k`); err != nil || killed != 1 {
		t.Fatalf("killing the listening connection: %d killed, %v", killed, err)
	}
	refusedSoon(t, a, s, "the session ended while the listener was down")
	until(t, "the listener is back (the observer's check kept again)", func() bool { return cost(o) == warmCost })
	for i := 0; i < 5; i++ {
		if st := a.post(s, `{ viewer { handle } }`, nil).Status; st != http.StatusUnauthorized {
			t.Fatalf("after the listener reconnected the ended session was answered %d", st)
		}
	}
}
