package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"showcase/media"
)

// MaxBodyBytes bounds a GraphQL request body.
const MaxBodyBytes = 1 << 20

// codeBadRequest is the code of a request the client got wrong at the HTTP
// level: an unreadable body, JSON that is not an object, parameters of the
// wrong JSON types.
const codeBadRequest = "BAD_REQUEST"

// GuardRequests enforces the GraphQL-over-HTTP rules before gqlgen sees a
// request, and negotiates the response's media type. Bodies over 1 MiB get
// 413; a batch (JSON array) gets 400 BATCHING_NOT_SUPPORTED; a body that is
// not a JSON object, or whose query and operationName are not strings or
// whose variables and extensions are not objects, gets 400 BAD_REQUEST
// (never echoing the body), and so does one without a query (unless it
// names a persisted query) and a GET whose variables or extensions
// parameter is not a JSON object; a GET carrying a mutation gets 405. Each refusal
// is counted with obs (when not nil) and logged at info: it is the client's
// fault. The Accept header is replaced by the single media type Negotiate
// picks, which the transports and the response cache then read. The rate
// limit is charged inside gqlgen, on the operation that runs (rateCharge).
// A multipart POST (an upload, the GraphQL multipart request spec) is
// checked by guardUpload instead of the JSON-body rules: signed in (401),
// its body at most MaxFilesPerUploadRequest × maxUploadBytes + 1 MiB (413
// REQUEST_TOO_LARGE, with a Content-Length or chunked),
// its first part `operations` (400). maxUploadBytes is the per-file limit in
// bytes (0: media.DefaultMaxUploadBytes).
func GuardRequests(obs Observer, maxUploadBytes int64, next http.Handler) http.Handler {
	if maxUploadBytes <= 0 {
		maxUploadBytes = media.DefaultMaxUploadBytes
	}
	uploadBytes := uploadRequestBytes(maxUploadBytes)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse := func(status int, code, msg string) {
			// A refusal is written as the media type the client accepts.
			w.Header()["Content-Type"] = mediaHeader(Negotiate(r.Header.Get("Accept"), false, false))
			if obs != nil {
				obs.ObserveRejection(code)
			}
			slog.LogAttrs(r.Context(), slog.LevelInfo, "request refused", slog.String("request_id", RequestID(r.Context())),
				slog.Int("status", status), slog.String("code", code))
			writeRequestError(w, status, code, msg)
		}
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r) // a websocket: its messages have their own rules
			return
		}
		switch {
		case r.Method != http.MethodPost && r.Method != http.MethodGet:
			w.Header().Set("Allow", "GET, POST")
			refuse(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "send GraphQL requests with POST (or queries with GET)")
			return
		case r.Method == http.MethodGet && r.URL.Query().Get("query") == "" && r.URL.Query().Get("extensions") == "":
			refuse(http.StatusBadRequest, codeBadRequest, `a GET request needs a "query" parameter`)
			return
		case r.Method == http.MethodPost && isMultipart(r):
			ok, upload := guardUpload(w, r, uploadBytes, refuse)
			if !ok {
				return
			}
			defer r.Body.Close() // a spooled chunked body's file, whatever happens after
			if upload {
				r = r.WithContext(context.WithValue(r.Context(), longLivedKey{}, true))
			}
			r.Header["Accept"] = mediaHeader(Negotiate(r.Header.Get("Accept"), false, false))
		case r.Method == http.MethodPost && !jsonContent(r.Header.Get("Content-Type")):
			refuse(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "send the request body as application/json (or multipart/form-data for uploads)")
			return
		case r.Method == http.MethodPost:
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				refuse(http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "the request body exceeds 1 MiB")
				return
			}
			if err != nil {
				refuse(http.StatusBadRequest, codeBadRequest, "the request body could not be read")
				return
			}
			trimmed := bytes.TrimSpace(body)
			if len(trimmed) > 0 && trimmed[0] == '[' {
				refuse(http.StatusBadRequest, "BATCHING_NOT_SUPPORTED", "send one operation per request; batches are not supported")
				return
			}
			f, params := checkBody(trimmed)
			if f.bad {
				refuse(http.StatusBadRequest, codeBadRequest, errBadParams.Error())
				return
			}
			if f.noQuery {
				refuse(http.StatusBadRequest, codeBadRequest, `the request has no "query"`)
				return
			}
			query, operation := f.query, f.operation
			accept := r.Header.Get("Accept")
			media := Negotiate(accept, true, false)
			if media != MediaEventStream && Negotiate(accept, true, true) == MediaEventStream && isSubscription(query, operation) {
				media = MediaEventStream
			}
			r.Header["Accept"] = mediaHeader(media)
			if media == MediaEventStream && (query == "" || isSubscription(query, operation)) {
				// A subscription's stream (or a persisted document's, not
				// known here); a query or mutation answered as one event is
				// not long-lived.
				r = r.WithContext(context.WithValue(r.Context(), longLivedKey{}, true))
			}
			checked := newCheckedBody(body)
			checked.params, checked.unshared = params, f.unshared
			r.Body = checked
		case r.Method == http.MethodGet && r.URL.Query().Get("query") != "":
			params := r.URL.Query()
			if !objectOrNull(json.RawMessage(params.Get("variables"))) || !objectOrNull(json.RawMessage(params.Get("extensions"))) ||
				!validJSON(params.Get("variables")) || !validJSON(params.Get("extensions")) {
				refuse(http.StatusBadRequest, codeBadRequest, `the "variables" and "extensions" parameters must be JSON objects`)
				return
			}
			if isMutation(params.Get("query"), params.Get("operationName")) {
				w.Header().Set("Allow", "POST")
				refuse(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "mutations and subscriptions must be sent with POST")
				return
			}
		}
		if r.Method != http.MethodPost {
			r.Header["Accept"] = mediaHeader(Negotiate(r.Header.Get("Accept"), false, false))
		}
		next.ServeHTTP(w, r)
	})
}

