package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"showcase/store"
	"showcase/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestPlaygroundInABrowser opens the embedded GraphiQL in headless Chromium,
// runs a query with an admin's token and reads the result off the page.
func TestPlaygroundInABrowser(t *testing.T) {
	browserCtx := newBrowser(t, 1200, 800)
	ctx := context.Background()
	db := storetest.NewDB(t)
	admin, err := db.CreateUser(ctx, store.NewUser{Email: "root@example.com", PasswordHash: "-", Handle: "root.admin", DisplayName: "Root"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE users SET is_admin = true WHERE id = $1`, admin.ID); err != nil {
		t.Fatal(err)
	}
	tokens := testTokens(t)
	token, _ := tokens.Issue(admin.ID)
	// In production the schema is visible to admins only.
	srv := testServer(t, db, tokens, nil, map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("p", 32), "ALLOW_TEST_PAYMENTS": "true"})

	page := srv.URL + "/playground?" + url.Values{
		"query":   {"{ viewer { handle } __schema { queryType { name } } }"},
		"headers": {`{"Authorization": "Bearer ` + token + `"}`},
	}.Encode()
	err = chromedp.Do(browserCtx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS(`.graphiql-execute-button`)),
		chromedp.Click(chromedp.CSS(`.graphiql-execute-button`)),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	shown := `document.querySelector('.graphiql-response') && document.querySelector('.graphiql-response').innerText`
	result, err := chromedp.Run(browserCtx, chromedp.Poll[string](shown+`.includes('root.admin') && `+shown,
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatalf("no result on the page: %v", err)
	}
	if !strings.Contains(result, `"handle": "root.admin"`) || !strings.Contains(result, `"name": "Query"`) {
		t.Fatalf("the playground shows %q", result)
	}

	// In production the page's first schema query goes out before the
	// headers tab has the token; an admin then re-fetches the schema.
	showsQueryFields(t, browserCtx, true)

	// In development anyone's GraphiQL loads the schema on its own.
	dev := testServer(t, db, tokens, nil, nil)
	if err := chromedp.Do(browserCtx, chromedp.Navigate(dev.URL+"/playground"),
		chromedp.WaitVisible(chromedp.CSS(`.graphiql-execute-button`))); err != nil {
		t.Fatalf("browser: %v", err)
	}
	showsQueryFields(t, browserCtx, false)
}

// showsQueryFields opens GraphiQL's documentation explorer (after pressing
// its re-fetch button when refetch) and checks it lists the Query type's
// fields, which takes GraphiQL's own schema query (15 deep) to be answered.
func showsQueryFields(t *testing.T, browserCtx context.Context, refetch bool) {
	t.Helper()
	press := func(label string) {
		t.Helper()
		clicked, err := chromedp.Run(browserCtx, chromedp.Evaluate[bool](`(() => { const b = [...document.querySelectorAll('.graphiql-sidebar button')]
			.find(b => (b.getAttribute('aria-label') || '').toLowerCase().includes('`+label+`')); if (b) b.click(); return !!b })()`))
		if err != nil || !clicked {
			labels, _ := chromedp.Run(browserCtx, chromedp.Evaluate[string](
				`[...document.querySelectorAll('.graphiql-sidebar button')].map(b => b.getAttribute('aria-label')).join(' | ')`))
			t.Fatalf("no %q button (%v); the sidebar has: %s", label, err, labels)
		}
	}
	if refetch {
		press("re-fetch")
	}
	press("documentation")
	explorer := `(document.querySelector('.graphiql-doc-explorer') || {innerText: ''}).innerText`
	fail := func(what string, err error) {
		t.Helper()
		shown, _ := chromedp.Run(browserCtx, chromedp.Evaluate[string](explorer))
		t.Fatalf("%s: %v; the documentation explorer shows:\n%s", what, err, shown)
	}
	openQuery := `(() => { const a = [...document.querySelectorAll('.graphiql-doc-explorer a')].find(a => a.innerText.trim() === 'Query');
		if (a) a.click(); return !!a })()`
	if _, err := chromedp.Run(browserCtx, chromedp.Poll[bool](openQuery, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		fail("no Query root type", err)
	}
	listed := `(t => t.includes('feed') && t.includes('shops') && t.includes('node'))(` + explorer + `)`
	if _, err := chromedp.Run(browserCtx, chromedp.Poll[bool](listed, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		fail("the Query type's fields are not listed", err)
	}
}
