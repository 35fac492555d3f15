package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"showcase/store/storetest"
)

func TestRateLimits(t *testing.T) {
	db := storetest.NewDB(t)
	srv := testServer(t, db, testTokens(t), nil, map[string]string{"RATE_LIMIT_RPS": "0.01", "RATE_LIMIT_BURST": "10", "AUTH_RATE_LIMIT_PERIOD": "1h"})
	post := func(body string) *http.Response {
		res, err := http.Post(srv.URL+"/graphql", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	// Log-in attempts draw from a bucket of 5 per address.
	login := `{"query": "mutation { logIn(input: {email: \"x@example.com\", password: \"wrong-password\"}) { token } }"}`
	for i := 0; i < 5; i++ {
		if res := post(login); res.StatusCode != 200 {
			t.Fatalf("log-in %d: status %d", i, res.StatusCode)
		}
	}
	if res := post(login); res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth log-in: status %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Everything an anonymous address sends draws from its bucket of 10.
	limited := 0
	for i := 0; i < 10; i++ {
		if post(`{"query": "{ __typename }"}`).StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("no request was limited")
	}
	// The token endpoint has the small bucket too.
	var last int
	for i := 0; i < 7; i++ {
		res, err := http.Post(srv.URL+"/oauth/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=client_credentials&client_id=a&client_secret=b"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		last = res.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("token endpoint after 7 tries: %d", last)
	}
}

func TestBigQueriesCostMore(t *testing.T) {
	l := newRateLimits(0.001, 10, 5, 12*time.Second)
	if ok, _ := l.Allow("user:1", false, 8); !ok {
		t.Fatal("a query costing 8 of 10 was refused")
	}
	if ok, wait := l.Allow("user:1", false, 3); ok || wait <= 0 {
		t.Fatal("a bucket with 2 tokens left paid for a query costing 3")
	}
	if ok, _ := l.Allow("user:2", false, 1000); !ok {
		t.Fatal("another caller was affected, or a huge query can never run")
	}
}