// longLivedKey marks, in a request's context, what StreamsOrUploads reports.
type longLivedKey struct{}

// StreamsOrUploads reports whether GuardRequests found the request of ctx
// to outlive its execution: an event stream of a subscription (or of a
// persisted document sent by its hash alone, whose operation is not known
// before gqlgen), or an upload (a multipart request whose operation is not
// a query and maps at least one file, whose files arrive while it runs).
// Admission control lets these pass; a query or mutation answered as an
// event stream, and any other multipart request, are not among them.
func StreamsOrUploads(ctx context.Context) bool {
	v, _ := ctx.Value(longLivedKey{}).(bool)
	return v
}

// bodyFacts are what GuardRequests learns from a JSON body: whether its
// parameters have the wrong types (bad), whether it lacks a query without
// naming a persisted one (noQuery), its query and operation name, and
// whether its document has no query operation (unshared: a mutation or a
// subscription, whose answer the response cache never shares).
type bodyFacts struct {
	bad, noQuery     bool
	unshared         bool
	query, operation string
}

// maxRememberedBody bounds the bodies whose facts are kept (1,000 of them,
// as many as gqlgen's query cache): clients repeat the same few requests.
const maxRememberedBody = 8 << 10

var rememberedBodies = lru.New[bodyFacts](queryCacheSize)

// checkBody returns the facts of a trimmed JSON body, decoding each
// distinct body of at most maxRememberedBody bytes once. When it decoded
// the body (one not remembered) and found it good, it also returns the
// request's parameters as httpTransport would decode them (variables with
// json.Number), which the transport then takes instead of decoding the
// body a second time; nil otherwise.
//
// The bodies of unshared documents (mutations, subscriptions) are not
// remembered: the transport decodes such a body whether or not its facts
// were kept (no shared answer spares it), and their variables usually
// differ from one request to the next (a device's events), so keeping
// them would only copy every body into the cache and push out the
// queries' bodies, which a shared answer serves without a decode.
func checkBody(body []byte) (bodyFacts, *graphql.RawParams) {
	if len(body) > maxRememberedBody {
		return bodyFactsAndParams(body)
	}
	ctx := context.Background()
	if f, ok := rememberedBodies.Get(ctx, string(body)); ok {
		return f, nil
	}
	f, params := bodyFactsAndParams(body)
	if !f.unshared {
		rememberedBodies.Add(ctx, string(body), f)
	}
	return f, params
}

// unsharedDocument reports whether a document parses and has no query
// operation (factsOf, which keeps what it parsed for the shape limits);
// false for a document too large to be remembered, one that does not
// parse, and "" (a persisted query's hash only).
func unsharedDocument(query string) bool {
	return query != "" && len(query) <= maxRememberedQuery && factsOf(query).noQueries
}

