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

	"concierge/db"
	"concierge/ent"
	"concierge/ent/privacy"
	"concierge/fault"
	"concierge/viewer"
)

func isDenied(err error) bool { return errors.Is(err, privacy.Deny) }

// ErrorPresenter gives every error an extensions.code and hides internal
// details from callers.
func ErrorPresenter(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	if gqlErr.Extensions != nil {
		switch gqlErr.Extensions["code"] {
		case nil:
		case "INVALID_PAGINATION": // entgql's: first/last out of range
			gqlErr.Extensions["code"] = fault.CodeBadUserInput
			return gqlErr
		default: // parse and validation errors keep gqlgen's codes
			return gqlErr
		}
	}
	set := func(code, msg string) *gqlerror.Error {
		gqlErr.Message = msg
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		gqlErr.Extensions["code"] = code
		return gqlErr
	}
	var (
		fe  *fault.Error
		ve  *ent.ValidationError
		nfe *ent.NotFoundError
		mse *viewer.MissingScopeError
	)
	switch {
	case errors.As(err, &mse): // a privacy rule's denial, or a service's
		e := set(fault.CodeForbidden, mse.Error())
		e.Extensions["scope"] = mse.Scope.Name()
		return e
	case errors.As(err, &fe):
		e := set(fe.Code, fe.Message)
		if fe.Field != "" {
			e.Extensions["field"] = fe.Field
		}
		if s := fe.RetryAfterSeconds(); s > 0 {
			e.Extensions["retryAfterSeconds"] = s
		}
		return e
	case errors.As(err, &nfe):
		return set(fault.CodeNotFound, "not found")
	case isDenied(err):
		if v := viewer.FromContext(ctx); v == nil || v.Kind == viewer.KindNone {
			return set(fault.CodeUnauthenticated, "log in first")
		}
		return set(fault.CodeForbidden, "not allowed")
	case errors.As(err, &ve):
		e := set(fault.CodeBadUserInput, fmt.Sprintf("invalid value for %s", ve.Name))
		e.Extensions["field"] = ve.Name
		return e
	case ent.IsConstraintError(err):
		return set(fault.CodeConflict, "conflicts with an existing record")
	case errors.Is(err, context.DeadlineExceeded):
		return set(fault.CodeUnavailable, "the request took too long")
	case errors.Is(err, context.Canceled):
		return set(fault.CodeUnavailable, "the request was cancelled")
	case db.IsUnavailable(err):
		// The database is busy or coming back: the request may simply be
		// tried again.
		slog.WarnContext(ctx, "graphql: database busy", slog.Any("err", err))
		e := set(fault.CodeUnavailable, "the service is busy; try again in a moment")
		e.Extensions["retryAfterSeconds"] = 1
		return e
	}
	var gerr *gqlerror.Error
	if errors.As(err, &gerr) && gerr.Rule != "" {
		return gqlErr
	}
	if msg, ok := malformedRequest(gqlErr.Message); ok {
		// gqlgen puts the whole body in this message: passwords and
		// tokens included. Neither the answer nor the log repeats it.
		slog.InfoContext(ctx, "graphql: malformed request", slog.String("reason", msg))
		return set(fault.CodeBadRequest, msg)
	}
	if isArgumentError(ctx, gqlErr) {
		return set(fault.CodeBadUserInput, gqlErr.Message)
	}
	slog.ErrorContext(ctx, "graphql: internal error", slog.Any("err", err), slog.Any("path", gqlErr.Path))
	return set(fault.CodeInternal, "internal error")
}

// malformedRequest recognises gqlgen's errors for a request body it could
// not read as a GraphQL request (not JSON, or variables or extensions that
// are no objects), and says what is wrong without the body it quotes.
func malformedRequest(m string) (string, bool) {
	const decode = "json request body could not be decoded: "
	if strings.HasPrefix(m, "could not read request body") {
		return "the request body could not be read", true
	}
	if !strings.HasPrefix(m, decode) {
		return "", false
	}
	reason := strings.TrimPrefix(m, decode)
	if i := strings.Index(reason, " body:"); i >= 0 {
		reason = reason[:i]
	}
	switch {
	case strings.Contains(reason, "RawParams.variables"):
		return "the request's variables must be a JSON object", true
	case strings.Contains(reason, "RawParams.extensions"):
		return "the request's extensions must be a JSON object", true
	case strings.Contains(reason, "RawParams.query"), strings.Contains(reason, "RawParams.operationName"):
		return "the request's query and operationName must be strings", true
	}
	return `the request body must be a JSON object: {"query": "...", "variables": {...}}`, true
}

// isArgumentError recognises errors of arguments that do not unmarshal (a
// malformed ID, an enum value in the wrong case, ...). gqlgen reports them
// before the field's resolver runs: their path goes below the field context
// they are presented in (the argument's name), where a resolver's error
// sits exactly at its field's path.
func isArgumentError(ctx context.Context, e *gqlerror.Error) bool {
	if len(e.Path) == 0 {
		return false
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return true
	}
	return fc.Path().String() != e.Path.String()
}

// Recover turns a resolver panic into an INTERNAL_SERVER_ERROR, logging
// the stack.
func Recover(ctx context.Context, p any) error {
	slog.ErrorContext(ctx, "graphql: panic", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
	return &fault.Error{Code: fault.CodeInternal, Message: "internal error"}
}
