package graph

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

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

// TestUnsharedBodiesPassTheResponseCacheBy checks that the body of a
// document without a query operation (a mutation, a subscription) is
// neither remembered by checkBody nor keyed by the response cache, whose
// answers only queries' are, and that a document with a query among its
// operations, one that does not parse and a persisted query's hash still are.
func TestUnsharedBodiesPassTheResponseCacheBy(t *testing.T) {
	cache := NewResponseCache(time.Second, nil, nil)
	for _, c := range []struct {
		body     string
		unshared bool
	}{
		{`{"query":"mutation($e: [E!]!) { r(e: $e) }","variables":{"e":[{"d":"unshared-1"}]}}`, true},
		{`{"query":"subscription { s }"}`, true},
		{`{"query":"mutation M { r } mutation N { s }","operationName":"N"}`, true},
		{`{"query":"{ __typename } mutation M { r }","variables":{"v":"unshared-2"}}`, false},
		{`{"query":"mutation M { r } query Q { s }","operationName":"M","variables":{"v":"unshared-3"}}`, false},
		{`{"query":"mutation { r"}`, false},
		{`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`, false},
	} {
		f, _ := checkBody([]byte(c.body))
		if f.unshared != c.unshared {
			t.Errorf("%s: unshared %v, want %v", c.body, f.unshared, c.unshared)
		}
		if _, kept := rememberedBodies.Get(context.Background(), c.body); kept == c.unshared {
			t.Errorf("%s: remembered %v, want %v", c.body, kept, !c.unshared)
		}
		r, _ := http.NewRequest(http.MethodPost, "/graphql", nil)
		r.Header.Set("Content-Type", MediaJSON)
		r.Header.Set("Accept", MediaJSON)
		b := newCheckedBody([]byte(c.body))
		b.unshared = f.unshared
		r.Body = b
		if _, keyed := cache.key(r); keyed == c.unshared {
			t.Errorf("%s: keyed by the response cache %v, want %v", c.body, keyed, !c.unshared)
		}
	}
}
