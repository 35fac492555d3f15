package store

import (
	"errors"
	"fmt"
)

// Code classifies an application error. Transports map each code to their own
// representation (a GraphQL extensions.code, an HTTP status).
type Code string

// Error codes.
const (
	ENotFound     Code = "NOT_FOUND"
	EInvalid      Code = "BAD_USER_INPUT"
	EConflict     Code = "CONFLICT"
	EForbidden    Code = "FORBIDDEN"
	EUnauthorized Code = "UNAUTHENTICATED"
	// EUnavailable is a transient refusal: the same request may succeed
	// when sent again shortly (clients see SERVICE_UNAVAILABLE with
	// extensions.retryable).
	EUnavailable Code = "SERVICE_UNAVAILABLE"
)

// Error is an error meant for the caller; anything else is internal and is
// logged instead of shown.
type Error struct {
	Code Code
	// Field is the dotted path of the input field at fault ("variants.1.sku").
	Field   string
	Message string
	// Reason is a finer, stable cause for clients, e.g. TAKEN or INVALID_TRANSITION.
	Reason string
}

// Reasons refine an error's code for clients.
const (
	ReasonRequired          = "REQUIRED"
	ReasonTooLong           = "TOO_LONG"
	ReasonTaken             = "TAKEN"
	ReasonInvalidTransition = "INVALID_TRANSITION"
	ReasonCurrencyMismatch  = "CURRENCY_MISMATCH"
	ReasonNotOnContent      = "PRODUCT_NOT_ON_CONTENT"
)

// Because sets the error's reason.
func (e *Error) Because(reason string) *Error {
	e.Reason = reason
	return e
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf builds an application error.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf builds an application error about one input field.
func FieldErrorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an application error, or "" for others.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// AsError returns the application error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
