package graph

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestWriteResponseWritesWhatJSONMarshalWould: the data-only fast path
// writes the same bytes as json.Marshal of the response, and responses with
// errors, extensions or characters json.Marshal escapes for HTML go through
// json.Marshal.
func TestWriteResponseWritesWhatJSONMarshalWould(t *testing.T) {
	for _, resp := range []*graphql.Response{
		{Data: json.RawMessage(`{"products":{"edges":[{"node":{"title":"Glow Serum","price":{"amount":"19.90"}}}]}}`)},
		{Data: json.RawMessage(`{"product":{"title":"Tom <&> Jerry \u2028"}}`)},
		{Data: json.RawMessage(`{"product":{"title":"Tom \u003c"}}`)},
		{Data: json.RawMessage(`{"product":{"title":"a > b"}}`)},
		{Data: json.RawMessage(`{"product":{"title":"a & b"}}`)},
		{Data: json.RawMessage("{\"product\":{\"title\":\"a \u2029 b\"}}")},
		{Data: json.RawMessage(`{"product":{"title":"精华 kulit ≥ €"}}`)},
		{Data: json.RawMessage(`{"product":null}`), Errors: gqlerror.List{{Message: "nope", Extensions: map[string]any{"code": "NOT_FOUND"}}}},
		{Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"cost": 3}},
		{Data: json.RawMessage(`null`)},
	} {
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		writeResponse(rec, resp)
		if got := rec.Body.String(); got != string(want) {
			t.Errorf("wrote %s\nwant  %s", got, want)
		}
	}
}
