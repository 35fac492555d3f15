package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/golang-jwt/jwt/v5"

	"showcase/auth"
	"showcase/store"
)

// harnessSecret is the HS256 secret of newTestAPI's token service.
var harnessSecret = []byte(strings.Repeat("k", 32))

// shortTokens signs with the harness's secret but for ttl.
func shortTokens(t *testing.T, ttl time.Duration) *auth.Tokens {
	t.Helper()
	tokens, err := auth.NewTokens(harnessSecret, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// rawInit dials and sends connection_init with payload, without waiting for
// the ack.
func rawInit(ctx context.Context, t *testing.T, srv *httptest.Server, payload map[string]any) *coderws.Conn {
	t.Helper()
	conn, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init", Payload: payload}); err != nil {
		t.Fatal(err)
	}
	return conn
}

// closeOf reads until the connection ends and returns its close code and
// reason, failing if a data message arrives first and dataAllowed is false.
func closeOf(ctx context.Context, t *testing.T, conn *coderws.Conn, dataAllowed bool) (coderws.StatusCode, string) {
	t.Helper()
	for {
		var m wsMessage
		err := wsjson.Read(ctx, conn, &m)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("the connection stayed open")
			}
			var ce coderws.CloseError
			if errors.As(err, &ce) {
				return ce.Code, ce.Reason
			}
			t.Fatalf("the connection ended without a close frame: %v", err)
		}
		if m.Type == "ping" {
			_ = wsjson.Write(ctx, conn, wsMessage{Type: "pong"})
			continue
		}
		if !dataAllowed {
			t.Fatalf("got %s %+v, want the connection closed", m.Type, m.Payload)
		}
	}
}

func TestBadTokenClosesTheWebsocketAt4403(t *testing.T) {
	a := newTestAPI(t)
	srv, _ := a.liveServer()
	_, u := a.user("victim", false)
	expired, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": fmt.Sprint(u.ID), "iss": auth.DefaultIssuer,
		"aud": auth.DefaultAudience, "exp": time.Now().Add(-time.Hour).Unix()}).SignedString(harnessSecret)
	good, _ := a.tokens.Issue(u.ID)
	// Expired 5 s ago: inside the 30 s validation leeway, yet no stream may start on it.
	justExpired, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": fmt.Sprint(u.ID), "iss": auth.DefaultIssuer,
		"aud": auth.DefaultAudience, "exp": time.Now().Add(-5 * time.Second).Unix()}).SignedString(harnessSecret)
	tampered := good[:len(good)-4] + "AAAA"
	if strings.HasSuffix(good, "AAAA") {
		tampered = good[:len(good)-4] + "BBBB"
	}
	unknownKid := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": fmt.Sprint(u.ID), "iss": auth.DefaultIssuer,
		"aud": auth.DefaultAudience, "exp": time.Now().Add(time.Hour).Unix()})
	unknownKid.Header["kid"] = "k9"
	kidToken, _ := unknownKid.SignedString(harnessSecret)
	cases := map[string]map[string]any{
		"BearerGarbage":       {"Authorization": "Bearer garbage"},
		"Expired":             {"Authorization": "Bearer " + expired},
		"JustExpired":         {"Authorization": "Bearer " + justExpired},
		"Tampered":            {"Authorization": "Bearer " + tampered},
		"UnknownKid":          {"Authorization": "Bearer " + kidToken},
		"BasicScheme":         {"Authorization": "Basic dXNlcjpwYXNz"},
		"NoScheme":            {"Authorization": good},
		"GarbageAuthToken":    {"authToken": "garbage"},
		"NumberToken":         {"token": 42},
		"HeadersNotAnObject":  {"headers": "Authorization: Bearer " + good},
		"GarbageInHeaders":    {"headers": map[string]any{"Authorization": "Bearer garbage"}},
		"TwoDifferentTokens":  {"Authorization": "Bearer " + good, "authToken": expired},
		"EmptyBearer":         {"authorization": "Bearer "},
		"OversizedTokenValue": {"token": strings.Repeat("a", 60<<10)},
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn := rawInit(ctx, t, srv, payload)
			if code, reason := closeOf(ctx, t, conn, false); code != 4403 || reason == "" {
				t.Fatalf("closed with %d %q, want 4403 and a reason", code, reason)
			}
		})
	}
}

