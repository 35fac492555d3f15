package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserPage drives one Chromium tab (from newBrowser) for a storefront
// test. eval runs JavaScript that answers a string; waitFor polls an
// expression for up to 30 seconds and, when it stays false, writes the
// screenshot failShot and fails the test with the URL and the sheet's HTML;
// shot writes a screenshot to .artifacts/.
type browserPage struct {
	t        *testing.T
	ctx      context.Context
	failShot string
}

func (p browserPage) eval(js string) string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return v
}

func (p browserPage) shot(name string) {
	if png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(filepath.Join(artifactsDir, name), png, 0o644)
	}
}

func (p browserPage) waitFor(js string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		p.shot(p.failShot)
		state, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`location.href + "\n" + document.getElementById('sheet').outerHTML`))
		p.t.Fatalf("waiting for %s: %v\npage: %.2000s", js, err, state)
	}
}
