package graph

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"showcase/auth"
)

// RateLimiter decides whether a caller may make another request.
type RateLimiter interface {
	// Allow takes one request from key's bucket; sensitive requests (log-in,
	// sign-up) use a much smaller bucket. When refused, it says how long to wait.
	Allow(key string, sensitive bool) (bool, time.Duration)
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

// isSensitive reports whether a query calls a secret-checking mutation.
func isSensitive(query string) bool {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, MaxTokens)
	if err != nil {
		return false
	}
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