func TestWebsocketAcceptsTheTokenUnderTheUsualKeys(t *testing.T) {
	a := newTestAPI(t)
	srv, _ := a.liveServer()
	token, _ := a.user("keys", false)
	for name, payload := range map[string]map[string]any{
		"Authorization":         {"Authorization": "Bearer " + token},
		"authorization":         {"authorization": "Bearer " + token},
		"authToken":             {"authToken": token},
		"authTokenBearer":       {"authToken": "Bearer " + token},
		"token":                 {"token": token},
		"accessToken":           {"accessToken": token},
		"headers.Authorization": {"headers": map[string]any{"Authorization": "Bearer " + token}},
		"headers.authorization": {"headers": map[string]any{"authorization": "bearer " + token}},
		"SameTokenTwice":        {"Authorization": "Bearer " + token, "authToken": token},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn := rawInit(ctx, t, srv, payload)
			var ack wsMessage
			if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
				t.Fatalf("no ack: %v %+v", err, ack)
			}
			if err := wsjson.Write(ctx, conn, wsMessage{ID: "1", Type: "subscribe", Payload: map[string]any{"query": `{ viewer { handle } }`}}); err != nil {
				t.Fatal(err)
			}
			var m wsMessage
			if err := wsjson.Read(ctx, conn, &m); err != nil || m.Type != "next" || !strings.Contains(streamJSON(m.Payload), `"handle":"keys"`) {
				t.Fatalf("viewer over the socket = %v %+v, want the signed-in user", err, m)
			}
		})
	}
	t.Run("NoTokenIsAnonymous", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn := rawInit(ctx, t, srv, map[string]any{"clientName": "x"})
		var ack wsMessage
		if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
			t.Fatalf("no ack: %v %+v", err, ack)
		}
	})
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ Event, Data string }

// openSSE starts a live-events subscription over Server-Sent Events and
// returns a channel of its events, closed when the stream ends.
func openSSE(ctx context.Context, t *testing.T, srv *httptest.Server, token, sessionID string) <-chan sseEvent {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": liveEventsSubscription, "variables": map[string]any{"id": sessionID}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("SSE status %d", res.StatusCode)
	}
	out := make(chan sseEvent, 100)
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.Event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return out
}

// sseEnd waits for the stream to end and checks it ended with a final
// `next` error event carrying UNAUTHENTICATED and reason, then `complete`,
// and nothing else after the error.
func sseEnd(ctx context.Context, t *testing.T, events <-chan sseEvent, reason string) {
	t.Helper()
	var all []sseEvent
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				if len(all) < 2 || all[len(all)-1].Event != "complete" {
					t.Fatalf("the stream ended without complete: %+v", all)
				}
				last := all[len(all)-2]
				var body struct {
					Data   any
					Errors []struct {
						Extensions map[string]any
					}
				}
				if err := json.Unmarshal([]byte(last.Data), &body); err != nil || last.Event != "next" || body.Data != nil ||
					len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != "UNAUTHENTICATED" || body.Errors[0].Extensions["reason"] != reason {
					t.Fatalf("final event = %+v, want a next with UNAUTHENTICATED/%s", last, reason)
				}
				return
			}
			all = append(all, ev)
		case <-ctx.Done():
			t.Fatalf("the stream stayed open (%s); events so far: %+v", reason, all)
		}
	}
}

// waitSSEData waits for the first data event of a stream (its viewer count),
// so the subscription is known to be running.
func waitSSEData(ctx context.Context, t *testing.T, events <-chan sseEvent) {
	t.Helper()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended before its first event")
			}
			if ev.Event == "next" && strings.Contains(ev.Data, "liveSessionEvents") {
				return
			}
		case <-ctx.Done():
			t.Fatal("no first event")
		}
	}
}

// openWS subscribes to the live events over a websocket and waits for the
// first event.
func openWS(ctx context.Context, t *testing.T, srv *httptest.Server, token, sessionID string) *wsClient {
	t.Helper()
	c, err := dialLive(ctx, srv, token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.conn.CloseNow() })
	if err := c.subscribe("1", sessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.next(true); err != nil {
		t.Fatal(err)
	}
	return c
}

// wsEnd waits for the websocket to close with 4403 and a reason.
func wsEnd(ctx context.Context, t *testing.T, c *wsClient, what string) {
	t.Helper()
	code, reason := closeOf(ctx, t, c.conn, true)
	if code != 4403 || reason == "" {
		t.Fatalf("%s: closed with %d %q, want 4403", what, code, reason)
	}
}

