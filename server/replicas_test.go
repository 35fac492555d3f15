package main

import (
	"context"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"showcase/store/storetest"
)

// TestCommentsReachSubscribersOnAnotherProcess runs two server processes on
// one database: a comment posted through one reaches a websocket subscriber
// of the other, through PostgreSQL LISTEN/NOTIFY.
func TestCommentsReachSubscribersOnAnotherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	dsn := storetest.DSN(t)
	bin, _ := buildServer(t)
	a := startServer(t, bin, dsn, "-seed")
	b := startServer(t, bin, dsn)

	var login struct {
		LogIn struct{ Token string }
	}
	post(t, a.base, "", `mutation { logIn(input: {email: "seller@showcase.dev", password: "showcase-demo"}) { token } }`, &login)
	var sessions struct {
		Shops struct {
			Edges []struct {
				Node struct {
					LiveSessions struct {
						Edges []struct{ Node struct{ ID, Status string } }
					}
				}
			}
		}
	}
	post(t, a.base, "", `{ shops(first: 50) { edges { node { liveSessions(first: 20) { edges { node { id status } } } } } } }`, &sessions)
	var sessionID string
	for _, s := range sessions.Shops.Edges {
		for _, ls := range s.Node.LiveSessions.Edges {
			if ls.Node.Status == "LIVE" && sessionID == "" {
				sessionID = ls.Node.ID
			}
		}
	}
	if sessionID == "" {
		t.Fatal("the demo data has no live session on air")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(b.base, "http")+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(coderws.StatusNormalClosure, "done")
	type msg struct {
		ID      string         `json:"id,omitempty"`
		Type    string         `json:"type"`
		Payload map[string]any `json:"payload,omitempty"`
	}
	if err := wsjson.Write(ctx, conn, msg{Type: "connection_init", Payload: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	var ack msg
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("ack: %v %+v", err, ack)
	}
	if err := wsjson.Write(ctx, conn, msg{ID: "1", Type: "subscribe", Payload: map[string]any{
		"query":     `subscription($id: ID!) { liveSessionEvents(sessionId: $id) { __typename ... on CommentAdded { comment { body } } } }`,
		"variables": map[string]any{"id": sessionID}}}); err != nil {
		t.Fatal(err)
	}
	// Post once B counts the subscriber: then it is registered.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var v struct{ LiveSession struct{ ViewerCount int } }
		post(t, b.base, "", `{ liveSession(id: "`+sessionID+`") { viewerCount } }`, &v)
		if v.LiveSession.ViewerCount >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("process B never counted the subscriber")
		}
	}
	var out struct {
		CommentOnContent struct{ Comment struct{ ID string } }
	}
	post(t, a.base, login.LogIn.Token, `mutation { commentOnContent(contentId: "`+sessionID+`", body: "hello from process A") { comment { id } } }`, &out)
	for {
		var m msg
		if err := wsjson.Read(ctx, conn, &m); err != nil {
			t.Fatalf("process B never delivered the comment: %v\n%s", err, b.stderr.String())
		}
		if m.Type == "next" && strings.Contains(toJSON(m.Payload), "hello from process A") {
			return
		}
	}
}
