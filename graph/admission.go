package graph

import (
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"showcase/auth"
)

// Admission gives GraphQL operations their turns to execute (the server's
// GRAPHQL_MAX_CONCURRENT and its queue). Who waits, for how long and in
// what order is the implementation's business; graph only asks.
type Admission interface {
	// Acquire waits for a turn for an operation of caller (a CallerKey).
	// It returns nil with a turn held, to be given back with Release, or
	// an error without one: the queue or caller's share of it is full, the
	// wait was too long, or ctx ended (then ctx's error).
	Acquire(ctx context.Context, caller string) error
	// Release gives back a turn Acquire returned.
	Release()
}

// admittedKey marks, in a request's context, that the HTTP request took
// its admission turn around its whole handling (WithAdmitted).
type admittedKey struct{}

// WithAdmitted returns ctx marked as holding an admission turn for the
// request it belongs to, so that its operation takes no second one.
// The server's admission middleware marks the requests it admitted.
func WithAdmitted(ctx context.Context) context.Context {
	return context.WithValue(ctx, admittedKey{}, true)
}

func admitted(ctx context.Context) bool {
	v, _ := ctx.Value(admittedKey{}).(bool)
	return v
}

// websocketKey marks the context of a websocket connection (guardedWebsocket).
type websocketKey struct{}

func onWebsocket(ctx context.Context) bool {
	v, _ := ctx.Value(websocketKey{}).(bool)
	return v
}

// CallerKey names the caller of r (a request that went through
// auth.Middleware) as the rate limits and admission key callers: "app:<id>"
// for an app's token, "user:<id>" for a signed-in user, and "ip:<address>"
// for anonymous callers.
func CallerKey(r *http.Request) string {
	if k := signedInKey(auth.ViewerFrom(r.Context())); k != "" {
		return k
	}
	return "ip:" + remoteHost(r)
}

// signedInKey is the caller key of a signed-in viewer or an app, or "".
func signedInKey(v auth.Viewer) string {
	switch {
	case v.IsApp():
		return "app:" + strconv.FormatInt(v.App.AppID, 10)
	case v.SignedIn():
		return "user:" + strconv.FormatInt(v.UserID(), 10)
	}
	return ""
}

// admitOperations makes every query and mutation whose request did not
// take an admission turn over HTTP (WithAdmitted) take one for its
// execution: those sent over a websocket, over an event stream the HTTP
// admission let pass (a persisted document sent by its hash alone), and
// uploads (whose files have all arrived by now). The turn is taken when
// the transport asks for the first response, and given back once the last
// is made (@defer fragments execute after the first: the turn is held
// until a response says nothing follows, or the operation's context ends,
// TestAdmissionHoldsTheTurnThroughDeferredParts); next runs first
// (outside the turn: it only prepares the operation, and the context the
// transport passes back carries what the inner interceptors add). Subscriptions take none: they live for
// minutes, and each event's execution is a small selection over an event
// already in memory.
//
// A refused operation executes nothing: over a websocket its id gets an
// `error` message (the connection stays open); over HTTP the response is
// the error, with status 503 and Retry-After: 1 where the status is not
// yet sent (an event stream's is). The error has code SERVICE_UNAVAILABLE
// and retryable: true.
func (r *Resolver) admitOperations(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx).Operation
	if admitted(ctx) || op == nil || op.Operation == ast.Subscription {
		return next(ctx)
	}
	responses := next(ctx)
	first, refused := true, false
	release := func() {} // gives back the turn held, once
	// final gives the turn back after the operation's last response: one
	// that is nil, has no more to follow (hasNext: @defer fragments still
	// executing), or panicked (resp nil).
	final := func(resp **graphql.Response) {
		if r := *resp; r == nil || r.HasNext == nil || !*r.HasNext {
			release()
		}
	}
	return func(ctx context.Context) (resp *graphql.Response) {
		if refused {
			return nil // the end of the refused operation's responses
		}
		if !first {
			defer final(&resp)
			return responses(ctx)
		}
		first = false
		if err := r.Admission.Acquire(ctx, rateKey(ctx)); err != nil {
			refused = true
			msg := "the server is busy; retry shortly"
			if ctx.Err() != nil {
				msg = "the request ended while waiting for its turn"
			}
			gqlErr := &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": codeUnavailable, "retryable": true}}
			if onWebsocket(ctx) {
				if ctx.Err() == nil { // a client that completed the operation hears nothing more of it
					transport.AddSubscriptionError(ctx, gqlErr)
				}
				return nil
			}
			if s, _ := ctx.Value(rateStateKey{}).(*rateState); s != nil && s.note != nil {
				s.note.overloaded = true
			}
			return &graphql.Response{Errors: gqlerror.List{gqlErr}}
		}
		var once sync.Once
		give := func() { once.Do(r.Admission.Release) }
		release = give
		defer func() {
			if resp != nil && resp.HasNext != nil && *resp.HasNext {
				// More follows: held until the last response, or until the
				// operation's context ends should the transport stop asking.
				stop := context.AfterFunc(ctx, give)
				release = func() { stop(); give() }
				return
			}
			give()
		}()
		return responses(ctx)
	}
}
