package observe

import (
	"context"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
)

// GraphQL is the gqlgen extension measuring operations (h.Use(observe.GraphQL{})):
// latency by operation type, name and outcome, and the subscriptions
// running. Requests refused before they run (unparsable, invalid, too
// complex) count as errors of their type, or "unknown".
type GraphQL struct{}

var (
	_ graphql.HandlerExtension     = GraphQL{}
	_ graphql.OperationInterceptor = GraphQL{}
	_ graphql.ResponseInterceptor  = GraphQL{}
)

// ExtensionName implements graphql.HandlerExtension.
func (GraphQL) ExtensionName() string { return "ConciergeMetrics" }

// Validate implements graphql.HandlerExtension.
func (GraphQL) Validate(graphql.ExecutableSchema) error { return nil }

// dispatchedKey marks the responses of operations InterceptOperation
// measures, so InterceptResponse measures only the refused ones.
type dispatchedKey struct{}

// InterceptOperation implements graphql.OperationInterceptor.
func (GraphQL) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	typ, name := operationLabels(opCtx)
	start := opCtx.Stats.OperationStart
	if start.IsZero() {
		start = time.Now()
	}
	if typ != string(ast.Subscription) {
		rh := next(ctx)
		var done atomic.Bool
		return func(ctx context.Context) *graphql.Response {
			resp := rh(context.WithValue(ctx, dispatchedKey{}, true))
			if resp != nil && done.CompareAndSwap(false, true) {
				graphqlDuration.WithLabelValues(typ, name, outcome(resp)).Observe(time.Since(start).Seconds())
			}
			return resp
		}
	}

	// A subscription runs until its handler returns nil, or its context
	// ends (a transport that stops reading, a panic).
	graphqlSubscriptions.Inc()
	var (
		once   sync.Once
		setup  atomic.Int64 // nanoseconds to set it up
		failed atomic.Bool
	)
	end := func() {
		once.Do(func() {
			graphqlSubscriptions.Dec()
			d := time.Duration(setup.Load())
			if d == 0 {
				d = time.Since(start)
			}
			o := OutcomeOK
			if failed.Load() {
				o = OutcomeError
			}
			graphqlDuration.WithLabelValues(typ, name, o).Observe(d.Seconds())
		})
	}
	stop := context.AfterFunc(ctx, end)
	rh := next(ctx)
	setup.Store(int64(max(time.Since(start), 1)))
	return func(ctx context.Context) *graphql.Response {
		resp := rh(context.WithValue(ctx, dispatchedKey{}, true))
		if resp == nil {
			stop()
			end()
			return nil
		}
		if len(resp.Errors) > 0 {
			failed.Store(true)
		}
		return resp
	}
}

// InterceptResponse implements graphql.ResponseInterceptor. It measures
// the requests refused before they ran: the others are measured by
// InterceptOperation.
func (GraphQL) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || ctx.Value(dispatchedKey{}) != nil {
		return resp
	}
	typ, name := "unknown", "other"
	var start time.Time
	if graphql.HasOperationContext(ctx) {
		opCtx := graphql.GetOperationContext(ctx)
		typ, name = operationLabels(opCtx)
		start = opCtx.Stats.OperationStart
	}
	if start.IsZero() {
		start = graphql.GetStartTime(ctx)
	}
	d := 0.0
	if !start.IsZero() {
		d = time.Since(start).Seconds()
	}
	graphqlDuration.WithLabelValues(typ, name, OutcomeError).Observe(d)
	return resp
}

func outcome(resp *graphql.Response) string {
	if len(resp.Errors) > 0 {
		return OutcomeError
	}
	return OutcomeOK
}

// operationLabels returns the operation's type (query, mutation,
// subscription; "unknown" before it is known) and its bounded name.
func operationLabels(opCtx *graphql.OperationContext) (typ, name string) {
	typ, name = "unknown", opCtx.OperationName
	if op := opCtx.Operation; op != nil {
		typ = string(op.Operation)
		if op.Name != "" {
			name = op.Name
		}
	}
	return typ, operationName(name)
}

// MaxOperationNames bounds the distinct operation names used as label
// values; names first seen after that count as "other".
const MaxOperationNames = 500

var (
	operationNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	namesMu         sync.RWMutex
	names           = map[string]struct{}{}
)

// operationName returns name as a label value: "anonymous" when empty,
// "other" when it is not a plain GraphQL name or too many names were seen.
func operationName(name string) string {
	if name == "" {
		return "anonymous"
	}
	if !operationNameRE.MatchString(name) {
		return "other"
	}
	namesMu.RLock()
	_, ok := names[name]
	namesMu.RUnlock()
	if ok {
		return name
	}
	namesMu.Lock()
	defer namesMu.Unlock()
	if _, ok := names[name]; ok {
		return name
	}
	if len(names) >= MaxOperationNames {
		return "other"
	}
	names[name] = struct{}{}
	return name
}

// wsOpenKey holds the flag of a counted WebSocket connection.
type wsOpenKey struct{}

// WebSocketOpened counts a WebSocket connection opened; WebSocketClosed
// must follow once. WebSocketInit and WebSocketClose do both for gqlgen's
// transport.
func WebSocketOpened() { websocketConnections.Inc() }

// WebSocketClosed counts a WebSocket connection closed.
func WebSocketClosed() { websocketConnections.Dec() }

// WebSocketInit wraps the WebSocket transport's InitFunc (init may be nil):
// a connection whose connection_init init accepts counts as open until
// WebSocketClose's CloseFunc sees it close.
func WebSocketInit(init transport.WebsocketInitFunc) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		var ack *transport.InitPayload
		if init != nil {
			next, a, err := init(ctx, p)
			if err != nil {
				return next, a, err
			}
			if next != nil {
				ctx = next
			}
			ack = a
		}
		open := new(atomic.Bool)
		open.Store(true)
		WebSocketOpened()
		return context.WithValue(ctx, wsOpenKey{}, open), ack, nil
	}
}

// WebSocketClose wraps the WebSocket transport's CloseFunc (closeFn may be
// nil) to count the connections WebSocketInit counted as closed, once.
func WebSocketClose(closeFn transport.WebsocketCloseFunc) transport.WebsocketCloseFunc {
	return func(ctx context.Context, code int) {
		if open, ok := ctx.Value(wsOpenKey{}).(*atomic.Bool); ok && open.CompareAndSwap(true, false) {
			WebSocketClosed()
		}
		if closeFn != nil {
			closeFn(ctx, code)
		}
	}
}
