package main

import (
	"encoding/json"
	"testing"

	"showcase/store/storetest"
)

// TestGraphQLOverHTTPAudit runs graphql-http's own server audit (the
// GraphQL-over-HTTP spec's 61 checks, npm graphql-http 1.23.1) against the
// real routes and fails on anything but ok.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	db := storetest.NewDB(t)
	srv := testServer(t, db, testTokens(t), nil, map[string]string{"RATE_LIMIT_RPS": "10000", "RATE_LIMIT_BURST": "10000"})
	var results []struct {
		ID, Name, Status, Reason string
	}
	if err := json.Unmarshal(runNode(t, "audit.mjs", srv.URL+"/graphql"), &results); err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, r := range results {
		if r.Status == "ok" {
			ok++
			continue
		}
		t.Errorf("%s %s %s: %s", r.Status, r.ID, r.Name, r.Reason)
	}
	if ok != 61 || len(results) != 61 {
		t.Errorf("%d of %d audits ok; want 61 of 61", ok, len(results))
	}
}
