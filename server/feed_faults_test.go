package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"

	"showcase/store"
	"showcase/store/storetest"
)

// Real-fault tests of the feed's walks (issue 19: the feed index, the
// arrangements kept per process, the walk rows): real server processes on
// one database, walks moving between them, a FEED_POLICY changed between
// runs, a walk that expires mid-way. They assert no timing: every wait is
// a bounded loop that stops by itself.

// feedAnswer is one page of the feed as a client sees it, or the error
// that answered instead.
type feedAnswer struct {
	status  int
	code    string // the first error's extensions.code, "" when none
	message string
	ids     []int64 // the contents, in page order
	cursors []string
	hasNext bool
}

// askFeed asks base for a page of the feed (signed in with token, unless
// empty) and returns the page or the error: never failing the test on a
// GraphQL error, which the caller judges.
func askFeed(t *testing.T, base, token string, first int, after string) feedAnswer {
	t.Helper()
	vars := map[string]any{"first": first}
	if after != "" {
		vars["after"] = after
	}
	body, _ := json.Marshal(map[string]any{"query": `query($first: Int, $after: String) {
		feed(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage } } }`, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Data *struct {
			Feed *struct {
				Edges []struct {
					Cursor string
					Node   struct{ ID string }
				}
				PageInfo struct{ HasNextPage bool }
			}
		}
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("feed answered %d, not JSON: %s", resp.StatusCode, raw)
	}
	a := feedAnswer{status: resp.StatusCode}
	if len(env.Errors) > 0 {
		a.code, a.message = env.Errors[0].Extensions.Code, env.Errors[0].Message
		return a
	}
	if env.Data == nil || env.Data.Feed == nil {
		t.Fatalf("feed answered %d without a feed: %s", resp.StatusCode, raw)
	}
	for _, e := range env.Data.Feed.Edges {
		a.ids = append(a.ids, contentIDOf(t, e.Node.ID))
		a.cursors = append(a.cursors, e.Cursor)
	}
	a.hasNext = env.Data.Feed.PageInfo.HasNextPage
	return a
}

// mustPage fails unless a is a page.
func (a feedAnswer) mustPage(t *testing.T, what string) feedAnswer {
	t.Helper()
	if a.status != http.StatusOK || a.code != "" {
		t.Fatalf("%s: HTTP %d, %s: %s", what, a.status, a.code, a.message)
	}
	return a
}

func (a feedAnswer) last() string {
	if len(a.cursors) == 0 {
		return ""
	}
	return a.cursors[len(a.cursors)-1]
}

// contentIDOf reads a Video's or LiveSession's global ID.
func contentIDOf(t *testing.T, gid string) int64 {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(gid)
	if err != nil {
		t.Fatalf("global ID %q: %v", gid, err)
	}
	kind, n, ok := strings.Cut(string(raw), ":")
	id, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || (kind != "Video" && kind != "LiveSession") {
		t.Fatalf("global ID %q is %q, not a content's", gid, raw)
	}
	return id
}

// walkRow returns the ids of the walk row a feed cursor continues, and the
// walk position that row starts after.
func walkRow(t *testing.T, db *sql.DB, cursor string) (ids []int64, off int64) {
	t.Helper()
	walk, _, off, err := decodeFeedCursor(cursor)
	if err != nil {
		t.Fatal(err)
	}
	var arr pq.Int64Array
	if err := db.QueryRow(`SELECT ids FROM list_walks WHERE id = $1`, walk).Scan(&arr); err != nil {
		t.Fatalf("walk row %d: %v", walk, err)
	}
	return arr, off
}

// decodeFeedCursor reads a feed cursor as the store makes it (base64 of
// {"w": walk row, "p": position, "o": offset of the row}).
func decodeFeedCursor(cursor string) (walk, pos, off int64, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, 0, 0, err
	}
	var c struct {
		W int64 `json:"w"`
		P int64 `json:"p"`
		O int64 `json:"o"`
	}
	err = json.Unmarshal(raw, &c)
	return c.W, c.P, c.O, err
}

// signUpThrough signs a new viewer up through base and returns the token.
func signUpThrough(t *testing.T, base, handle string) string {
	t.Helper()
	var out struct{ SignUp struct{ Token string } }
	post(t, base, "", `mutation($e: String!, $h: String!) { signUp(input: {email: $e, password: "correct horse battery", handle: $h, displayName: "V"}) { token } }`,
		&out, map[string]any{"e": handle + "@example.com", "h": handle})
	if out.SignUp.Token == "" {
		t.Fatal("signUp gave no token")
	}
	return out.SignUp.Token
}

