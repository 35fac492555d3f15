package graph

import (
	"net/http"
	"strings"
	"testing"
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
	} {
		want := bodyFactsOf([]byte(body))
		for i := 0; i < 2; i++ {
			if got := checkBody([]byte(body)); got != want {
				t.Errorf("%.40s, sent %d: %+v, want %+v", body, i+1, got, want)
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
