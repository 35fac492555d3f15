package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestEventBodies: the pre-encoded ingest bodies are the bytes json.Marshal
// writes for the maps the generator used to encode per request.
func TestEventBodies(t *testing.T) {
	b := newEventBodies(gid("Video", 1))
	for _, size := range []int{1, 3, 100} {
		for _, n := range []int64{0, 7, 123456789} {
			events := make([]any, size)
			for i := range events {
				events[i] = map[string]any{"type": "VIEW", "contentId": gid("Video", 1), "watchMs": 1000,
					"deviceId": fmt.Sprintf("%s-%s-%d-%d-%d", "bench", "m3x9k", size, n, i)}
			}
			want, err := json.Marshal(map[string]any{"query": recordEventsMutation, "variables": map[string]any{"e": events}})
			if err != nil {
				t.Fatal(err)
			}
			if got := b.body(nil, "bench", "m3x9k", size, n); string(got) != string(want) {
				t.Fatalf("size %d, n %d:\n got %s\nwant %s", size, n, got, want)
			}
		}
	}
}

// TestPostTemplate: each request made from the template carries its own
// body and length, and the template's headers.
func TestPostTemplate(t *testing.T) {
	post, err := postTemplate("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	a, b := post([]byte(`{"a":1}`)), post([]byte(`{"bb":22}`))
	for _, c := range []struct {
		got  string
		n    int64
		want string
	}{{read(t, a.Body), a.ContentLength, `{"a":1}`}, {read(t, b.Body), b.ContentLength, `{"bb":22}`}} {
		if c.got != c.want || c.n != int64(len(c.want)) {
			t.Fatalf("body %q (%d), want %q", c.got, c.n, c.want)
		}
	}
	if a.Header.Get("Content-Type") != "application/json" || a.Method != "POST" || a.URL.Path != "/graphql" {
		t.Fatalf("%s %s %v", a.Method, a.URL, a.Header)
	}
}

func read(t *testing.T, r io.Reader) string {
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRawConnPost: the ingest group's raw HTTP/1.1 client reads replies as
// net/http's would and classifies them as send does, over one kept-alive
// connection: a 200 with data, chunked bodies, GraphQL errors, other
// statuses, and a server that closes the connection after a reply.
func TestRawConnPost(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/graphql" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch string(body) {
		case "ok":
			_, _ = w.Write([]byte(`{"data":{"recordEvents":{"accepted":1}}}`))
		case "chunked":
			for i := 0; i < 3; i++ {
				_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
				w.(http.Flusher).Flush()
			}
		case "errors":
			_, _ = w.Write([]byte(`{"errors":[{"message":"backed up"}]}`))
		case "close":
			w.Header().Set("Connection", "close")
			_, _ = w.Write([]byte(`{"data":{}}`))
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := newRawConn(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	for _, step := range []struct{ body, failure, reply string }{
		{"ok", "", `{"data":{"recordEvents":{"accepted":1}}}`},
		{"chunked", "", strings.Repeat("x", 15000)},
		{"errors", "GraphQL errors", ""},
		{"503", "HTTP 503", ""},
		{"ok", "", `{"data":{"recordEvents":{"accepted":1}}}`},
		{"close", "", `{"data":{}}`},
		{"ok", "", `{"data":{"recordEvents":{"accepted":1}}}`},
	} {
		if got := c.post([]byte(step.body)); got != step.failure {
			t.Fatalf("%s: failure %q, want %q", step.body, got, step.failure)
		}
		if step.reply != "" && c.reply.String() != step.reply {
			t.Fatalf("%s: reply %.80q, want %.80q", step.body, c.reply.String(), step.reply)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections; want 2 (a new one only after the server closed one)", n)
	}
	srv.Close()
	if got := c.post([]byte("ok")); !strings.HasPrefix(got, "transport: ") {
		t.Fatalf("with the server gone: %q", got)
	}
}