// stopServer sends SIGTERM and waits for the process to exit cleanly.
func stopServer(t *testing.T, p *serverProcess) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("server exited with %v\n%s", err, p.stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("server did not stop within 60 s of SIGTERM")
	}
}

// noServerErrors fails when a process logged an error (a 500, a failed
// background loop).
func noServerErrors(t *testing.T, procs ...*serverProcess) {
	t.Helper()
	for i, p := range procs {
		for _, line := range strings.Split(p.stderr.String(), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"INTERNAL"`) {
				t.Errorf("process %d logged: %s", i, line)
			}
		}
	}
}

// walkWholeFeed walks a feed to its end from after, page by page, asking
// the process pick(page) chooses, and returns the contents served in order.
// It fails on an item served twice.
func walkWholeFeed(t *testing.T, token string, first int, pick func(page int) string, seen map[int64]bool, after string) []int64 {
	t.Helper()
	var served []int64
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatal("the walk did not end within 100 pages")
		}
		a := askFeed(t, pick(page), token, first, after).mustPage(t, "page "+strconv.Itoa(page))
		for _, id := range a.ids {
			if seen[id] {
				t.Fatalf("page %d serves content %d a second time", page, id)
			}
			seen[id] = true
			served = append(served, id)
		}
		if !a.hasNext {
			return served
		}
		after = a.last()
	}
}

// sameSet reports whether a and b hold the same ids.
func sameSet(a, b []int64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// Two server processes on one database; a signed-in viewer's For You walk
// moves between them page by page (page 1 from A, page 2 from B with A's
// cursor, page 3 from A with B's, …). A catches up before every ranking
// (FEED_INDEX_MAX_LAG=0) and B at most once a minute, and videos are
// published just before the walk begins: A's first page ranks them, B's
// index has not seen them when the walk's tail reaches it; meanwhile view
// counts move and one of the walk's videos is taken down. The walk serves
// no item twice and every item its first page ranked but the one taken
// down (B catches up for the walk's contents it lacks), and each cursor is
// accepted by both processes.
func TestForYouWalkMovesBetweenProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs server processes")
	}
	dsn := storetest.DSN(t)
	bin, _ := buildServer(t)
	env := []string{"JWT_SECRET=" + strings.Repeat("w", 32)}
	a := startServerEnv(t, bin, dsn, append(env, "FEED_INDEX_MAX_LAG=0"), "-seed")
	b := startServerEnv(t, bin, dsn, append(env, "FEED_INDEX_MAX_LAG=1m"))
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	token := signUpThrough(t, a.base, "walker")

	// Published after B loaded its index (ready): B catches up from its
	// loop every 30 s at most, or for a walk that holds them.
	var fresh pq.Int64Array
	if err := db.QueryRow(`WITH v AS (INSERT INTO contents (kind, author_id, caption, playback_url, duration_seconds, tags)
		SELECT 'VIDEO', (SELECT min(author_id) FROM contents), 'fresh ' || i, 'https://x/fresh' || i, 30, ARRAY['fresh']
		FROM generate_series(1, 40) i RETURNING id) SELECT array_agg(id) FROM v`).Scan(&fresh); err != nil {
		t.Fatal(err)
	}
	const first = 25
	procs := []*serverProcess{a, b}
	page1 := askFeed(t, a.base, token, first, "").mustPage(t, "page 1 from A")
	row, _ := walkRow(t, db, page1.cursors[0])
	var inTail int
	for _, id := range row[first:] {
		if slices.Contains(fresh, id) {
			inTail++
		}
	}
	if inTail == 0 {
		t.Fatalf("the walk holds none of the %d new videos after its first page: nothing for B to catch up", len(fresh))
	}
	// Meanwhile scores move (view counts of the walk's tail) and one of
	// the new videos the walk holds further on is taken down: the walk
	// leaves it out and serves everything else it ranked, once.
	var takenDown int64
	for _, id := range row[first:] {
		if slices.Contains(fresh, id) {
			takenDown = id
		}
	}
	if _, err := db.Exec(`DELETE FROM contents WHERE id = $1`, takenDown); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE contents SET view_count = view_count + 1000 * (id % 7) WHERE id = ANY($1)`, pq.Array(row[first:])); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, id := range page1.ids {
		seen[id] = true
	}
	served := append(slices.Clone(page1.ids), walkWholeFeed(t, token, first, func(page int) string { return procs[(page+1)%2].base }, seen, page1.last())...)
	if seen[takenDown] {
		t.Fatalf("the walk served %d, taken down after its first page", takenDown)
	}
	if promised := slices.DeleteFunc(slices.Clone(row), func(id int64) bool { return id == takenDown }); !sameSet(served, promised) {
		t.Fatalf("the walk served %d items, its first page ranked %d (one taken down since)", len(served), len(row))
	}
	for _, id := range fresh {
		if slices.Contains(row, id) && !seen[id] && id != takenDown {
			t.Fatalf("new video %d, in the walk, never served", id)
		}
	}
	// Every cursor of the first page, sent again to either process,
	// continues the walk with items after it.
	for _, p := range procs {
		for i, c := range page1.cursors {
			ans := askFeed(t, p.base, token, 3, c).mustPage(t, "a cursor of A's first page sent again")
			for _, id := range ans.ids {
				if slices.Contains(page1.ids[:i+1], id) {
					t.Fatalf("cursor %d of A's first page, sent again to %s, continues with %d, served before it", i, p.base, id)
				}
			}
			if len(ans.ids) != 3 {
				t.Fatalf("cursor %d of A's first page, sent again to %s: %d items", i, p.base, len(ans.ids))
			}
		}
	}
	noServerErrors(t, a, b)
}

// FEED_POLICY switched between runs (the server restarted with another
// policy on the same database): the cursors of the walks the previous run
// began continue under the new policy, at their position, and so on through
// foryou → popular → tags → foryou, so that the whole walk serves no item
// twice and every item its first page ranked. A cursor that is not one
// answers BAD_USER_INPUT under every policy; nothing answers 500.
func TestFeedPolicySwitchBetweenRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs server processes")
	}
	dsn := storetest.DSN(t)
	bin, _ := buildServer(t)
	env := []string{"JWT_SECRET=" + strings.Repeat("p", 32)}
	run := func(policy string, args ...string) *serverProcess {
		return startServerEnv(t, bin, dsn, append(slices.Clone(env), "FEED_POLICY="+policy), args...)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const first = 20
	p := run(store.PolicyForYou, "-seed")
	token := signUpThrough(t, p.base, "switcher")
	page1 := askFeed(t, p.base, token, first, "").mustPage(t, "For You page 1")
	row, _ := walkRow(t, db, page1.cursors[0])
	page2 := askFeed(t, p.base, token, first, page1.last()).mustPage(t, "For You page 2")
	if _, _, off, _ := decodeFeedCursor(page2.last()); off != first {
		t.Fatalf("a For You next page's cursor starts its row after %d, want %d (the test reads the wrong cursors)", off, first)
	}
	// An anonymous popular walk, continued by For You after the restarts.
	stopServer(t, p)
	runs := []*serverProcess{p}
	seen := map[int64]bool{}
	served := append(slices.Clone(page1.ids), page2.ids...)
	for _, id := range served {
		seen[id] = true
	}
	after := page2.last()
	var popularCursor string
	for i, policy := range []string{store.PolicyPopular, store.PolicyTags, store.PolicyForYou} {
		p := run(policy)
		runs = append(runs, p)
		// The page the old cursor asks for is the walk's next items, as
		// the row it names holds them (no item left since: none ended).
		next, off := walkRow(t, db, after)
		_, pos, _, _ := decodeFeedCursor(after)
		want := next[pos-off : min(int64(len(next)), pos-off+first)]
		ans := askFeed(t, p.base, token, first, after).mustPage(t, policy+" continuing the previous run's cursor")
		if policy != store.PolicyForYou && !slices.Equal(ans.ids, want) {
			t.Fatalf("%s continued the previous run's cursor with %v, want the walk's next items %v", policy, ans.ids, want)
		}
		if policy == store.PolicyForYou {
			// For You re-ranks the walk's tail: the page is as many of its
			// items, in another order maybe.
			tail := next[pos-off:]
			for _, id := range ans.ids {
				if !slices.Contains(tail, id) {
					t.Fatalf("For You continued the previous run's cursor with %d, not in the walk's tail", id)
				}
			}
			if len(ans.ids) != len(want) {
				t.Fatalf("For You continued the previous run's cursor with %d items, want %d", len(ans.ids), len(want))
			}
		}
		for _, id := range ans.ids {
			if seen[id] {
				t.Fatalf("%s: content %d served a second time", policy, id)
			}
			seen[id] = true
		}
		served = append(served, ans.ids...)
		after = ans.last()
		if i < 2 {
			// one more page under this policy, from its own cursor
			more := askFeed(t, p.base, token, first, after).mustPage(t, policy+" page")
			for _, id := range more.ids {
				if seen[id] {
					t.Fatalf("%s: content %d served a second time", policy, id)
				}
				seen[id] = true
			}
			served = append(served, more.ids...)
			after = more.last()
		} else {
			served = append(served, walkWholeFeed(t, token, first, func(int) string { return p.base }, seen, after)...)
		}
		if policy == store.PolicyPopular {
			popularCursor = askFeed(t, p.base, "", first, "").mustPage(t, "anonymous popular page 1").last()
		}
		if policy == store.PolicyForYou {
			if a := askFeed(t, p.base, "", first, popularCursor); a.status != http.StatusOK || a.code != "" || len(a.ids) == 0 {
				t.Fatalf("For You continuing an anonymous popular walk: HTTP %d %s %s, %d items", a.status, a.code, a.message, len(a.ids))
			}
		}
		for _, bad := range []string{"bm90IGEgY3Vyc29y", base64.RawURLEncoding.EncodeToString([]byte(`{"w":1,"p":5,"o":9}`))} {
			if a := askFeed(t, p.base, token, first, bad); a.status != http.StatusOK || a.code != "BAD_USER_INPUT" {
				t.Fatalf("%s: a cursor that is not one answers HTTP %d %q, want BAD_USER_INPUT", policy, a.status, a.code)
			}
		}
		if i < 2 {
			stopServer(t, p)
		}
	}
	if !sameSet(served, row) {
		t.Fatalf("the walk across three policies served %d items, its first page ranked %d", len(served), len(row))
	}
	noServerErrors(t, runs...)
}

