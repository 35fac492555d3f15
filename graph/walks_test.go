package graph_test

import (
	"context"
	"flag"
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// A ranked list a client walks page by page: the feed (anonymous or signed
// in) or a product search by relevance.
type rankedList struct {
	name  string
	token string
	query string
	vars  map[string]any
	// conn picks the connection out of the reply's data.
	conn func(data []byte) (ids []string, hasNext bool, end *string, err error)
}

const searchPageQuery = `query($first: Int, $after: String, $search: String) {
	products(first: $first, after: $after, filter: { search: $search }) {
		edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`

func feedConn(data []byte) ([]string, bool, *string, error) {
	var p feedPage
	if err := jsonUnmarshalStrict(data, &p); err != nil {
		return nil, false, nil, err
	}
	var ids []string
	for _, e := range p.Feed.Edges {
		ids = append(ids, e.Node.ID)
	}
	return ids, p.Feed.PageInfo.HasNextPage, p.Feed.PageInfo.EndCursor, nil
}

func searchConn(data []byte) ([]string, bool, *string, error) {
	var p struct {
		Products struct {
			Edges []struct {
				Cursor string
				Node   struct{ ID string }
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
	}
	if err := jsonUnmarshalStrict(data, &p); err != nil {
		return nil, false, nil, err
	}
	var ids []string
	for _, e := range p.Products.Edges {
		ids = append(ids, e.Node.ID)
	}
	return ids, p.Products.PageInfo.HasNextPage, p.Products.PageInfo.EndCursor, nil
}

// fatalf is what both *testing.T and *rapid.T offer.
type fatalf interface {
	Helper()
	Fatalf(format string, args ...any)
}

// page fetches one page of the list.
func (l rankedList) page(t fatalf, a *testAPI, first int, after *string) ([]string, bool, *string) {
	t.Helper()
	vars := map[string]any{"first": first}
	for k, v := range l.vars {
		vars[k] = v
	}
	if after != nil {
		vars["after"] = *after
	}
	resp, err := a.postRaw(l.token, l.query, vars)
	if err != nil || len(resp.Errors) > 0 {
		t.Fatalf("%s page after %v: %v %+v", l.name, after, err, resp.Errors)
	}
	ids, next, end, err := l.conn(resp.Data)
	if err != nil {
		t.Fatalf("%s: %v", l.name, err)
	}
	return ids, next, end
}

// walk walks the list to its end in pages of first, calling between after
// every page, and fails on a repeat.
func (l rankedList) walk(t fatalf, a *testAPI, first int, between func(page int)) []string {
	t.Helper()
	var all []string
	seen := map[string]int{}
	var after *string
	for page := 1; ; page++ {
		if page > 1000 {
			t.Fatalf("%s: the walk does not end", l.name)
		}
		ids, next, end := l.page(t, a, first, after)
		for _, id := range ids {
			if p, ok := seen[id]; ok {
				t.Fatalf("%s: %s on page %d repeats it from page %d", l.name, id, page, p)
			}
			seen[id] = page
			all = append(all, id)
		}
		if !next {
			return all
		}
		after = end
		if between != nil {
			between(page)
		}
	}
}

// sameSet fails unless got holds exactly the items of want.
func sameSet(t fatalf, name string, got, want []string) {
	t.Helper()
	in := map[string]bool{}
	for _, id := range got {
		in[id] = true
	}
	var missing []string
	for _, id := range want {
		if !in[id] {
			missing = append(missing, id)
		}
		delete(in, id)
	}
	if len(missing) > 0 || len(in) > 0 {
		t.Fatalf("%s: the walk skipped %v and added %v (of %d at its start)", name, missing, in, len(want))
	}
}

// walkWorld is a catalogue with ranked content and searchable products, and
// people to like things.
type walkWorld struct {
	f        fixture
	contents []string
	products []string
	likers   []string
	viewer   string
}

func newWalkWorld(a *testAPI) *walkWorld {
	a.t.Helper()
	w := &walkWorld{f: a.manyContents(45)}
	for i := 0; i < 25; i++ {
		p := a.product(w.f.sellerToken, w.f.shopID, fmt.Sprintf("glow-%d", i), map[string]any{
			"description": "a serum" + fmt.Sprintf("%*s", i%7, "") + " with " + fmt.Sprint(i%4) + " serum notes"})
		w.products = append(w.products, p.ID)
	}
	for i := 0; i < 4; i++ {
		token, _ := a.user(fmt.Sprintf("liker%d", i), false)
		w.likers = append(w.likers, token)
	}
	token, viewer := a.user("walker", false)
	if _, err := a.db.ExecContext(context.Background(), `UPDATE users SET interest_tags = ARRAY['fitness'] WHERE id = $1`, viewer.ID); err != nil {
		a.t.Fatal(err)
	}
	w.viewer = token
	if err := a.db.RefreshContentScores(context.Background()); err != nil {
		a.t.Fatal(err)
	}
	w.contents = rankedList{name: "feed", query: feedPageQuery, conn: feedConn}.walk(a.t, a, 100, nil)
	return w
}

func (w *walkWorld) lists() []rankedList {
	return []rankedList{
		{name: "anonymous feed", query: feedPageQuery, conn: feedConn},
		{name: "signed-in feed", token: w.viewer, query: feedPageQuery, conn: feedConn},
		{name: "search", query: searchPageQuery, vars: map[string]any{"search": "serum"}, conn: searchConn},
	}
}

// views records n views of a content from n devices and flushes them.
func (a *testAPI) views(t fatalf, contentID string, n int, device string) {
	t.Helper()
	batch := make([]map[string]any, n)
	for i := range batch {
		batch[i] = map[string]any{"type": "VIEW", "contentId": contentID, "watchMs": 5000, "deviceId": fmt.Sprintf("%s-%d", device, i)}
	}
	if resp, err := a.postRaw("", recordEventsMutation, map[string]any{"events": batch}); err != nil || len(resp.Errors) > 0 {
		t.Fatalf("recordEvents: %v %+v", err, resp.Errors)
	}
	if err := a.events.Flush(context.Background()); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// boost moves an item of a list up: views and likes for content, and the
// search word many times over in a product's description.
func (w *walkWorld) boost(t fatalf, a *testAPI, list rankedList, id string, tag int) {
	t.Helper()
	if list.query == searchPageQuery {
		resp, err := a.postRaw(w.f.sellerToken, `mutation($id: ID!, $d: String) { updateProduct(input: { id: $id, description: $d }) { userErrors { code } } }`,
			map[string]any{"id": id, "d": "serum serum serum serum serum serum serum serum"})
		if err != nil || len(resp.Errors) > 0 {
			t.Fatalf("updateProduct: %v %+v", err, resp.Errors)
		}
		return
	}
	a.views(t, id, 500, fmt.Sprintf("boost-%d", tag))
	for _, liker := range w.likers {
		if resp, err := a.postRaw(liker, `mutation($id: ID!) { likeContent(contentId: $id) { userErrors { code } } }`, map[string]any{"id": id}); err != nil || len(resp.Errors) > 0 {
			t.Fatalf("likeContent: %v %+v", err, resp.Errors)
		}
	}
	if _, err := a.db.ExecContext(context.Background(), `UPDATE contents SET view_count = view_count + 1000000000 WHERE id = $1`, mustID(nil, id)); err != nil {
		t.Fatalf("boost: %v", err)
	}
	if err := a.db.RefreshContentScores(context.Background()); err != nil {
		t.Fatalf("refresh: %v", err)
	}
}

// The named failure: engagement after page 1 moved an item from below page 2
// to the top, and the walk lost it (and repeated page 1's last items).
// Each ranked list walks its ranking as it was at the first page.
func TestRankedWalksNeitherRepeatNorSkip(t *testing.T) {
	a := newTestAPI(t)
	w := newWalkWorld(a)
	for i, list := range w.lists() {
		t.Run(list.name, func(t *testing.T) {
			const first = 8
			atStart := list.walk(t, a, 100, nil)
			if len(atStart) < 3*first {
				t.Fatalf("%d items; the test needs at least 3 pages", len(atStart))
			}
			moved := atStart[len(atStart)-1] // the last item, beyond page 2
			got := list.walk(t, a, first, func(page int) {
				if page == 1 {
					w.boost(t, a, list, moved, i)
				}
			})
			sameSet(t, list.name, got, atStart)
			// The boost did reorder: a walk begun now has the item on its first page.
			now, _, _ := list.page(t, a, first, nil)
			if !contains(now, moved) {
				t.Fatalf("the boosted item %s is not on a new walk's first page %v: the test moved nothing", moved, now)
			}
		})
	}
}

// A cursor continues only its own walk: not another viewer's, not another
// search's; and a walk that is no longer kept asks to start over.
func TestWalkCursorsStayInTheirWalk(t *testing.T) {
	a := newTestAPI(t)
	w := newWalkWorld(a)
	lists := w.lists()
	_, _, feedEnd := lists[1].page(t, a, 5, nil)
	_, _, searchEnd := lists[2].page(t, a, 5, nil)
	refused := func(name, token, query string, vars map[string]any) {
		t.Helper()
		resp := a.post(token, query, vars)
		if resp.code() != "BAD_USER_INPUT" {
			t.Errorf("%s: %+v", name, resp.Errors)
		}
	}
	refused("another viewer's feed walk", "", feedPageQuery, map[string]any{"first": 5, "after": *feedEnd})
	refused("a search cursor in the feed", w.viewer, feedPageQuery, map[string]any{"first": 5, "after": *searchEnd})
	refused("another search's walk", "", searchPageQuery, map[string]any{"first": 5, "after": *searchEnd, "search": "glow"})
	if _, err := a.db.ExecContext(context.Background(), `UPDATE list_walks SET created_at = now() - interval '2 hours'`); err != nil {
		t.Fatal(err)
	}
	if n, err := a.db.PruneListWalks(context.Background()); err != nil || n < 2 {
		t.Fatalf("pruned %d walks (%v), want at least 2", n, err)
	}
	refused("a pruned walk", w.viewer, feedPageQuery, map[string]any{"first": 5, "after": *feedEnd})
}

// Any interleaving of pages with engagement, likes, score refreshes, live
// sessions going on air and product edits: every walk of every ranked
// list yields exactly the items it had at its start, each once.
func TestRankedWalksUnderChangeProperty(t *testing.T) {
	if testing.Short() {
		t.Skip("a property test over a database")
	}
	setByUser := false
	flag.Visit(func(f *flag.Flag) { setByUser = setByUser || f.Name == "rapid.checks" })
	if !setByUser {
		if err := flag.Set("rapid.checks", "10"); err != nil {
			t.Fatal(err)
		}
	}
	a := newTestAPI(t)
	w := newWalkWorld(a)
	lists := w.lists()
	var scheduled []int64
	if err := a.db.SelectContext(context.Background(), &scheduled, `SELECT id FROM contents WHERE kind = 'LIVE' AND live_status = 'SCHEDULED'`); err != nil {
		t.Fatal(err)
	}
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		run++
		list := rapid.SampledFrom(lists).Draw(rt, "list")
		first := rapid.IntRange(1, 15).Draw(rt, "first")
		atStart := list.walk(rt, a, 100, nil)
		got := list.walk(rt, a, first, func(page int) {
			for n := rapid.IntRange(0, 2).Draw(rt, "changes"); n > 0; n-- {
				switch rapid.IntRange(0, 4).Draw(rt, "change") {
				case 0:
					a.views(rt, rapid.SampledFrom(w.contents).Draw(rt, "viewed"), rapid.IntRange(1, 300).Draw(rt, "views"), fmt.Sprintf("r%d-%d", run, page))
				case 1:
					liker := rapid.SampledFrom(w.likers).Draw(rt, "liker")
					a.post(liker, `mutation($id: ID!) { likeContent(contentId: $id) { userErrors { code } } }`,
						map[string]any{"id": rapid.SampledFrom(w.contents).Draw(rt, "liked")})
				case 2:
					if err := a.db.RefreshContentScores(context.Background()); err != nil {
						rt.Fatalf("refresh: %v", err)
					}
				case 3:
					if len(scheduled) > 0 {
						id := scheduled[0]
						scheduled = scheduled[1:]
						if _, err := a.db.StartLiveSession(context.Background(), id); err != nil {
							rt.Fatalf("start live: %v", err)
						}
					}
				case 4:
					words := rapid.IntRange(0, 6).Draw(rt, "words")
					desc := "plain"
					for i := 0; i < words; i++ {
						desc += " serum"
					}
					a.post(w.f.sellerToken, `mutation($id: ID!, $d: String) { updateProduct(input: { id: $id, description: $d }) { userErrors { code } } }`,
						map[string]any{"id": rapid.SampledFrom(w.products).Draw(rt, "edited"), "d": desc})
				}
			}
		})
		sameSet(rt, list.name, got, atStart)
	})
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// A walk's later pages cost what its first page costs in SQL statements:
// one for the page (reading the stored ranking instead of ranking again)
// plus the batched loads of what the page shows.
func TestFeedLaterPagesCostTheSameStatements(t *testing.T) {
	a := newTestAPIWith(t, countingStatements)
	a.manyContents(60)
	token, _ := a.user("pager", false)
	const q = `query($first: Int, $after: String) { feed(first: $first, after: $after) { edges { node {
		id author { handle } shop { name owner { handle } }
		products(first: 3) { edges { node { title priceRange { min { amount } }
			variants(first: 5) { edges { node { sku price { amount } availableForSale } } } } } }
		... on LiveSession { pinnedProduct { title } } } } pageInfo { endCursor } } }`
	var counts []int64
	vars := map[string]any{"first": 20}
	for page := 0; page < 3; page++ {
		var out struct {
			Feed struct {
				Edges    []any
				PageInfo struct{ EndCursor string }
			}
		}
		a.ok(token, q, vars, &out)
		if len(out.Feed.Edges) != 20 {
			t.Fatalf("page %d has %d edges", page+1, len(out.Feed.Edges))
		}
		counts = append(counts, a.statements.Load())
		vars["after"] = out.Feed.PageInfo.EndCursor
	}
	if counts[0] != counts[1] || counts[1] != counts[2] {
		t.Fatalf("statements per page: %v; want the same for every page", counts)
	}
}

// A short list paged in memory (a video's product cards) resumes after the
// position its last page ended at: the card that ended a page leaving the
// list (its product archived) does not make the rest vanish.
func TestCardPagesResumeAfterTheirLastCardLeaves(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("cards")
	products := []string{f.productID}
	for i := 0; i < 4; i++ {
		products = append(products, a.product(f.sellerToken, f.shopID, fmt.Sprintf("card-%d", i), nil).ID)
	}
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(f.sellerToken, publishVideoMutation, videoInput(products...), &pv)
	const q = `query($id: ID!, $after: String) { video(id: $id) { products(first: 2, after: $after) {
		edges { node { id } } pageInfo { hasNextPage endCursor } } } }`
	type page struct {
		Video struct {
			Products struct {
				Edges    []struct{ Node struct{ ID string } }
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
	}
	var got []string
	vars := map[string]any{"id": pv.PublishVideo.Video.ID}
	for n := 0; n < 5; n++ {
		var p page
		a.ok("", q, vars, &p)
		for _, e := range p.Video.Products.Edges {
			got = append(got, e.Node.ID)
		}
		if n == 0 {
			// The card that ends page 1 leaves the list.
			a.ok(f.sellerToken, `mutation($id: ID!) { updateProduct(input: { id: $id, status: ARCHIVED }) { userErrors { code } } }`,
				map[string]any{"id": got[len(got)-1]}, nil)
		}
		if !p.Video.Products.PageInfo.HasNextPage {
			break
		}
		vars["after"] = p.Video.Products.PageInfo.EndCursor
	}
	if want := fmt.Sprint(products); fmt.Sprint(got) != want {
		t.Fatalf("walked %v, want %v", got, want)
	}
}

// A For You walk's stored rows are never rewritten: a first page served
// from a reused arrangement writes no walk row (it continues the row the
// ranking first page stored), each next page stores its re-ranked tail as
// a row of its own, and so any cursor of a walk, continued again after
// later pages were read (a client retrying or going back), still yields
// every item once.
func TestFeedWalkRowsAreNeverRewritten(t *testing.T) {
	a := newTestAPIWith(t, reusingRankings)
	a.manyContents(30)
	token, _ := a.user("rewalker", false)
	const total = 33
	walkRows := func() int {
		var n int
		if err := a.db.GetContext(context.Background(), &n, `SELECT count(*) FROM list_walks WHERE kind = 'feed'`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	page := func(after string) feedPage {
		vars := map[string]any{"first": 10}
		if after != "" {
			vars["after"] = after
		}
		var p feedPage
		a.ok(token, feedPageQuery, vars, &p)
		return p
	}
	ids := func(p feedPage) []string {
		var out []string
		for _, e := range p.Feed.Edges {
			out = append(out, e.Node.ID)
		}
		return out
	}
	// rest walks on from a cursor to the end.
	rest := func(after string) []string {
		var out []string
		for after != "" {
			p := page(after)
			out = append(out, ids(p)...)
			after = ""
			if p.Feed.PageInfo.HasNextPage {
				after = *p.Feed.PageInfo.EndCursor
			}
		}
		return out
	}
	ranked := page("")
	before := walkRows()
	reused := page("")
	if got := walkRows(); got != before {
		t.Fatalf("a first page from a reused arrangement wrote %d walk rows", got-before)
	}
	if !equalIDs(ids(ranked), ids(reused)) {
		t.Fatalf("reused first page %v, ranked %v", ids(reused), ids(ranked))
	}
	head := ids(reused)
	second := page(*reused.Feed.PageInfo.EndCursor)
	once := rest(*reused.Feed.PageInfo.EndCursor)
	// Back to the first page's cursor after the whole walk was read, and
	// from the second page's: each continuation holds the rest, once.
	again := rest(*reused.Feed.PageInfo.EndCursor)
	fromSecond := rest(*second.Feed.PageInfo.EndCursor)
	for name, walk := range map[string][]string{
		"the walk":                   append(append([]string{}, head...), once...),
		"the walk again from page 1": append(append([]string{}, head...), again...),
		"the walk again from page 2": append(append(append([]string{}, head...), ids(second)...), fromSecond...),
		"the ranked page's own walk": append(ids(ranked), rest(*ranked.Feed.PageInfo.EndCursor)...),
	} {
		seen := map[string]bool{}
		for _, id := range walk {
			if seen[id] {
				t.Fatalf("%s repeats %s: %v", name, id, walk)
			}
			seen[id] = true
		}
		if len(walk) != total {
			t.Fatalf("%s has %d items, want %d", name, len(walk), total)
		}
	}
}
