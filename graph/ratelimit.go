package graph

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"showcase/auth"
)

// RateLimiter decides whether a caller may make another request.
type RateLimiter interface {
	// Allow takes cost tokens from key's bucket; sensitive requests (log-in,
	// sign-up) use a much smaller bucket. When refused, it says how long to wait.
	Allow(key string, sensitive bool, cost int) (bool, time.Duration)
}

// rateKey names the caller's bucket: their user, their app, or their address.
func rateKey(r *http.Request) string {
	v := auth.ViewerFrom(r.Context())
	switch {
	case v.IsApp():
		return "app:" + strconv.FormatInt(v.App.AppID, 10)
	case v.SignedIn():
		return "user:" + strconv.FormatInt(v.UserID(), 10)
	}
	return "ip:" + remoteHost(r)
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// sensitiveFields are mutations that check secrets, limited per address.
var sensitiveFields = map[string]bool{"logIn": true, "signUp": true, "refreshSession": true}

// fieldsPerToken is how many selected fields (fragments expanded) one
// rate-limit token pays for: a big query costs more of the caller's bucket.
const fieldsPerToken = 50

// requestCost reads a query's rate-limit cost and whether it checks secrets.
func requestCost(query string) (cost int, sensitive bool) {
	f := factsOf(query)
	return f.cost, f.sensitive
}

// isSensitive reports whether a document calls a secret-checking mutation.
func isSensitive(doc *ast.QueryDocument) bool {
	for _, op := range doc.Operations {
		if op.Operation != ast.Mutation {
			continue
		}
		for _, sel := range op.SelectionSet {
			if f, ok := sel.(*ast.Field); ok && sensitiveFields[f.Name] {
				return true
			}
		}
	}
	return false
}

func rateLimited(w http.ResponseWriter, wait time.Duration) {
	secs := int(wait.Seconds())
	if time.Duration(secs)*time.Second < wait {
		secs++
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	requestError(w, http.StatusTooManyRequests, "RATE_LIMITED", "too many requests; retry after "+strconv.Itoa(secs)+"s")
}