// A walk that expires mid-way: its rows are older than store.ListWalkTTL
// and the score refresh pruned them. The next page, from either cursor of
// the walk (the first page's or a next page's, signed in or anonymous),
// answers BAD_USER_INPUT asking for a first page (README, API conventions),
// never a 500, and a first page then starts a fresh walk whose pages
// continue.
func TestExpiredWalkAsksForAFirstPage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server process")
	}
	dsn := storetest.DSN(t)
	bin, _ := buildServer(t)
	p := startServerEnv(t, bin, dsn, []string{"JWT_SECRET=" + strings.Repeat("x", 32), "SCORES_REFRESH_INTERVAL=200ms", "FEED_RANKING_TTL=0"}, "-seed")
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	token := signUpThrough(t, p.base, "expirer")
	type walk struct {
		token, first, next string
	}
	var walks []walk
	for _, tok := range []string{token, ""} {
		p1 := askFeed(t, p.base, tok, 10, "").mustPage(t, "page 1")
		p2 := askFeed(t, p.base, tok, 10, p1.last()).mustPage(t, "page 2")
		walks = append(walks, walk{tok, p1.last(), p2.last()})
	}
	// Every row of those walks begun past the TTL: the next refresh prunes them.
	if _, err := db.Exec(`UPDATE list_walks SET created_at = now() - $1::interval`,
		strconv.FormatInt((store.ListWalkTTL+time.Minute).Milliseconds(), 10)+" milliseconds"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM list_walks WHERE created_at < now() - interval '1 hour'`).Scan(&n); err != nil {
			t.Fatalf("the server's score refresh never pruned the expired walks: %v", err)
		}
		if n == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The process that served the walks keeps their rows in memory for
	// less than the stored rows' lifetime (store's keptWalkTTL), so in a
	// real run its copy expires first; the backdating above reaches only
	// the database, so the expired cursors go to a second process, which
	// knows the walks from the database alone.
	q := startServerEnv(t, bin, dsn, []string{"JWT_SECRET=" + strings.Repeat("x", 32), "SCORES_REFRESH_INTERVAL=200ms", "FEED_RANKING_TTL=0"})
	for i, w := range walks {
		for _, c := range []string{w.first, w.next} {
			a := askFeed(t, q.base, w.token, 10, c)
			if a.status != http.StatusOK || a.code != "BAD_USER_INPUT" || !strings.Contains(a.message, "start again from the first page") {
				t.Fatalf("walk %d: an expired cursor answers HTTP %d %q %q, want BAD_USER_INPUT asking for a first page", i, a.status, a.code, a.message)
			}
		}
		seen := map[int64]bool{}
		fresh := askFeed(t, p.base, w.token, 10, "").mustPage(t, "a fresh first page")
		for _, id := range fresh.ids {
			seen[id] = true
		}
		walkWholeFeed(t, w.token, 10, func(int) string { return p.base }, seen, fresh.last())
	}
	noServerErrors(t, p)
	noServerErrors(t, q)
}

// crash stops the cluster as a crash would (SIGQUIT to the postmaster: an
// immediate shutdown, without a checkpoint): the next start recovers from
// the WAL and empties the unlogged tables (list_walks, read_fences).
func (o *ownDatabase) crash() {
	o.t.Helper()
	pidFile := filepath.Join(o.dir, "pgdata", "postmaster.pid")
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		o.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	if err != nil {
		o.t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
		o.t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(pidFile); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			o.t.Fatal("PostgreSQL did not stop within 60 s of SIGQUIT")
		}
	}
	o.running = false
}

// A crash of PostgreSQL under walks (list_walks is unlogged: recovery
// empties it). While it is down the feed answers SERVICE_UNAVAILABLE; once
// it is back, every cursor of a walk begun before answers BAD_USER_INPUT
// asking for a first page (README, API conventions), never a 500; and the
// first page the client then asks for starts a walk whose pages continue,
// though this process keeps, for FEED_RANKING_TTL, the arrangement of a
// first page ranked before the crash whose walk row is gone.
func TestWalksAfterAPostgreSQLCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crashes its own PostgreSQL")
	}
	own := startOwnDatabase(t, 0)
	bin, _ := buildServer(t)
	p := startServerEnv(t, bin, own.cluster.DSN("postgres"), []string{"JWT_SECRET=" + strings.Repeat("c", 32), "FEED_RANKING_TTL=1m"}, "-seed")
	token := signUpThrough(t, p.base, "crasher")
	type walk struct{ token, first, next string }
	var walks []walk
	for _, tok := range []string{token, ""} {
		p1 := askFeed(t, p.base, tok, 10, "").mustPage(t, "page 1")
		p2 := askFeed(t, p.base, tok, 10, p1.last()).mustPage(t, "page 2")
		walks = append(walks, walk{tok, p1.last(), p2.last()})
	}
	// The test cluster commits asynchronously (synchronous_commit=off):
	// what was committed reaches the WAL on disk before the crash, as with
	// a durable cluster.
	if _, err := own.db.ExecContext(context.Background(), `CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	own.crash()
	for _, w := range walks {
		if a := askFeed(t, p.base, w.token, 10, w.next); a.code != "SERVICE_UNAVAILABLE" {
			t.Fatalf("a next page with PostgreSQL down: HTTP %d %q %q, want SERVICE_UNAVAILABLE", a.status, a.code, a.message)
		}
	}
	own.restart()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		a := askFeed(t, p.base, "", 10, walks[1].first)
		if a.code == "BAD_USER_INPUT" {
			break
		}
		if a.code != "SERVICE_UNAVAILABLE" || time.Now().After(deadline) {
			t.Fatalf("an old cursor after the crash: HTTP %d %q %q, want SERVICE_UNAVAILABLE until PostgreSQL is back, then BAD_USER_INPUT", a.status, a.code, a.message)
		}
	}
	for i, w := range walks {
		for _, c := range []string{w.first, w.next} {
			if a := askFeed(t, p.base, w.token, 10, c); a.status != http.StatusOK || a.code != "BAD_USER_INPUT" || !strings.Contains(a.message, "start again from the first page") {
				t.Fatalf("walk %d: a cursor from before the crash answers HTTP %d %q %q, want BAD_USER_INPUT asking for a first page", i, a.status, a.code, a.message)
			}
		}
		// The client starts again: the walk continues.
		seen := map[int64]bool{}
		fresh := askFeed(t, p.base, w.token, 10, "").mustPage(t, "a first page after the crash")
		for _, id := range fresh.ids {
			seen[id] = true
		}
		walkWholeFeed(t, w.token, 10, func(int) string { return p.base }, seen, fresh.last())
	}
	noServerErrors(t, p)
}
