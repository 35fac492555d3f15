package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// MaxBodyBytes bounds a GraphQL request body.
const MaxBodyBytes = 1 << 20

// guardRequests enforces GraphQL-over-HTTP rules before gqlgen sees a
// request: bodies over 1 MiB get 413, a batch (JSON array) or a body that is
// not JSON gets 400 without echoing it, and a GET carrying a mutation gets 405.
// Multipart requests (uploads) are checked by guardUpload, bounded by
// uploadBytes instead.
func guardRequests(obs Observer, limits RateLimiter, uploadBytes int64, next http.Handler) http.Handler {
	requestError := func(w http.ResponseWriter, status int, code, msg string) {
		if obs != nil {
			obs.ObserveRejection(code)
		}
		requestError(w, status, code, msg)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && isMultipart(r):
			if !guardUpload(w, r, uploadBytes, obs, limits, requestError) {
				return
			}
		case r.Method == http.MethodPost:
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				requestError(w, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "the request body exceeds 1 MiB")
				return
			}
			if err != nil {
				requestError(w, http.StatusBadRequest, "BAD_REQUEST", "the request body could not be read")
				return
			}
			trimmed := bytes.TrimSpace(body)
			if len(trimmed) > 0 && trimmed[0] == '[' {
				requestError(w, http.StatusBadRequest, "BATCHING_NOT_SUPPORTED", "send one operation per request; batches are not supported")
				return
			}
			// One pass both checks the JSON and finds the query to charge for;
			// a query of the wrong type is gqlgen's to explain.
			var peek struct {
				Query string `json:"query"`
			}
			var syntax *json.SyntaxError
			if err := json.Unmarshal(trimmed, &peek); len(trimmed) == 0 || trimmed[0] != '{' || errors.As(err, &syntax) {
				requestError(w, http.StatusBadRequest, "BAD_REQUEST", "the request body must be a JSON object with a query")
				return
			}
			if limits != nil {
				cost, sensitive := requestCost(peek.Query)
				if ok, wait := allow(limits, obs, r, sensitive, cost); !ok {
					rateLimited(w, wait)
					return
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		case r.Method == http.MethodGet && r.URL.Query().Get("query") != "" && r.Header.Get("Upgrade") == "":
			if isMutation(r.URL.Query().Get("query"), r.URL.Query().Get("operationName")) {
				w.Header().Set("Allow", "POST")
				requestError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "mutations and subscriptions must be sent with POST")
				return
			}
		}
		if limits != nil && r.Method != http.MethodPost && r.Header.Get("Upgrade") == "" {
			if ok, wait := allow(limits, obs, r, false, 1); !ok {
				rateLimited(w, wait)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
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

func requestError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/graphql-response+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}

// allow charges a request to its caller's bucket, and to its address's
// small bucket when it checks secrets.
func allow(limits RateLimiter, obs Observer, r *http.Request, sensitive bool, cost int) (bool, time.Duration) {
	ok, wait := limits.Allow(rateKey(r), false, cost)
	if ok && sensitive {
		ok, wait = limits.Allow("ip:"+remoteHost(r), true, 1)
	}
	if !ok && obs != nil {
		obs.ObserveRejection("RATE_LIMITED")
	}
	return ok, wait
}
