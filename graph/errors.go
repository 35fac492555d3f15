package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"showcase/auth"
	"showcase/store"
)

// Error codes clients see in extensions.code.
const (
	codeUnauthenticated = "UNAUTHENTICATED"
	codeForbidden       = "FORBIDDEN"
	codeBadUserInput    = "BAD_USER_INPUT"
	codeNotFound        = "NOT_FOUND"
	codeInternal        = "INTERNAL"
	codeUnavailable     = "SERVICE_UNAVAILABLE"
)

var (
	errUnauthenticated = store.Errorf(store.EUnauthorized, "sign in to do this")
	errForbidden       = store.Errorf(store.EForbidden, "you are not allowed to do this")
)

// presenter returns the error presenter: presentError, and in production
// also withoutSuggestions for everyone but admins' own sessions.
func presenter(production bool) graphql.ErrorPresenterFunc {
	if !production {
		return presentError
	}
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := presentError(ctx, err)
		if v := auth.ViewerFrom(ctx); !v.IsAdmin() || v.IsApp() {
			gqlErr.Message = withoutSuggestions(gqlErr.Message)
		}
		return gqlErr
	}
}

// suggestionMarker starts every suggestion gqlparser's validation rules and
// variable coercion add to a message, always at its end: `Did you mean
// "first"?`, `Did you mean the enum value "LAST_HOUR"?`, `Did you mean to
// use an inline fragment on "Video"?`, `Did you mean "feed { ... }"?`.
const suggestionMarker = " Did you mean "

// withoutSuggestions cuts a message's suggestion, which names parts of the
// schema the caller may not read.
func withoutSuggestions(msg string) string {
	if i := strings.LastIndex(msg, suggestionMarker); i >= 0 && strings.HasSuffix(msg, "?") {
		return msg[:i]
	}
	return msg
}

// presentError gives every error a stable code. Application errors keep their
// message; anything else is logged and shown only as "internal error", so SQL
// and internals never reach clients.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	if appErr, ok := store.AsError(err); ok {
		gqlErr.Message = appErr.Message
		gqlErr.Extensions = map[string]any{"code": publicCode(appErr.Code)}
		if appErr.Code == store.EUnavailable {
			// A refusal for now (the event buffer is full): the same
			// request succeeds later.
			gqlErr.Extensions["retryable"] = true
			gqlErr.Extensions["retryAfter"] = 1
			if appErr.Reason != "" {
				gqlErr.Extensions["reason"] = appErr.Reason
			}
		}
		return gqlErr
	}
	var already *gqlerror.Error
	if errors.As(err, &already) && already.Extensions["code"] != nil {
		return gqlErr
	}
	if strings.HasSuffix(err.Error(), "introspection disabled") {
		gqlErr.Message = "introspection is for admins only in production"
		gqlErr.Extensions = map[string]any{"code": codeForbidden}
		return gqlErr
	}
	if already != nil && strings.HasPrefix(already.Message, "provided APQ hash does not match query") {
		gqlErr.Extensions = map[string]any{"code": codeBadUserInput}
		return gqlErr
	}
	if store.IsDataException(err) {
		// PostgreSQL refused a value that came from the request (a NUL
		// character, a number or time out of range): the client's to fix.
		slog.WarnContext(ctx, "value refused by the database", "request_id", RequestID(ctx), "err", err)
		gqlErr.Message = "a value in the request is not valid (a NUL character, or a number or time out of range)"
		gqlErr.Extensions = map[string]any{"code": codeBadUserInput}
		return gqlErr
	}
	if store.IsRetryable(err) || errors.Is(err, context.DeadlineExceeded) {
		// The database is unreachable, or the work met a concurrent change
		// (serialization failure, deadlock) after its retries ran out, or
		// it ran out of time: the same request may well succeed again.
		slog.WarnContext(ctx, "transient failure", "request_id", RequestID(ctx), "err", err)
		gqlErr.Message = "the service could not complete this now; retry shortly"
		gqlErr.Extensions = map[string]any{"code": codeUnavailable, "retryable": true}
		return gqlErr
	}
	if errors.Is(err, context.Canceled) {
		// The client went away; nothing to tell anyone.
		gqlErr.Message = "request cancelled"
		gqlErr.Extensions = map[string]any{"code": codeInternal}
		return gqlErr
	}
	slog.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "err", err, "path", gqlErr.Path.String())
	gqlErr.Message = "internal error"
	gqlErr.Extensions = map[string]any{"code": codeInternal}
	return gqlErr
}

func publicCode(c store.Code) string {
	switch c {
	case store.EUnauthorized:
		return codeUnauthenticated
	case store.EForbidden:
		return codeForbidden
	case store.ENotFound:
		return codeNotFound
	case store.EUnavailable:
		return codeUnavailable
	case store.EInvalid, store.EConflict:
		return codeBadUserInput
	}
	return codeInternal
}

// recoverPanic turns a panicking resolver into an INTERNAL error for that
// field; the stack goes to the log.
func recoverPanic(ctx context.Context, p any) error {
	slog.ErrorContext(ctx, "resolver panic", "request_id", RequestID(ctx), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	return errors.New("panic in resolver")
}
