package graph

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// TestRememberedBodyFactsAreTheDecodedOnes sends each body twice through
// checkBody (the second answer comes from the remembered facts) and checks
// both against a fresh decode, and that the checked body is handed on whole.
func TestRememberedBodyFactsAreTheDecodedOnes(t *testing.T) {
	for _, body := range []string{
		`{"query":"{ __typename }"}`,
		`{"query":"query Q { __typename }","operationName":"Q","variables":{"a":1}}`,
		`{"query":1}`,
		`{"variables":[]}`,
		`{}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`,
		`{"query":"{ a }"` + strings.Repeat(" ", maxRememberedBody) + `}`,
		`{"query":"{ a }"} {}`,
		`{"query":null,"extensions":{"persistedQuery":null}}`,
		`{"query":"mutation($e: [E!]!) { r(e: $e) }","variables":{"e":[{"n":1.50,"s":"x","b":true,"z":null}]},"headers":1}`,
		`{"QUERY":"{ a }","Variables":{"a":"b"}}`,
		`{"query":"{ a }","variables":"x"}`,
		`{"query":"{ a }","operationName":7}`,
	} {
		want := bodyFactsOf([]byte(body))
		for i := 0; i < 2; i++ {
			if got, _ := checkBody([]byte(body)); got != want {
				t.Errorf("%.40s, sent %d: %+v, want %+v", body, i+1, got, want)
			}
		}
		// Decoded once: the facts are the same, and the parameters handed to
		// the transport are what readParams decodes from the body.
		got, params := bodyFactsAndParams([]byte(body))
		if got != want {
			t.Errorf("%.40s: decoded once %+v, want %+v", body, got, want)
		}
		if (params != nil) != (!want.bad && !want.noQuery) {
			t.Errorf("%.40s: parameters %+v for facts %+v", body, params, want)
		}
		if params != nil {
			var fresh graphql.RawParams
			if err := decodeJSON(strings.NewReader(body), &fresh); err != nil || !reflect.DeepEqual(*params, fresh) {
				t.Errorf("%.40s: parameters %+v, readParams decodes %+v (%v)", body, *params, fresh, err)
			}
			r, _ := http.NewRequest(http.MethodPost, "/graphql", nil)
			b := newCheckedBody([]byte(body))
			b.params = params
			r.Body = b
			var read graphql.RawParams
			if err := readParams(r, &read); err != nil || !reflect.DeepEqual(read, fresh) {
				t.Errorf("%.40s: readParams took %+v, want %+v (%v)", body, read, fresh, err)
			}
		}
	}
	r, _ := http.NewRequest(http.MethodPost, "/graphql", nil)
	r.Body = newCheckedBody([]byte(`{"query":"{ __typename }"}`))
	if b, ok := checkedBytes(r); !ok || string(b) != `{"query":"{ __typename }"}` {
		t.Fatalf("checkedBytes = %q, %v", b, ok)
	}
	_, _ = r.Body.Read(make([]byte, 1))
	if _, ok := checkedBytes(r); ok {
		t.Fatal("checkedBytes of a body partly read")
	}
}