func TestStreamsEndWhenTheTokenExpires(t *testing.T) {
	a := newTestAPI(t)
	w := newLiveWorld(a)
	srv, _ := a.liveServer()
	short := shortTokens(t, 3*time.Second)
	_, viewer := a.user("brief2", false)
	person, _ := short.Issue(viewer.ID)
	_, appID := a.appToken(w.f.sellerToken, w.f.shopID, []string{"content:read"})
	_, seller := a.sellerOf(w)
	app, _ := short.IssueApp(mustID(t, appID), seller, mustID(t, w.f.shopID), []string{"content:read"})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	personSSE := openSSE(ctx, t, srv, person, w.session)
	appSSE := openSSE(ctx, t, srv, app, w.session)
	waitSSEData(ctx, t, personSSE)
	waitSSEData(ctx, t, appSSE)
	personWS := openWS(ctx, t, srv, person, w.session)
	appWS := openWS(ctx, t, srv, app, w.session)
	// Events keep coming until the end; none may follow it.
	stop := keepCommenting(a, w)
	defer stop()
	sseEnd(ctx, t, personSSE, "TOKEN_EXPIRED")
	sseEnd(ctx, t, appSSE, "TOKEN_EXPIRED")
	wsEnd(ctx, t, personWS, "person")
	wsEnd(ctx, t, appWS, "app")
}

// sellerOf returns the fixture seller's token and user id.
func (a *testAPI) sellerOf(w liveWorld) (string, int64) {
	a.t.Helper()
	var v struct{ Viewer struct{ ID string } }
	a.ok(w.f.sellerToken, `{ viewer { id } }`, nil, &v)
	return w.f.sellerToken, mustID(a.t, v.Viewer.ID)
}

// keepCommenting starts the session and comments on it until stopped, so
// open streams have events to deliver.
func keepCommenting(a *testAPI, w liveWorld) func() {
	a.ok(w.f.sellerToken, `mutation($id: ID!) { startLiveSession(id: $id) { userErrors { code } } }`, map[string]any{"id": w.session}, nil)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				_, _ = a.postRaw(w.f.sellerToken, `mutation($id: ID!) { commentOnContent(contentId: $id, body: "still here") { comment { id } } }`,
					map[string]any{"id": w.session})
			}
		}
	}()
	return func() { close(done); <-finished }
}

func TestStreamsEndWhenTheCredentialIsRevoked(t *testing.T) {
	a := newTestAPI(t)
	w := newLiveWorld(a)
	replicaA, _ := a.liveServer()
	replicaB, _ := a.liveServer() // a.post goes through replica B
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stop := keepCommenting(a, w)
	defer stop()

	t.Run("AppRevoked", func(t *testing.T) {
		app, appID := a.appToken(w.f.sellerToken, w.f.shopID, []string{"content:read"})
		sse := openSSE(ctx, t, replicaA, app, w.session)
		waitSSEData(ctx, t, sse)
		ws := openWS(ctx, t, replicaA, app, w.session)
		a.ok(w.f.sellerToken, `mutation($id: ID!) { revokeApp(id: $id) { app { id } } }`, map[string]any{"id": appID}, nil)
		sseEnd(ctx, t, sse, "APP_REVOKED")
		wsEnd(ctx, t, ws, "revoked app")
		if resp := httpPost(t, replicaA, app, `{ __typename }`, nil); resp.Status != http.StatusUnauthorized {
			t.Fatalf("the revoked app's token over HTTP: %d", resp.Status)
		}
	})
	logIn := func(email string) authOut2 {
		var out struct{ LogIn authOut2 }
		a.ok("", `mutation($e: String!) { logIn(input: {email: $e, password: "long enough"}) { token refreshToken } }`, map[string]any{"e": email}, &out)
		return out.LogIn
	}
	var up struct{ SignUp authOut2 }
	a.ok("", `mutation { signUp(input: {email: "s@example.com", password: "long enough", handle: "sam", displayName: "Sam"}) { token } }`, nil, &up)

	t.Run("LoggedOut", func(t *testing.T) {
		s := logIn("s@example.com")
		other := logIn("s@example.com") // another session of the same person lives on
		sse := openSSE(ctx, t, replicaA, s.Token, w.session)
		waitSSEData(ctx, t, sse)
		ws := openWS(ctx, t, replicaA, s.Token, w.session)
		otherWS := openWS(ctx, t, replicaA, other.Token, w.session)
		a.ok("", `mutation($t: String!) { logOut(refreshToken: $t) { ok } }`, map[string]any{"t": s.RefreshToken}, nil)
		sseEnd(ctx, t, sse, "SESSION_ENDED")
		wsEnd(ctx, t, ws, "logged-out session")
		if resp := httpPost(t, replicaB, s.Token, `{ viewer { handle } }`, nil); resp.Status != http.StatusUnauthorized {
			t.Fatalf("the logged-out access token over HTTP: %d", resp.Status)
		}
		if resp := httpPost(t, replicaB, other.Token, `{ viewer { handle } }`, nil); resp.Status != http.StatusOK {
			t.Fatalf("the other session's token over HTTP: %d", resp.Status)
		}
		if _, err := otherWS.next(false); err != nil {
			t.Fatalf("the other session's stream ended too: %v", err)
		}
	})

	t.Run("RefreshTokenReused", func(t *testing.T) {
		s := logIn("s@example.com")
		var next struct{ RefreshSession authOut2 }
		a.ok("", `mutation($t: String!) { refreshSession(refreshToken: $t) { token refreshToken } }`, map[string]any{"t": s.RefreshToken}, &next)
		sse := openSSE(ctx, t, replicaA, next.RefreshSession.Token, w.session)
		waitSSEData(ctx, t, sse)
		ws := openWS(ctx, t, replicaA, s.Token, w.session)
		// The first refresh token again: a thief; the whole session ends.
		a.ok("", `mutation($t: String!) { refreshSession(refreshToken: $t) { token } }`, map[string]any{"t": s.RefreshToken}, nil)
		sseEnd(ctx, t, sse, "SESSION_ENDED")
		wsEnd(ctx, t, ws, "reused session")
	})
}

func streamJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// countingChecker passes revocation checks to the real store and records
// how many credentials each check carried.
type countingChecker struct {
	auth.RevocationChecker
	mu      sync.Mutex
	batches []int
}

func (c *countingChecker) EndedCredentials(ctx context.Context, apps, sessions []int64) ([]int64, []int64, error) {
	c.mu.Lock()
	c.batches = append(c.batches, len(apps)+len(sessions))
	c.mu.Unlock()
	return c.RevocationChecker.EndedCredentials(ctx, apps, sessions)
}

// TestStreamGuardChecksEveryStreamInOneStatement holds many streams' credentials
// and revokes one app and one session: only their streams end, with their
// reasons, and every check carries all the held credentials at once (one
// statement per interval, however many streams).
func TestStreamGuardChecksEveryStreamInOneStatement(t *testing.T) {
	a := newTestAPI(t)
	ctx := context.Background()
	_, owner := a.user("guard", false)
	checker := &countingChecker{RevocationChecker: a.db}
	guard := auth.NewStreamGuard(checker, 20*time.Millisecond)
	type held struct {
		ctx     context.Context
		release func()
	}
	var apps, sessions []held
	var appIDs, sessionIDs []int64
	for i := 0; i < 100; i++ {
		app, _, err := a.db.CreateApp(ctx, store.NewApp{Name: fmt.Sprint("app", i), Scopes: []string{"content:read"}, CreatedBy: owner.ID})
		if err != nil {
			t.Fatal(err)
		}
		_, sid, err := a.db.IssueRefreshToken(ctx, owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		exp := time.Now().Add(time.Hour)
		actx, arel := guard.Hold(ctx, auth.Claims{UserID: owner.ID, AppID: app.ID, ExpiresAt: exp})
		sctx, srel := guard.Hold(ctx, auth.Claims{UserID: owner.ID, SessionID: sid, ExpiresAt: exp})
		apps, sessions = append(apps, held{actx, arel}), append(sessions, held{sctx, srel})
		appIDs, sessionIDs = append(appIDs, app.ID), append(sessionIDs, sid)
	}
	checker.mu.Lock()
	before := len(checker.batches) // checks made while streams were still being added
	checker.mu.Unlock()
	if _, err := a.db.RevokeApp(ctx, appIDs[7]); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1`, sessionIDs[42]); err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for _, h := range []held{apps[7], sessions[42]} {
		select {
		case <-h.ctx.Done():
		case <-wait.Done():
			t.Fatal("a revoked credential's stream lived on")
		}
	}
	if end := auth.StreamEndOf(apps[7].ctx); end != auth.ErrAppRevoked {
		t.Fatalf("app stream ended with %v", end)
	}
	if end := auth.StreamEndOf(sessions[42].ctx); end != auth.ErrSessionEnded {
		t.Fatalf("session stream ended with %v", end)
	}
	for i := range apps {
		if i != 7 && apps[i].ctx.Err() != nil || i != 42 && sessions[i].ctx.Err() != nil {
			t.Fatalf("stream %d ended though its credential is good", i)
		}
	}
	// The check that ended them may have begun (and been recorded) before
	// before was read, its statement running after the revocations: wait
	// for one begun after, as the guard runs every 20 ms while streams are
	// held.
	for {
		checker.mu.Lock()
		ran := len(checker.batches) > before
		checker.mu.Unlock()
		if ran {
			break
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-wait.Done():
			t.Fatal("no check ran")
		}
	}
	checker.mu.Lock()
	for _, n := range checker.batches[before:] {
		if n != 200 {
			t.Fatalf("a check carried %d credentials, want all 200 in one: %v", n, checker.batches[before:])
		}
	}
	checker.mu.Unlock()
	for i := range apps {
		apps[i].release()
		sessions[i].release()
	}
}
