package main

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"showcase/auth"
	"showcase/store"
	"showcase/store/payment"
	"showcase/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestPlaygroundInABrowser opens the embedded GraphiQL in headless Chromium,
// runs a query with an admin's token and reads the result off the page.
func TestPlaygroundInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run `make browser` (apt-get install -y chromium)")
	}
	ctx := context.Background()
	db := storetest.NewDB(t)
	admin, err := db.CreateUser(ctx, store.NewUser{Email: "root@example.com", PasswordHash: "-", Handle: "root.admin", DisplayName: "Root"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE users SET is_admin = true WHERE id = $1`, admin.ID); err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens([]byte(strings.Repeat("p", 32)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := tokens.Issue(admin.ID)
	cfg, _ := parseConfig(nil, func(string) string { return "" }, nil)
	cfg.Production = true // the schema is then visible to admins only
	srv := httptest.NewServer(newServer(cfg, db, tokens, payment.NewTestProvider(), store.NewEventBuffer(db), nil))
	defer srv.Close()

	page := srv.URL + "/playground?" + url.Values{
		"query":   {"{ viewer { handle } __schema { queryType { name } } }"},
		"headers": {`{"Authorization": "Bearer ` + token + `"}`},
	}.Encode()
	allocCtx, cancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true))...)
	defer cancel()
	browserCtx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	browserCtx, cancel = context.WithTimeout(browserCtx, 60*time.Second)
	defer cancel()
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
}
