package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"

	"showcase/auth"
	"showcase/store"
)

// Websocket limits.
const (
	wsInitTimeout  = 5 * time.Second
	wsKeepAlive    = 15 * time.Second
	wsMaxFrameSize = 64 << 10
)

// Websocket close codes beyond RFC 6455's, as graphql-ws uses them.
const (
	// WSCloseForbidden (4403) closes a connection whose credential was
	// refused at connection_init or later expired or was revoked;
	// graphql-ws clients reconnect after it, asking for connectionParams
	// (a fresh token) again.
	WSCloseForbidden = 4403
	// WSCloseInternalError (4500) closes a connection whose credential
	// could not be checked for an internal error.
	WSCloseInternalError = 4500
	// WSCloseTryAgainLater (1013) closes a connection whose credential
	// could not be checked because the database is unavailable.
	WSCloseTryAgainLater = 1013
)

// streamGuard returns the process's guard of stream credentials, made on
// first use.
func (r *Resolver) streamGuard() *auth.StreamGuard {
	r.streamsOnce.Do(func() {
		var check auth.RevocationChecker
		if r.DB != nil {
			check = r.DB
		}
		r.streams = auth.NewStreamGuard(check, r.StreamCheckInterval)
	})
	return r.streams
}

// websocketTransport speaks graphql-transport-ws (and the legacy
// graphql-ws). Browsers may connect only from allowed origins; the caller
// authenticates in connection_init (see initToken) and the connection
// closes with 4403 when its credential is refused, expires or is revoked.
func (r *Resolver) websocketTransport() graphql.Transport {
	limit := int64(wsMaxFrameSize)
	return guardedWebsocket{r: r, ws: transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{
			OriginPatterns: r.AllowedOrigins,
		}},
		InitTimeout:           wsInitTimeout,
		KeepAlivePingInterval: wsKeepAlive,
		PayloadReadLimit:      &limit,
	}}
}

// guardedWebsocket is gqlgen's websocket transport with, per connection, an
// init function that authenticates and holds the credential, and a close
// code that says why the credential ended the connection.
type guardedWebsocket struct {
	r  *Resolver
	ws transport.Websocket
}

var _ graphql.Transport = guardedWebsocket{}

// Supports reports whether the request asks for a websocket.
func (t guardedWebsocket) Supports(r *http.Request) bool { return t.ws.Supports(r) }

// Do serves one websocket connection.
func (t guardedWebsocket) Do(w http.ResponseWriter, req *http.Request, exec graphql.GraphExecutor) {
	conn := &wsCredential{}
	defer conn.release()
	ws := t.ws
	ws.Implementation = closeCodeImplementation{inner: ws.Implementation, cred: conn}
	ws.InitFunc = func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		return t.r.websocketInit(ctx, payload, conn)
	}
	// Operations over the connection know it (admitOperations answers a
	// refusal with an `error` message for the operation's id).
	ws.Do(w, req.WithContext(context.WithValue(req.Context(), websocketKey{}, true)), exec)
}

// wsCredential is what one websocket connection holds: the context its
// credential ends, and the function that lets the guard forget it.
type wsCredential struct {
	mu     sync.Mutex
	ctx    context.Context
	unhold func()
}

func (c *wsCredential) hold(ctx context.Context, release func()) {
	c.mu.Lock()
	c.ctx, c.unhold = ctx, release
	c.mu.Unlock()
}

func (c *wsCredential) releaseFn() func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unhold
}

// closeFor returns the close code and reason for a connection its
// credential ended, or ok false.
func (c *wsCredential) closeFor() (code int, reason string, ok bool) {
	c.mu.Lock()
	ctx := c.ctx
	c.mu.Unlock()
	if ctx == nil {
		return 0, "", false
	}
	if end := auth.StreamEndOf(ctx); end != nil {
		return WSCloseForbidden, end.Message, true
	}
	return 0, "", false
}

