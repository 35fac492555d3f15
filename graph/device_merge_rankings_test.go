package graph_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"showcase/store"
)

// Logging in (or signing up) with a deviceId writes the account's profile
// (the device's learning is merged into it), so, as for any other write of
// the viewer's, their next first page is ranked again with it: on the API
// process that ran the log-in at once, and on the others once the
// notification lands (at most FEED_RANKING_TTL late without it). Here the
// TTL is a minute, so a kept arrangement would show for the whole test.
func TestLogInWithADeviceForgetsTheAccountsArrangements(t *testing.T) {
	a := newTestAPIWith(t, countingStatements)
	a.serveWith(0, listeningRankings(t, a.dsn))
	b := &testAPI{t: t, db: a.db, dsn: a.dsn, tokens: a.tokens, payments: a.payments, events: store.NewEventBuffer(a.db)}
	b.serveWith(0, listeningRankings(t, a.dsn))
	a.manyContents(30)
	var up struct {
		SignUp struct {
			Token      *string
			UserErrors []userError
		}
	}
	a.ok("", `mutation { signUp(input: { email: "merger@example.com", password: "password-1", handle: "merger", displayName: "M" }) { token userErrors { field message code } } }`, nil, &up)
	if up.SignUp.Token == nil {
		t.Fatalf("signUp: %+v", up.SignUp.UserErrors)
	}
	token := *up.SignUp.Token

	// The device marks the account's current first item not interested,
	// signed out; then the person logs in on it through api.
	logInOnDevice := func(api *testAPI, device string) string {
		t.Helper()
		first, _ := a.firstPage(token, 10)
		a.firstPage(token, 10) // kept by a
		var rec recordOut
		api.ok("", recordEventsMutation, map[string]any{"events": []map[string]any{{"type": "NOT_INTERESTED", "contentId": first[0], "deviceId": device}}}, &rec)
		if rec.RecordEvents.Accepted != 1 {
			t.Fatalf("recordEvents: %+v", rec)
		}
		if err := api.events.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		var in struct{ LogIn struct{ Token *string } }
		api.ok("", `mutation($d: String) { logIn(input: { email: "merger@example.com", password: "password-1", deviceId: $d }) { token } }`, map[string]any{"d": device}, &in)
		if in.LogIn.Token == nil {
			t.Fatal("logIn refused")
		}
		return first[0]
	}

	dismissed := logInOnDevice(a, "device-one")
	if page, _ := a.firstPage(token, 10); slices.Contains(page, dismissed) {
		t.Fatalf("after logging in with the device on this process, the first page still shows what the device dismissed: %v", page)
	}

	dismissed = logInOnDevice(b, "device-two")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		page, _ := a.firstPage(token, 10)
		if !slices.Contains(page, dismissed) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after logging in with the device through another process, this one still shows what it dismissed: %v", page)
		}
	}
}
