package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// The media types a GraphQL response is sent as.
const (
	// MediaJSON is application/json: the GraphQL-over-HTTP spec's legacy
	// type, answered with status 200 whenever there is a GraphQL response.
	MediaJSON = "application/json"
	// MediaGraphQLResponse is application/graphql-response+json: request
	// errors (parse, validation, variables, limits) are 4xx and carry no data.
	MediaGraphQLResponse = "application/graphql-response+json"
	// MediaEventStream is text/event-stream (Server-Sent Events).
	MediaEventStream = "text/event-stream"
)

// Negotiate picks the media type of the response to a GraphQL request from
// its Accept header (RFC 9110: q-values, the most specific range wins, then
// the order the client listed them in): application/json when the header is
// absent or only wildcards match. text/event-stream is chosen only when
// streamable (a POST) and either the operation is a subscription, which no
// JSON body can carry, or the client prefers it to both JSON types.
func Negotiate(accept string, streamable, subscription bool) string {
	if strings.TrimSpace(accept) == "" {
		return MediaJSON
	}
	candidates := []string{MediaJSON, MediaGraphQLResponse}
	if streamable {
		candidates = append(candidates, MediaEventStream)
	}
	type pref struct {
		q           float64
		specificity int // 2 exact, 1 type/*, 0 */*; -1 not matched
		position    int
	}
	prefs := make([]pref, len(candidates))
	for i := range prefs {
		prefs[i] = pref{specificity: -1}
	}
	for pos, part := range strings.Split(accept, ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil && v >= 0 && v <= 1 {
				q = v
			}
		}
		for i, c := range candidates {
			spec := -1
			switch {
			case mediaType == c:
				spec = 2
			case strings.HasSuffix(mediaType, "/*") && strings.HasPrefix(c, strings.TrimSuffix(mediaType, "*")):
				spec = 1
			case mediaType == "*/*":
				spec = 0
			}
			if spec > prefs[i].specificity {
				prefs[i] = pref{q: q, specificity: spec, position: pos}
			}
		}
	}
	if subscription && streamable && prefs[2].specificity >= 0 && prefs[2].q > 0 {
		return MediaEventStream
	}
	best := -1
	for i, p := range prefs {
		if p.specificity < 0 || p.q <= 0 {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		if better(p.q, p.specificity == 2, p.position, prefs[best].q, prefs[best].specificity == 2, prefs[best].position) {
			best = i
		}
	}
	if best < 0 {
		return MediaJSON // nothing acceptable: the spec lets the server answer JSON
	}
	return candidates[best]
}

// better reports whether an Accept match (q, named explicitly rather than
// by a wildcard, position in the header) beats another: higher q wins, then
// an explicitly named type over a wildcard, then the one listed first; ties
// between wildcards keep Negotiate's candidates' order (JSON first).
func better(q float64, exact bool, position int, bq float64, bexact bool, bposition int) bool {
	switch {
	case q != bq:
		return q > bq
	case exact != bexact:
		return exact
	case exact:
		return position < bposition
	}
	return false
}

// isSubscription reports whether the operation a request names is a
// subscription; documents that do not parse are not.
func isSubscription(query, operationName string) bool {
	if !strings.Contains(query, "subscription") {
		return false // urql asks on every query and mutation: skip the parse
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, MaxTokens)
	if err != nil {
		return false
	}
	op := doc.Operations.ForName(operationName)
	if op == nil && operationName == "" && len(doc.Operations) == 1 {
		op = doc.Operations[0]
	}
	return op != nil && op.Operation == ast.Subscription
}

// httpTransport answers queries and mutations sent by POST (a JSON body) and
// queries sent by GET, as the GraphQL-over-HTTP spec says: the body is the
// Accept header's media type (normalized by GuardRequests); request errors
// (the document does not parse or validate, variables do not coerce, a
// limit is exceeded) carry no "data" entry and are 400 for
// application/graphql-response+json and 200 for application/json.
type httpTransport struct{}

var _ graphql.Transport = httpTransport{}

// Supports takes GETs and JSON POSTs that are not websocket upgrades.
func (httpTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	if r.Method == http.MethodGet {
		return true
	}
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") == MediaJSON {
		return true // the usual request: no parse
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && r.Method == http.MethodPost && mediaType == "application/json"
}