// closeCodeImplementation wraps accepted connections so that a connection
// ended by its credential closes with 4403 instead of gqlgen's 1000.
type closeCodeImplementation struct {
	inner transport.WebsocketImplementation
	cred  *wsCredential
}

// Accept upgrades the request and wraps the connection.
func (i closeCodeImplementation) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := i.inner.Accept(w, r, o)
	if err != nil {
		return nil, err
	}
	return &closeCodeConn{WebsocketConn: conn, cred: i.cred}, nil
}

type closeCodeConn struct {
	transport.WebsocketConn
	cred *wsCredential
}

// WriteClose closes with the credential's code when it ended the connection.
func (c *closeCodeConn) WriteClose(code int, reason string) error {
	if cc, why, ok := c.cred.closeFor(); ok {
		code, reason = cc, why
	}
	return c.WebsocketConn.WriteClose(code, reason)
}

// SetReadLimit passes the transport's frame limit on.
func (c *closeCodeConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

// SetReadDeadline passes the transport's read deadline on.
func (c *closeCodeConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

func (c *wsCredential) release() {
	if f := c.releaseFn(); f != nil {
		f()
	}
}

// initTokenKeys are the connection_init payload keys that may carry the
// access token, as common clients send it: Authorization/authorization
// ("Bearer <token>"), authToken, token and accessToken (the bare token, or
// "Bearer <token>"), and headers.Authorization/headers.authorization.
var initTokenKeys = []string{"Authorization", "authorization", "authToken", "token", "accessToken"}

// initToken finds the access token in a connection_init payload. It returns
// "" for none (anonymous), and an error when a key carries something that is
// not a token, or two keys carry different tokens.
func initToken(payload transport.InitPayload) (string, error) {
	var found []string
	add := func(key string, v any) error {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s must be a string", key)
		}
		s = strings.TrimSpace(s)
		if scheme, rest, ok := strings.Cut(s, " "); ok {
			if !strings.EqualFold(scheme, "Bearer") {
				return fmt.Errorf("%s must be \"Bearer <token>\" or the bare token", key)
			}
			s = strings.TrimSpace(rest)
		} else if strings.EqualFold(key, "authorization") || strings.HasSuffix(key, ".Authorization") || strings.HasSuffix(key, ".authorization") {
			return fmt.Errorf("%s must be \"Bearer <token>\"", key)
		}
		if s == "" {
			return fmt.Errorf("%s is empty", key)
		}
		found = append(found, s)
		return nil
	}
	for _, k := range initTokenKeys {
		if v, ok := payload[k]; ok && v != nil {
			if err := add(k, v); err != nil {
				return "", err
			}
		}
	}
	if h, ok := payload["headers"]; ok && h != nil {
		headers, ok := h.(map[string]any)
		if !ok {
			return "", fmt.Errorf("headers must be an object")
		}
		for _, k := range []string{"Authorization", "authorization"} {
			if v, ok := headers[k]; ok && v != nil {
				if err := add("headers."+k, v); err != nil {
					return "", err
				}
			}
		}
	}
	for _, t := range found[min(1, len(found)):] {
		if t != found[0] {
			return "", fmt.Errorf("the payload carries two different tokens")
		}
	}
	if len(found) == 0 {
		return "", nil
	}
	return found[0], nil
}

// websocketInit authenticates a connection_init. No token watches
// anonymously; a refused token closes the connection at once with 4403 (an
// unavailable database with 1013, anything else with 4500). An accepted
// credential is held: the connection closes with 4403 when it expires or is
// revoked.
func (r *Resolver) websocketInit(ctx context.Context, payload transport.InitPayload, conn *wsCredential) (context.Context, *transport.InitPayload, error) {
	ctx = WithSubscriptionCounter(ctx)
	refuse := func(code int, msg string) (context.Context, *transport.InitPayload, error) {
		ctx = transport.WithWebsocketCloseCode(ctx, code)
		ctx = transport.AppendCloseReason(ctx, msg)
		return ctx, nil, fmt.Errorf("%s", msg)
	}
	token, err := initToken(payload)
	if err != nil {
		return refuse(WSCloseForbidden, err.Error())
	}
	if token == "" {
		return ctx, nil, nil // anonymous viewers may watch
	}
	v, claims, err := auth.ViewerForToken(ctx, r.Tokens, r.DB, token)
	switch {
	case err == nil:
	case err == auth.ErrInvalidToken:
		return refuse(WSCloseForbidden, auth.ErrInvalidToken.Error())
	case store.IsUnavailable(err):
		return refuse(WSCloseTryAgainLater, "the service is temporarily unavailable; retry shortly")
	default:
		slog.ErrorContext(ctx, "websocket init: load token subject", "err", err)
		return refuse(WSCloseInternalError, "internal error")
	}
	if !claims.ExpiresAt.After(time.Now()) { // within the validation leeway, but a stream would end at once
		return refuse(WSCloseForbidden, auth.ErrTokenExpired.Message)
	}
	ctx = auth.WithViewer(ctx, v)
	ctx, release := r.streamGuard().Hold(ctx, claims)
	conn.hold(ctx, release)
	return ctx, nil, nil
}

// sseTransport serves Server-Sent Events; a stream whose credential
// expires or is revoked gets a final `next` event with an UNAUTHENTICATED
// error and is completed.
func (r *Resolver) sseTransport() graphql.Transport {
	return guardedSSE{r: r, sse: negotiatedSSE{transport.SSE{KeepAlivePingInterval: wsKeepAlive}}}
}

// guardedSSE is gqlgen's SSE transport bound to the caller's credential.
type guardedSSE struct {
	r   *Resolver
	sse negotiatedSSE
}

var _ graphql.Transport = guardedSSE{}

// Supports reports whether the request asks for an event stream.
func (t guardedSSE) Supports(r *http.Request) bool { return t.sse.Supports(r) }

// Do serves one stream; anonymous streams are not held.
func (t guardedSSE) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	tok := auth.ViewerFrom(r.Context()).Token
	if tok == nil {
		t.sse.Do(w, r, exec)
		return
	}
	ctx, release := t.r.streamGuard().Hold(r.Context(), *tok)
	defer release()
	sw := &sseEndWriter{ResponseWriter: w, ctx: ctx}
	t.sse.Do(sw, r.WithContext(ctx), exec)
	sw.finish()
}

