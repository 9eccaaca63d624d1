package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"concierge/fault"
)

// GraphQL over HTTP (https://graphql.github.io/graphql-over-http/): GET and
// POST application/json, in place of gqlgen's transport.GET and
// transport.POST, which answer a request that does not parse, validate or
// whose variables do not coerce 422 under application/json (the spec: 200)
// and send "data": null with it (the spec: no data entry, as the GraphQL
// spec says of every error raised before execution starts).
//
// Statuses:
//   - a body that is not a GraphQL-over-HTTP request (not JSON, a query
//     that is no string, variables or extensions that are no objects, no
//     query at all): 400, under either media type;
//   - a well-formed request refused before execution (parse, validation,
//     variable coercion, the operation limits, persisted queries): 200
//     under application/json, 400 under application/graphql-response+json,
//     with errors and no data;
//   - a mutation or subscription over GET: 405, Allow: POST;
//   - an executed operation: 200, whatever its field errors.
//
// Every error keeps its extensions.code (the error presenter's).
type graphqlHTTP struct{}

var _ graphql.Transport = graphqlHTTP{}

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

func (graphqlHTTP) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	switch r.Method {
	case http.MethodGet:
		return true
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		return err == nil && mt == mediaJSON
	}
	return false
}

// responseMediaType is the media type the response is sent as, from the
// request's Accept (in its order, as gqlgen's transports choose it):
// application/json without one or for */* and application/*, the legacy
// type older clients expect.
func responseMediaType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return mediaJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", mediaJSON:
			return mediaJSON
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		}
	}
	return mediaGraphQLResponse
}

// requestErrors is the answer to a request refused before execution: no
// data entry.
type requestErrors struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

func (graphqlHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	media := responseMediaType(r)
	w.Header().Set("Content-Type", media)
	refuse := func(ctx context.Context, status int, errs gqlerror.List) {
		resp := exec.DispatchError(ctx, errs)
		w.WriteHeader(status)
		writeJSON(w, requestErrors{Errors: resp.Errors, Extensions: resp.Extensions})
	}

	params := &graphql.RawParams{Headers: r.Header}
	params.ReadTime.Start = graphql.Now()
	if err := readParams(r, params); err != nil {
		refuse(ctx, http.StatusBadRequest, gqlerror.List{err})
		return
	}
	params.ReadTime.End = graphql.Now()
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		refuse(ctx, http.StatusBadRequest, gqlerror.List{{Message: `the request has no query: {"query": "...", "variables": {...}}`,
			Extensions: map[string]any{"code": fault.CodeBadRequest}}})
		return
	}

	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		status := http.StatusOK
		if media == mediaGraphQLResponse {
			status = http.StatusBadRequest
		}
		refuse(graphql.WithOperationContext(ctx, opCtx), status, errs)
		return
	}
	if r.Method == http.MethodGet && opCtx.Operation.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		refuse(graphql.WithOperationContext(ctx, opCtx), http.StatusMethodNotAllowed, gqlerror.List{{
			Message:    fmt.Sprintf("a %s cannot be sent with GET: use POST", opCtx.Operation.Operation),
			Extensions: map[string]any{"code": fault.CodeBadRequest}}})
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeJSON(w, responses(ctx))
}

// readParams reads a GET's URL parameters or a POST's JSON body. A POST's
// errors are worded as gqlgen's transport words them, for the error
// presenter to say what is wrong without quoting the body
// (graph.malformedRequest: BAD_REQUEST).
func readParams(r *http.Request, p *graphql.RawParams) *gqlerror.Error {
	if r.Method == http.MethodGet {
		badRequest := func(msg string) *gqlerror.Error {
			return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": fault.CodeBadRequest}}
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return badRequest("the URL's query string cannot be read")
		}
		p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			if err := jsonDecode(v, &p.Variables); err != nil {
				return badRequest("the request's variables must be a JSON object")
			}
		}
		if v := q.Get("extensions"); v != "" {
			if err := jsonDecode(v, &p.Extensions); err != nil {
				return badRequest("the request's extensions must be a JSON object")
			}
		}
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return gqlerror.Errorf("could not read request body: %v", err)
	}
	if err := jsonDecode(string(body), p); err != nil {
		return gqlerror.Errorf("json request body could not be decoded: %v", err)
	}
	return nil
}

func jsonDecode(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	return dec.Decode(v)
}

func writeJSON(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Errorf("graphql: cannot encode the response: %w", err))
	}
	_, _ = w.Write(b)
}
