// Package fault gives domain errors a code that the API reports as
// `extensions.code`. Domain packages return *fault.Error (or wrap one with
// %w); anything else becomes INTERNAL_SERVER_ERROR without details.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Codes reported in GraphQL errors' extensions.code.
const (
	CodeBadUserInput = "BAD_USER_INPUT"
	// CodeBadRequest: the request itself is malformed (a body that is not
	// a GraphQL request in JSON), before any operation could be read.
	CodeBadRequest      = "BAD_REQUEST"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeRateLimited     = "RATE_LIMITED"
	CodeInternal        = "INTERNAL_SERVER_ERROR"
	CodeUnavailable     = "SERVICE_UNAVAILABLE"
)

// Error is an error meant for the API's caller.
type Error struct {
	Code    string
	Message string
	// Field names the offending input field, if any.
	Field string
	// RetryAfter is set with CodeRateLimited, and with CodeUnavailable
	// when the caller may try again after it.
	RetryAfter time.Duration
	// Err is the underlying cause, never shown to the caller.
	Err error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up, as the
// API's retryAfterSeconds carries it (0: none).
func (e *Error) RetryAfterSeconds() int {
	if e.RetryAfter <= 0 {
		return 0
	}
	return int(e.RetryAfter.Seconds() + 0.999)
}

// Invalid reports bad input in field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeBadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Unauthenticated reports a missing, bad or expired credential.
func Unauthenticated(msg string) *Error {
	return &Error{Code: CodeUnauthenticated, Message: msg}
}

// Forbidden reports a viewer that may not do this.
func Forbidden(msg string) *Error { return &Error{Code: CodeForbidden, Message: msg} }

// NotFound reports an entity the viewer cannot see.
func NotFound(what string) *Error { return &Error{Code: CodeNotFound, Message: what + " not found"} }

// Conflict reports a uniqueness clash.
func Conflict(field, msg string) *Error {
	return &Error{Code: CodeConflict, Field: field, Message: msg}
}

// RateLimited reports too many attempts.
func RateLimited(retryAfter time.Duration) *Error {
	return &Error{Code: CodeRateLimited, Message: "too many attempts, try again later", RetryAfter: retryAfter}
}

// As returns the *Error in err's chain.
func As(err error) (*Error, bool) {
	var fe *Error
	ok := errors.As(err, &fe)
	return fe, ok
}
