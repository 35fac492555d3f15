package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"showcase/auth"
	"showcase/store"
	"showcase/store/payment"
	"showcase/store/storetest"
)

func TestMetricsEndpoint(t *testing.T) {
	db := storetest.NewDB(t)
	tokens, _ := auth.NewTokens([]byte(strings.Repeat("m", 32)), time.Hour)
	cfg, _ := parseConfig(nil, func(string) string { return "" }, io.Discard)
	srv := httptest.NewServer(newServer(cfg, db, tokens, payment.NewTestProvider(), store.NewEventBuffer(db), nil))
	defer srv.Close()
	deep := `{"query": "{ a { b { c { d { e { f { g { h { i { j { k { l { m } } } } } } } } } } } } }"}`
	for _, body := range []string{`{"query": "query ShopCount { shops { totalCount } }"}`, `[{"query": "{ __typename }"}]`, deep} {
		res, err := http.Post(srv.URL+"/graphql", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		`showcase_graphql_operations_total{operation="ShopCount",outcome="ok"} 1`,
		`showcase_graphql_operation_seconds_count{operation="ShopCount"} 1`,
		`showcase_http_rejected_total{reason="BATCHING_NOT_SUPPORTED"} 1`,
		`showcase_events_pending 0`,
		`outcome="DEPTH_LIMIT_EXCEEDED"} 1`,
		`go_sql_max_open_connections{db_name="showcase"}`,
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
