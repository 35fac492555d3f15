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
}
