package graph_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"
	"time"
)

// TestForgedInputIsTheClientsError: forged product-list cursors (values
// that are not numbers or times, a BEST_SELLING moment of the client's
// choosing), a NUL character in a filter, and a persisted-query hash that
// does not match its query answer BAD_USER_INPUT, never INTERNAL.
func TestForgedInputIsTheClientsError(t *testing.T) {
	a := newTestAPI(t)
	a.fixture("forged")
	cursor := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	long := time.Now().AddDate(-1, 0, 0).UTC().Format(time.RFC3339Nano)
	for name, c := range map[string]struct{ sortKey, after string }{
		"PriceNotANumber":     {"PRICE", cursor(`{"s":"PRICE","v":["USD","abc"],"i":1}`)},
		"PriceOutOfRange":     {"PRICE", cursor(`{"s":"PRICE","v":["USD","99999999999999999999999"],"i":1}`)},
		"CreatedAtNotATime":   {"CREATED_AT", cursor(`{"s":"CREATED_AT","v":["notatime"],"i":1}`)},
		"BestSellingNotCount": {"BEST_SELLING", cursor(`{"s":"BEST_SELLING","v":["x"],"i":1,"t":"` + time.Now().UTC().Format(time.RFC3339Nano) + `"}`)},
		"BestSellingLongAgo":  {"BEST_SELLING", cursor(`{"s":"BEST_SELLING","v":["1"],"i":1,"t":"` + long + `"}`)},
	} {
		resp := a.post("", `query($k: ProductSortKeys, $a: String) { products(first: 2, sortKey: $k, after: $a) { edges { cursor } } }`,
			map[string]any{"k": c.sortKey, "a": c.after})
		if resp.code() != "BAD_USER_INPUT" {
			t.Errorf("%s: %+v", name, resp.Errors)
		}
	}
	for _, filter := range []map[string]any{{"tag": "\u0000"}, {"search": "a\u0000b"}} {
		resp := a.post("", `query($f: ProductFilter) { products(first: 2, filter: $f) { edges { cursor } } }`, map[string]any{"f": filter})
		if resp.code() != "BAD_USER_INPUT" {
			t.Errorf("filter %v: %+v", filter, resp.Errors)
		}
	}
	sum := sha256.Sum256([]byte("{ shops(first: 1) { totalCount } }"))
	resp := a.postExt("{ __typename }", "", map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}})
	if resp.code() != "BAD_USER_INPUT" {
		t.Errorf("APQ hash of another query: %+v", resp.Errors)
	}
}
