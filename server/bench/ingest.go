package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"
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

// rawConn is one keep-alive HTTP/1.1 connection that sends a JSON POST
// /graphql and reads its reply, as net/http's client would, at a fraction of
// its cost: no goroutines, header maps or URL per request. The ingest group
// sends this way because one request there costs the server little, so the
// load generator (which shares the two cores) would otherwise take a large
// part of the machine from the server it measures.
type rawConn struct {
	addr, host string
	conn       net.Conn
	r          *bufio.Reader
	w          []byte // the request being written
	reply      bytes.Buffer
}

func newRawConn(base string) (*rawConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("rawConn speaks plain http, not %s", u.Scheme)
	}
	return &rawConn{addr: u.Host, host: u.Host}, nil
}

func (c *rawConn) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn, c.r = nil, nil
	}
}

// post sends body and says what went wrong, or "" when nothing did, by
// send's rules: a reply other than 200, or a 200 that carries GraphQL
// errors, is an error. A broken connection is closed (the next post dials
// a new one) and counted as a transport failure.
func (c *rawConn) post(body []byte) (failure string) {
	if c.conn == nil {
		conn, err := net.Dial("tcp", c.addr)
		if err != nil {
			return "transport: " + transportFailure(err)
		}
		c.conn, c.r = conn, bufio.NewReaderSize(conn, 4096)
	}
	c.w = append(c.w[:0], "POST /graphql HTTP/1.1\r\nHost: "...)
	c.w = append(c.w, c.host...)
	c.w = append(c.w, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	c.w = strconv.AppendInt(c.w, int64(len(body)), 10)
	c.w = append(c.w, "\r\n\r\n"...)
	c.w = append(c.w, body...)
	_ = c.conn.SetDeadline(time.Now().Add(client.Timeout)) // as net/http's client
	if _, err := c.conn.Write(c.w); err != nil {
		c.close()
		return "transport: " + transportFailure(err)
	}
	status, keep, err := c.readReply()
	if err != nil {
		c.close()
		return "transport: " + transportFailure(err)
	}
	if !keep {
		c.close()
	}
	switch {
	case status != http.StatusOK:
		return fmt.Sprintf("HTTP %d", status)
	case bytes.Contains(c.reply.Bytes(), errorsKey):
		return "GraphQL errors"
	}
	return ""
}

var errBadReply = errors.New("malformed HTTP reply")

// readReply reads one reply into c.reply: its status, and whether the
// connection may carry the next request.
func (c *rawConn) readReply() (status int, keep bool, err error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, errBadReply
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, errBadReply
	}
	length, chunked, keep := -1, false, true
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, errBadReply
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, false, errBadReply
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
	c.reply.Reset()
	switch {
	case chunked:
		_, err = c.reply.ReadFrom(httputil.NewChunkedReader(c.r))
		if err == nil {
			// The trailer section: lines up to an empty one.
			for {
				line, err := c.r.ReadSlice('\n')
				if err != nil {
					return 0, false, err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					break
				}
			}
		}
	case length >= 0:
		_, err = io.CopyN(&c.reply, c.r, int64(length))
	default: // the body runs to the end of the connection
		_, err = c.reply.ReadFrom(c.r)
		keep = false
	}
	return status, keep, err
}

// closedLoopPosts is closedLoop for the ingest group: clients each send the
// next body over a rawConn of their own as soon as the last reply arrived.
func closedLoopPosts(ctx context.Context, name, base string, clients int, d time.Duration, next func(dst []byte, i int64) []byte) result {
	return closedLoopOf(ctx, name, clients, d, func() (loopClient, func(), error) {
		conn, err := newRawConn(base)
		if err != nil {
			return nil, nil, err
		}
		var body []byte
		return func(i int64) (time.Duration, string) {
			body = next(body[:0], i)
			t := time.Now()
			failure := conn.post(body)
			return time.Since(t), failure
		}, conn.close, nil
	})
}
