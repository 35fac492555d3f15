package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"showcase/store/storetest"
)

// TestMetricsEndpoint checks what /metrics tells, on the debug listener's
// routes, and that the API port does not serve it.
func TestMetricsEndpoint(t *testing.T) {
	db := storetest.NewDB(t)
	srv, debug := testServers(t, db, testTokens(t), nil, nil)
	for _, path := range []string{"/metrics", "/debug/pprof/"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || strings.Contains(string(body), "showcase_") {
			t.Fatalf("the API port serves %s: %d %.200s", path, res.StatusCode, body)
		}
	}
	deep := `{"query": "{ a { b { c { d { e { f { g { h { i { j { k { l { m } } } } } } } } } } } } }"}`
	for _, body := range []string{`{"query": "query ShopCount { shops { totalCount } }"}`, `[{"query": "{ __typename }"}]`, deep} {
		res, err := http.Post(srv.URL+"/graphql", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if res, err := http.Get(debug.URL + "/debug/pprof/"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("DEBUG_ADDR's pprof: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	res, err := http.Get(debug.URL + "/metrics")
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
		"showcase_sql_statements_total ",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(text), "showcase_sql_statements_total 0\n") {
		t.Error("the ShopCount query's statement was not counted")
	}
}