// bodyFactsAndParams decodes a trimmed JSON body once into the parameters
// httpTransport takes (readParams' decoding: json.Number for numbers) and
// finds its facts from them. A body that does not decode that way has its
// facts found by bodyFactsOf, and no parameters. A body decodes into them
// exactly when bodyFactsOf finds it good (both decode the same keys, case
// insensitively, into strings and objects), so the facts are bodyFactsOf's.
func bodyFactsAndParams(body []byte) (bodyFacts, *graphql.RawParams) {
	if len(body) == 0 || body[0] != '{' {
		return bodyFacts{bad: true}, nil
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&params) != nil || dec.InputOffset() != int64(len(body)) {
		return bodyFactsOf(body), nil
	}
	if params.Query == "" {
		if pq, ok := params.Extensions["persistedQuery"]; !ok || pq == nil {
			return bodyFacts{noQuery: true}, nil
		}
	}
	return bodyFacts{query: params.Query, operation: params.OperationName, unshared: unsharedDocument(params.Query)}, &params
}

// bodyFactsOf decodes a trimmed JSON body: one pass checks the JSON and its
// types and finds the query to negotiate by.
func bodyFactsOf(body []byte) bodyFacts {
	var params struct {
		Query         *string         `json:"query"`
		OperationName *string         `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
	}
	if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &params) != nil ||
		!objectOrNull(params.Variables) || !objectOrNull(params.Extensions) {
		return bodyFacts{bad: true}
	}
	if (params.Query == nil || *params.Query == "") && !persisted(params.Extensions) {
		return bodyFacts{noQuery: true}
	}
	var f bodyFacts
	if params.Query != nil {
		f.query = *params.Query
	}
	if params.OperationName != nil {
		f.operation = *params.OperationName
	}
	f.unshared = unsharedDocument(f.query)
	return f
}

// mediaHeaders are the header values of the media types Negotiate picks,
// made once: a header set to one of them costs no allocation. The slices
// are full (len == cap), so a later Header.Add copies instead of writing
// into them.
var mediaHeaders = map[string][]string{
	MediaJSON:            {MediaJSON},
	MediaGraphQLResponse: {MediaGraphQLResponse},
	MediaEventStream:     {MediaEventStream},
}

// mediaHeader returns the header value of one of Negotiate's media types.
func mediaHeader(media string) []string {
	if v, ok := mediaHeaders[media]; ok {
		return v
	}
	return []string{media}
}

// checkedBody is a JSON request body GuardRequests has read and checked,
// put back for the handlers after it: the response cache keys on its bytes
// without reading it again (checkedBytes).
type checkedBody struct {
	bytes.Reader
	raw []byte
	// params are the body's parameters as GuardRequests decoded them, for
	// readParams (nil when it did not decode the body: a remembered one).
	params *graphql.RawParams
	// unshared says the body's document has no query operation
	// (bodyFacts.unshared): the response cache passes it by.
	unshared bool
}

func newCheckedBody(raw []byte) *checkedBody {
	b := &checkedBody{raw: raw}
	b.Reset(raw)
	return b
}

// Close implements io.Closer: there is nothing to release.
func (*checkedBody) Close() error { return nil }

// checkedBytes returns the body GuardRequests checked, when nothing has
// read any of it yet.
func checkedBytes(r *http.Request) ([]byte, bool) {
	b, ok := r.Body.(*checkedBody)
	if !ok || b.Len() != len(b.raw) {
		return nil, false
	}
	return b.raw, true
}

// objectOrNull reports whether a JSON value is absent, null or an object.
func objectOrNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || v[0] == '{' || string(v) == "null"
}

// validJSON reports whether a URL parameter is absent or JSON.
func validJSON(param string) bool {
	return param == "" || json.Valid([]byte(param))
}

// persisted reports whether a request's extensions name a persisted query,
// which a request may send instead of its document.
func persisted(extensions json.RawMessage) bool {
	var ext struct {
		PersistedQuery json.RawMessage `json:"persistedQuery"`
	}
	return len(extensions) > 0 && json.Unmarshal(extensions, &ext) == nil && len(ext.PersistedQuery) > 0 && string(ext.PersistedQuery) != "null"
}

// isMutation reports whether the operation a GET would run is not a query.
// Documents that do not parse are left to the GraphQL handler to explain.
func isMutation(query, operationName string) bool {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return false
	}
	op := doc.Operations.ForName(operationName)
	if op == nil && len(doc.Operations) == 1 {
		op = doc.Operations[0]
	}
	return op != nil && op.Operation != ast.Query
}

// jsonContent reports whether a request's Content-Type is JSON
// (application/json, with or without parameters such as charset).
func jsonContent(contentType string) bool {
	if contentType == MediaJSON {
		return true // what nearly every client sends: no parse
	}
	media, _, err := mime.ParseMediaType(contentType)
	return err == nil && media == "application/json"
}
