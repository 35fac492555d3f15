package main

import (
	"context"
	"io"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"showcase/auth"
	"showcase/store"
	"showcase/store/live"
	"showcase/store/payment"
)

// testTokens signs the tokens of in-process test servers.
func testTokens(t testing.TB) *auth.Tokens {
	t.Helper()
	tokens, err := auth.NewTokens([]byte(strings.Repeat("t", 32)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// testServer serves every route of the API port in-process over db,
// configured by env like the real process; configure may adjust the result.
func testServer(t *testing.T, db *store.DB, tokens *auth.Tokens, hub *live.Hub, env map[string]string, configure ...func(*config)) *httptest.Server {
	t.Helper()
	api, _ := testServers(t, db, tokens, hub, env, configure...)
	return api
}

// testServers is testServer that also serves the debug listener's routes
// (what DEBUG_ADDR serves) on a second server.
// In production it is a staging deployment unless env says otherwise: a
// signing secret, and the test payment provider explicitly allowed.
func testServers(t *testing.T, db *store.DB, tokens *auth.Tokens, hub *live.Hub, env map[string]string, configure ...func(*config)) (api, debug *httptest.Server) {
	t.Helper()
	staging := map[string]string{"JWT_SECRET": strings.Repeat("t", 32), "ALLOW_TEST_PAYMENTS": "true"}
	cfg, err := parseConfig(nil, func(k string) string {
		if v, ok := env[k]; ok || env["APP_ENV"] != "production" {
			return v
		}
		return staging[k]
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range configure {
		c(&cfg)
	}
	apiRoutes, debugRoutes := newServer(cfg, db, tokens, payment.NewTestProvider(db.DB.DB), store.NewEventBuffer(db), hub)
	api, debug = httptest.NewServer(apiRoutes), httptest.NewServer(debugRoutes)
	t.Cleanup(api.Close)
	t.Cleanup(debug.Close)
	return api, debug
}

// newBrowser starts headless Chromium (Debian's, installed by `make browser`)
// with the flags this sandbox needs and returns a tab.
func newBrowser(t *testing.T, width, height int) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("drives a browser")
	}
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run `make browser` (apt-get install -y chromium)")
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU, chromedp.WindowSize(width, height),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true))...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	tab, cancelTimeout := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
	return tab
}
