package main

import (
	"encoding/json"
	"fmt"
	"io"
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
