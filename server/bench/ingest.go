package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// recordEventsMutation is what the ingest group sends: one mutation whose
// events are the variable $e.
const recordEventsMutation = `mutation($e: [EngagementEventInput!]!) { recordEvents(events: $e) { accepted } }`

// eventBodies builds the ingest group's request bodies: batches of VIEWs of
// one content, each from a device of its own (a device's repeats count once
// per half hour). The JSON around the device ids is encoded once, so that
// a request costs the load generator, which shares the machine with the
// server, an append of its ids, not a json.Marshal of maps; the bytes are
// the ones json.Marshal writes for the same maps (TestEventBodies).
type eventBodies struct {
	head, event, eventTail, tail []byte
}

// newEventBodies prepares the bodies of VIEWs (watchMs 1000) of the content
// with global id contentID.
func newEventBodies(contentID string) eventBodies {
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return eventBodies{
		head:      []byte(`{"query":` + quote(recordEventsMutation) + `,"variables":{"e":[`),
		event:     []byte(`{"contentId":` + quote(contentID) + `,"deviceId":"`),
		eventTail: []byte(`","type":"VIEW","watchMs":1000}`),
		tail:      []byte(`]}}`),
	}
}

// body appends to dst the body of request n of a run (its batches of size
// events): device ids "prefix-run-size-n-i", i the event's place in the
// batch. prefix and run must need no JSON escaping (letters, digits, '-').
func (b eventBodies) body(dst []byte, prefix, run string, size int, n int64) []byte {
	dst = append(dst, b.head...)
	for i := 0; i < size; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, b.event...)
		dst = append(dst, prefix...)
		dst = append(dst, '-')
		dst = append(dst, run...)
		dst = append(dst, '-')
		dst = strconv.AppendInt(dst, int64(size), 10)
		dst = append(dst, '-')
		dst = strconv.AppendInt(dst, n, 10)
		dst = append(dst, '-')
		dst = strconv.AppendInt(dst, int64(i), 10)
		dst = append(dst, b.eventTail...)
	}
	return append(dst, b.tail...)
}

// postTemplate returns a function that makes an anonymous JSON POST
// /graphql with a given body by copying one request built once: no URL
// parse and no header map per request. The copies share the header, which
// nothing writes after this (the client only reads it).
func postTemplate(base string) (func(body []byte) *http.Request, error) {
	tmpl, err := postBody(base, "", nil)
	if err != nil {
		return nil, err
	}
	return func(body []byte) *http.Request {
		req := *tmpl
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = nil
		return &req
	}, nil
}