// Do reads the request's parameters, runs the operation and writes its result.
func (httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := MediaJSON
	if r.Header.Get("Accept") == MediaGraphQLResponse {
		contentType = MediaGraphQLResponse
	}
	w.Header().Set("Content-Type", contentType)
	params := &graphql.RawParams{Headers: r.Header}
	params.ReadTime.Start = graphql.Now()
	if err := readParams(r, params); err != nil {
		writeRequestError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	params.ReadTime.End = graphql.Now()

	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		status := http.StatusOK
		if contentType == MediaGraphQLResponse && !onlyPersistedQueryNotFound(resp.Errors) {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
		// No "data" entry: the operation was never executed.
		writeJSON(w, struct {
			Errors     gqlerror.List  `json:"errors"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Errors, resp.Extensions})
		return
	}
	switch op := opCtx.Operation.Operation; {
	case r.Method == http.MethodGet && op != ast.Query:
		w.Header().Set("Allow", http.MethodPost)
		writeRequestError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "mutations and subscriptions must be sent with POST")
		return
	case op == ast.Subscription:
		writeRequestError(w, http.StatusBadRequest, codeBadRequest,
			"subscriptions stream: send them with Accept: text/event-stream or over a websocket (graphql-transport-ws)")
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeResponse(w, responses(ctx))
}

// writeResponse writes an executed operation's response. One with only
// data, the usual answer, is written as {"data":…} around gqlgen's bytes as
// they are: they are compact JSON already, so json.Marshal (which validates
// and copies every byte of a json.RawMessage) would write the same bytes,
// unless they hold characters it escapes for HTML (<, >, &, U+2028,
// U+2029), when json.Marshal writes them as before.
//
// Either way the body is written in one Write with its Content-Length set
// first: net/http otherwise sends a body larger than its 2 KB buffer
// chunked, which costs a system call more per response (the closing chunk,
// written when the handler returns) and a few bytes of framing.
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	var buf []byte
	if resp == nil || len(resp.Errors) > 0 || resp.Label != "" || resp.Path != nil || resp.HasNext != nil ||
		len(resp.Extensions) > 0 || len(resp.Data) == 0 || escapesForHTML(resp.Data) {
		var err error
		if buf, err = json.Marshal(resp); err != nil {
			panic(err) // responses are built from JSON-encodable values
		}
	} else {
		buf = make([]byte, 0, len(resp.Data)+len(`{"data":}`))
		buf = append(buf, `{"data":`...)
		buf = append(buf, resp.Data...)
		buf = append(buf, '}')
	}
	w.Header()["Content-Length"] = []string{strconv.Itoa(len(buf))}
	_, _ = w.Write(buf)
}

// escapesForHTML reports whether json.Marshal would escape any of data's
// characters (<, >, &, U+2028, U+2029). bytes.ContainsAny with the two
// multi-byte characters in its set decodes every rune, slower than the
// json.Marshal it saves; these are vectorised byte searches.
func escapesForHTML(data []byte) bool {
	return bytes.IndexByte(data, '<') >= 0 || bytes.IndexByte(data, '>') >= 0 || bytes.IndexByte(data, '&') >= 0 ||
		bytes.Contains(data, lineSeparator) || bytes.Contains(data, paragraphSeparator)
}

var lineSeparator, paragraphSeparator = []byte("\u2028"), []byte("\u2029")

// onlyPersistedQueryNotFound reports whether a request failed only because a
// persisted query's hash is unknown: clients (Apollo's link among them)
// expect that answer with status 200 and then send the document.
func onlyPersistedQueryNotFound(errs gqlerror.List) bool {
	for _, e := range errs {
		if e.Extensions["code"] != "PERSISTED_QUERY_NOT_FOUND" {
			return false
		}
	}
	return len(errs) > 0
}

// errBadParams is a request whose parameters have the wrong JSON types.
var errBadParams = errors.New(`the request must be a JSON object whose "query" and "operationName" are strings and whose "variables" and "extensions" are objects`)

// readParams reads a GET's URL parameters or a POST's JSON body.
func readParams(r *http.Request, params *graphql.RawParams) error {
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return errors.New("the URL's query string is malformed")
		}
		params.Query, params.OperationName = q.Get("query"), q.Get("operationName")
		for name, into := range map[string]*map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
			if s := q.Get(name); s != "" {
				if err := decodeJSON(strings.NewReader(s), into); err != nil {
					return errors.New(`the "` + name + `" parameter must be a JSON object`)
				}
			}
		}
		return nil
	}
	if b, ok := r.Body.(*checkedBody); ok && b.params != nil && b.Len() == len(b.raw) {
		// GuardRequests decoded this body already, as below.
		params.Query, params.OperationName = b.params.Query, b.params.OperationName
		params.Variables, params.Extensions = b.params.Variables, b.params.Extensions
		b.params = nil
		return nil
	}
	if err := decodeJSON(r.Body, params); err != nil {
		return errBadParams
	}
	return nil
}

func decodeJSON(r interface{ Read([]byte) (int, error) }, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return dec.Decode(v)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // responses are built from JSON-encodable values
	}
	_, _ = w.Write(b)
}

// writeRequestError answers a request refused before it reached GraphQL,
// as the media type it negotiated (application/json when not yet).
func writeRequestError(w http.ResponseWriter, status int, code, msg string) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", MediaJSON)
	}
	w.WriteHeader(status)
	writeJSON(w, map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}

// negotiatedSSE is gqlgen's Server-Sent Events transport, taking only the
// requests whose negotiated media type is text/event-stream.
type negotiatedSSE struct{ transport.SSE }

// Supports takes POSTs that GuardRequests negotiated as an event stream.
func (t negotiatedSSE) Supports(r *http.Request) bool {
	return r.Header.Get("Accept") == MediaEventStream && t.SSE.Supports(r)
}
