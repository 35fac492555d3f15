package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"
)

// TestAdmissionMultipartQueryTakesATurn: the exemptions are for uploads
// and streams only. With the one slot held and no queue, a signed-in
// client's query sent as multipart/form-data (no file), and a query asking
// for an event stream, are refused with 503 SERVICE_UNAVAILABLE instead of
// executing beside the limit.
func TestAdmissionMultipartQueryTakesATurn(t *testing.T) {
	api, debug, token, lockProducts := serverForAdmission(t, "0")
	unlock := lockProducts()
	held := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, api.URL+"/graphql",
			bytes.NewReader([]byte(`{"query":"{ held: products(first: 1) { edges { node { id } } } }"}`)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cache-Control", "no-cache")
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		held <- err
	}()
	awaitAdmission(t, debug.URL, 1, 0)

	client := &http.Client{Timeout: 5 * time.Second}
	// A signed-in client's query sent as multipart/form-data, no file.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("operations", `{"query":"{ products(first: 1) { edges { node { id } } } }"}`)
	_ = mw.WriteField("map", `{}`)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/graphql", &form)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	if res, err := client.Do(req); err != nil {
		t.Errorf("multipart query executed beside the limit (blocked on the lock): %v", err)
	} else {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var e struct {
			Errors []struct {
				Extensions struct{ Code string } `json:"extensions"`
			} `json:"errors"`
		}
		if res.StatusCode != http.StatusServiceUnavailable || json.Unmarshal(body, &e) != nil || len(e.Errors) != 1 ||
			e.Errors[0].Extensions.Code != "SERVICE_UNAVAILABLE" {
			t.Errorf("multipart query while full: %d %s, want 503 SERVICE_UNAVAILABLE", res.StatusCode, body)
		}
	}
	// A query asking for an event stream (README: "one result when the
	// client prefers a stream") is not a long-lived stream: it takes a turn.
	sse, _ := http.NewRequest(http.MethodPost, api.URL+"/graphql",
		bytes.NewReader([]byte(`{"query":"{ sse: products(first: 1) { edges { node { id } } } }"}`)))
	sse.Header.Set("Content-Type", "application/json")
	sse.Header.Set("Accept", "text/event-stream")
	if res, err := client.Do(sse); err != nil {
		t.Errorf("query over an event stream executed beside the limit (blocked on the lock): %v", err)
	} else {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("query over an event stream while full: %d %s, want 503", res.StatusCode, body)
		}
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-held; err != nil {
		t.Fatal(err)
	}
}
