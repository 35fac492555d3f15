package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// fanout is the live scenario's finding: how long a comment took to reach
// each subscriber of one session, from the moment it was sent.
type fanout struct {
	Subscribers int
	Comments    int
	Deliveries  int
	Missed      int
	P50, P99    float64 // ms
	Max         float64
}

type wsMessage struct {
	ID      string         `json:"id,omitempty"`
	Type    string         `json:"type"`
	Payload map[string]any `json:"payload,omitempty"`
}

const commentSubscription = `subscription($id: ID!) { liveSessionEvents(sessionId: $id) { __typename ... on CommentAdded { comment { body } } } }`

// liveFanout subscribes many websocket clients (graphql-transport-ws) to one
// session on air, posts comments one at a time through the API, and times
// each comment's arrival at every subscriber.
func liveFanout(ctx context.Context, e *environment, subscribers, comments int) (fanout, error) {
	var sessionID int64
	if err := e.db.GetContext(ctx, &sessionID, `UPDATE contents SET live_status = 'LIVE', started_at = coalesce(started_at, now()),
			published_at = least(published_at, now())
		WHERE id = (SELECT min(id) FROM contents WHERE kind = 'LIVE') RETURNING id`); err != nil {
		return fanout{}, fmt.Errorf("a live session on air: %w", err)
	}
	session := gid("LiveSession", sessionID)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var mu sync.Mutex
	arrived := map[string][]time.Time{} // comment body -> arrival times
	var conns []*websocket.Conn
	var readers sync.WaitGroup
	defer func() {
		cancel()
		for _, c := range conns {
			_ = c.CloseNow()
		}
		readers.Wait()
	}()
	dial := make(chan struct{}, 32) // connections set up at once
	var dialing sync.WaitGroup
	var dialErr error
	for i := 0; i < subscribers; i++ {
		dial <- struct{}{}
		dialing.Add(1)
		go func() {
			defer func() { <-dial; dialing.Done() }()
			c, err := subscribe(ctx, e.base, session)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				dialErr = err
				return
			}
			conns = append(conns, c)
			readers.Add(1)
			go func() {
				defer readers.Done()
				for {
					var m wsMessage
					if err := wsjson.Read(ctx, c, &m); err != nil {
						return
					}
					if m.Type == "ping" {
						_ = wsjson.Write(ctx, c, wsMessage{Type: "pong"})
						continue
					}
					body := commentBody(m)
					if body == "" {
						continue
					}
					at := time.Now()
					mu.Lock()
					arrived[body] = append(arrived[body], at)
					mu.Unlock()
				}
			}()
		}()
	}
	dialing.Wait()
	if dialErr != nil {
		return fanout{}, fmt.Errorf("subscribe: %w", dialErr)
	}
	time.Sleep(time.Second) // every subscription registered with the hub

	res := fanout{Subscribers: subscribers, Comments: comments}
	var latencies []float64
	for i := 0; i < comments; i++ {
		body := fmt.Sprintf("bench comment %d", i)
		sent := time.Now()
		req, err := graphqlRequest(e.base, e.token, `mutation($id: ID!, $b: String!) { commentOnContent(contentId: $id, body: $b) { comment { id } userErrors { code } } }`,
			map[string]any{"id": session, "b": body})
		if err != nil {
			return res, err
		}
		if send(req) != "" {
			return res, fmt.Errorf("comment %d was refused", i)
		}
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			n := len(arrived[body])
			mu.Unlock()
			if n >= subscribers {
				break
			}
		}
		mu.Lock()
		for _, at := range arrived[body] {
			latencies = append(latencies, float64(at.Sub(sent).Microseconds())/1000)
		}
		res.Missed += subscribers - len(arrived[body])
		mu.Unlock()
	}
	res.Deliveries = len(latencies)
	if len(latencies) > 0 {
		slices.Sort(latencies)
		at := func(q float64) float64 { return latencies[int(q*float64(len(latencies)-1))] }
		res.P50, res.P99, res.Max = at(0.5), at(0.99), latencies[len(latencies)-1]
	}
	return res, nil
}

// subscribe opens an anonymous graphql-transport-ws connection and
// subscribes it to a session's events.
func subscribe(ctx context.Context, base, session string) (*websocket.Conn, error) {
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dialCtx, "ws"+strings.TrimPrefix(base, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: http.Header{}})
	if err != nil {
		return nil, err
	}
	if err := wsjson.Write(dialCtx, c, wsMessage{Type: "connection_init", Payload: map[string]any{}}); err != nil {
		c.CloseNow()
		return nil, err
	}
	var ack wsMessage
	if err := wsjson.Read(dialCtx, c, &ack); err != nil || ack.Type != "connection_ack" {
		c.CloseNow()
		return nil, fmt.Errorf("no connection_ack: %v %+v", err, ack)
	}
	if err := wsjson.Write(dialCtx, c, wsMessage{ID: "1", Type: "subscribe", Payload: map[string]any{
		"query": commentSubscription, "variables": map[string]any{"id": session}}}); err != nil {
		c.CloseNow()
		return nil, err
	}
	return c, nil
}

// commentBody returns the body of a CommentAdded event, or "".
func commentBody(m wsMessage) string {
	if m.Type != "next" {
		return ""
	}
	data, _ := m.Payload["data"].(map[string]any)
	ev, _ := data["liveSessionEvents"].(map[string]any)
	comment, _ := ev["comment"].(map[string]any)
	body, _ := comment["body"].(string)
	return body
}
