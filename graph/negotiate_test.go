package graph_test

import (
	"testing"

	"showcase/graph"
)

func TestNegotiate(t *testing.T) {
	const (
		json    = graph.MediaJSON
		gql     = graph.MediaGraphQLResponse
		stream  = graph.MediaEventStream
		urql    = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"
		apollo  = "application/graphql-response+json,application/json;q=0.9"
		browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	)
	for _, c := range []struct {
		accept                   string
		streamable, subscription bool
		want                     string
	}{
		{"", true, false, json},
		{"", true, true, json}, // a subscription nobody asked to stream: the transport explains
		{"*/*", true, false, json},
		{"*/*", true, true, stream},
		{"application/*", true, false, json},
		{"application/json", true, false, json},
		{"application/graphql-response+json", true, false, gql},
		{urql, true, false, gql},
		{urql, true, true, stream},
		{apollo, true, false, gql},
		{browser, true, false, json},
		{"text/event-stream", true, false, stream},
		{"text/event-stream", false, false, json}, // a GET cannot stream
		{"application/json;q=0.2, text/event-stream", true, false, stream},
		{"application/json, text/event-stream;q=0", true, true, json},
		{"application/json;q=0.5, application/graphql-response+json;q=0.5", true, false, json},
		{"application/graphql-response+json;q=0.5, application/json;q=0.5", true, false, gql},
		{"application/graphql-response+json;q=0.5, */*", true, false, json},
		{"text/html", true, false, json}, // nothing acceptable: JSON, as the spec allows
		{"application/json;q=bogus, nonsense", true, false, json},
	} {
		if got := graph.Negotiate(c.accept, c.streamable, c.subscription); got != c.want {
			t.Errorf("Negotiate(%q, streamable %v, subscription %v) = %s, want %s", c.accept, c.streamable, c.subscription, got, c.want)
		}
	}
}