// sseEndWriter passes a stream's writes through until its credential ends
// it; then it writes the final error event once, lets only the `complete`
// event through and drops everything else, so nothing is delivered after
// the end.
type sseEndWriter struct {
	http.ResponseWriter
	ctx  context.Context
	mu   sync.Mutex
	sent bool
}

const sseComplete = "event: complete\n\n"

func (w *sseEndWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	end := auth.StreamEndOf(w.ctx)
	if end == nil {
		return w.ResponseWriter.Write(p)
	}
	w.sendEnd(end)
	if string(p) == sseComplete {
		return w.ResponseWriter.Write(p)
	}
	return len(p), nil
}

// sendEnd writes the final error event once; w.mu is held.
func (w *sseEndWriter) sendEnd(end *auth.StreamEnd) {
	if w.sent {
		return
	}
	w.sent = true
	b, _ := json.Marshal(map[string]any{"errors": []map[string]any{{
		"message":    end.Message,
		"extensions": map[string]any{"code": "UNAUTHENTICATED", "reason": end.Reason},
	}}})
	_, _ = fmt.Fprintf(w.ResponseWriter, "event: next\ndata: %s\n\n", b)
}

// finish makes sure a stream its credential ended carries the final error
// and a complete event, whatever the inner transport wrote last.
func (w *sseEndWriter) finish() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if end := auth.StreamEndOf(w.ctx); end != nil && !w.sent {
		w.sendEnd(end)
		_, _ = io.WriteString(w.ResponseWriter, sseComplete)
		w.flushLocked()
	}
}

// Flush sends what was written.
func (w *sseEndWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
}

func (w *sseEndWriter) flushLocked() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *sseEndWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
