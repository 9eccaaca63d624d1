package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"concierge/realtime"
)

// graphqlTransportWS serves the graphql-transport-ws protocol (the
// graphql-ws library's, used by the widget and the dashboard). gqlgen's
// WebSocket transport serves it too, but holds a goroutine per connection
// only to wait for the connection's end, and one per subscription; this
// one holds the reading goroutine, and a goroutine per operation only
// while it has something to send when its stream says when that is
// (realtime.Waker, as a conversation's stream does), which is what makes
// 10,000 open widgets cheap. gqlgen's transport still serves the older
// graphql-ws subprotocol.
//
// Close codes are the protocol's: 4400 for a malformed message, 4401 for a
// subscribe before connection_init, 4403 (or the code of a wsRefusal) for
// credentials refused, 4408 for no connection_init in time, 4409 for a
// subscription id in use and 4429 for a second connection_init.
type graphqlTransportWS struct {
	impl        *wsImplementation
	init        transport.WebsocketInitFunc
	closed      transport.WebsocketCloseFunc
	initTimeout time.Duration
	readLimit   int64
	// stopping ends when the server stops: connections then close with
	// 1012 (service restart) without completing their operations, so
	// clients reconnect and resubscribe (to this server once it is back,
	// or to another replica) instead of taking their streams for finished.
	stopping context.Context
}

// CloseServiceRestart is the close code of connections ended by the
// server stopping (RFC 6455's 1012): clients should come back.
const CloseServiceRestart = 1012

const transportWSProtocol = "graphql-transport-ws"

// isStopping reports whether the server is stopping: streams that end now
// end with it, and are not completed.
func (t *graphqlTransportWS) isStopping() bool { return t.stopping != nil && t.stopping.Err() != nil }

func (t *graphqlTransportWS) Supports(r *http.Request) bool {
	if !isWebSocket(r) {
		return false
	}
	for _, p := range websocket.Subprotocols(r) {
		if p == transportWSProtocol {
			return true
		}
	}
	return false
}

func (t *graphqlTransportWS) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	conn, err := t.impl.accept(w, r, []string{transportWSProtocol}, nil)
	if err != nil {
		return // the upgrader answered the request
	}
	if t.readLimit > 0 {
		conn.SetReadLimit(t.readLimit)
	}
	s := &wsSession{t: t, conn: conn, exec: exec, headers: r.Header, ctx: r.Context(),
		active: map[string]*operation{}}
	s.run()
}

// wsRefusal is an init function's refusal with the close code to send.
type wsRefusal struct {
	code int
	err  error
}

func (e *wsRefusal) Error() string { return e.err.Error() }
func (e *wsRefusal) Unwrap() error { return e.err }

// legacyInit adapts an init function that refuses with wsRefusal to
// gqlgen's transport, which takes the close code from the context.
func legacyInit(init transport.WebsocketInitFunc) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		next, ack, err := init(ctx, p)
		var r *wsRefusal
		if errors.As(err, &r) {
			return transport.WithWebsocketCloseCode(ctx, r.code), nil, r.err
		}
		return next, ack, err
	}
}

// operation is a running operation of a session.
type operation struct{ cancel context.CancelFunc }

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type wsSession struct {
	t       *graphqlTransportWS
	conn    *gqlConn
	exec    graphql.GraphExecutor
	headers http.Header
	ctx     context.Context // the request's, then the one init returns
	ready   bool            // connection_init accepted

	mu     sync.Mutex
	active map[string]*operation // running operations by id
	closed bool
}

var errInvalidMessage = errors.New("invalid message")

func (s *wsSession) run() {
	if !s.handshake() {
		return
	}
	// A connection whose context ends (a logout, a deactivated account)
	// is closed; nothing waits for that but this callback.
	stop := context.AfterFunc(s.ctx, func() {
		var refused *wsRefusal
		if errors.As(context.Cause(s.ctx), &refused) {
			s.close(refused.code, refused.err.Error())
			return
		}
		s.close(websocket.CloseNormalClosure, "terminated")
	})
	defer stop()
	if s.t.stopping != nil {
		stopRestart := context.AfterFunc(s.t.stopping, func() { s.close(CloseServiceRestart, "server restarting") })
		defer stopRestart()
	}
	for {
		start := graphql.Now()
		m, err := s.read(0)
		if err != nil {
			s.closeAfter(err)
			return
		}
		switch m.Type {
		case "subscribe":
			if !s.subscribe(start, m) {
				return
			}
		case "complete":
			s.mu.Lock()
			op := s.active[m.ID]
			delete(s.active, m.ID) // the client knows it ended: nothing more is sent
			s.mu.Unlock()
			if op != nil {
				op.cancel()
			}
		case "ping":
			s.write(wsMessage{Type: "pong", Payload: m.Payload})
		case "pong":
		case "connection_init":
			s.close(4429, "Too many initialisation requests")
			return
		default:
			s.close(4400, "Invalid message received")
			return
		}
	}
}

// handshake waits for connection_init (answering pings meanwhile) and
// runs the init function on it.
func (s *wsSession) handshake() bool {
	deadline := time.Now().Add(s.t.initTimeout)
	for {
		m, err := s.read(time.Until(deadline))
		if err != nil {
			s.closeAfter(err)
			return false
		}
		switch m.Type {
		case "ping":
			s.write(wsMessage{Type: "pong", Payload: m.Payload})
			continue
		case "connection_init":
		case "subscribe":
			s.close(4401, "Unauthorized")
			return false
		default:
			s.close(4400, "Invalid message received")
			return false
		}
		var p transport.InitPayload
		if len(m.Payload) > 0 {
			if err := json.Unmarshal(m.Payload, &p); err != nil {
				s.close(4400, "Invalid connection_init payload")
				return false
			}
		}
		ctx, ack, err := s.t.init(s.ctx, p)
		if err != nil {
			code := 4403
			var r *wsRefusal
			if errors.As(err, &r) {
				code = r.code
			}
			s.close(code, err.Error())
			return false
		}
		if ctx != nil {
			s.ctx = ctx
		}
		s.ready = true
		msg := wsMessage{Type: "connection_ack"}
		if ack != nil {
			msg.Payload, _ = json.Marshal(*ack)
		}
		s.write(msg)
		return true
	}
}

// read returns the next message, within timeout if it is positive.
func (s *wsSession) read(timeout time.Duration) (wsMessage, error) {
	if timeout < 0 {
		timeout = time.Nanosecond // already past the deadline
	}
	_, r, err := s.conn.nextReader(timeout)
	if err != nil {
		return wsMessage{}, err
	}
	var m wsMessage
	dec := json.NewDecoder(r)
	if err := dec.Decode(&m); err != nil {
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, websocket.ErrReadLimit) {
			return m, err
		}
		return m, errInvalidMessage
	}
	return m, nil
}

// closeAfter closes the connection after a failed read.
func (s *wsSession) closeAfter(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, errInvalidMessage):
		s.close(4400, "Invalid message received")
	case errors.As(err, &ne) && ne.Timeout() && !s.ready:
		s.close(4408, "Connection initialisation timeout")
	case errors.Is(err, websocket.ErrReadLimit):
		s.close(websocket.CloseMessageTooBig, "message too big") // gorilla has sent it already
	default: // gone, or silent for too long
		s.close(websocket.CloseNormalClosure, "")
	}
}

// subscribe starts operation m (a query, mutation or subscription); false
// when the connection was closed for a protocol error.
func (s *wsSession) subscribe(start time.Time, m wsMessage) bool {
	id := m.ID
	if id == "" {
		s.close(4400, "Invalid message received: subscribe without an id")
		return false
	}
	s.mu.Lock()
	_, inUse := s.active[id]
	s.mu.Unlock()
	if inUse {
		s.close(4409, "Subscriber for "+id+" already exists")
		return false
	}
	ctx := graphql.StartOperationTrace(s.ctx)
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(m.Payload))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		s.sendError(id, &gqlerror.Error{Message: "invalid json"})
		return true
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	params.Headers = s.headers
	rc, errs := s.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := s.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			s.sendError(id, resp.Errors...)
		} else {
			s.next(id, &graphql.Response{Errors: errs})
			s.write(wsMessage{ID: id, Type: "complete"})
		}
		return true
	}
	ctx, cancel := context.WithCancel(graphql.WithOperationContext(ctx, rc))
	op := &operation{cancel: cancel}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		return false
	}
	s.active[id] = op
	s.mu.Unlock()
	go s.execute(ctx, op, id, rc)
	return true
}

// execute runs one operation and sends its results, then complete
// (unless the client completed it or the connection is closing). A
// subscription whose stream tells when it has a value (realtime.Waker)
// holds no goroutine while it waits: this one ends, and one is started
// for the values that come.
func (s *wsSession) execute(ctx context.Context, op *operation, id string, rc *graphql.OperationContext) {
	r := &opRun{s: s, op: op, id: id, rc: rc, ctx: ctx}
	var w *realtime.Waker
	if rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
		w = realtime.NewWaker() // a query's one result must not wait for it
		ctx = realtime.WithWaker(ctx, w)
	}
	if !r.guard(func() bool {
		r.responses, r.ctx = s.exec.DispatchOperation(ctx, rc)
		return true
	}) {
		return
	}
	if !w.Attached() {
		for r.guard(r.next) {
		}
		return
	}
	// The context's end is one more receive that does not block.
	r.unwatch = context.AfterFunc(r.ctx, w.Ready)
	w.Run(func() bool { return r.guard(r.next) })
}

// opRun is a running operation of a session.
type opRun struct {
	s         *wsSession
	op        *operation
	id        string
	rc        *graphql.OperationContext
	ctx       context.Context
	responses graphql.ResponseHandler
	unwatch   func() bool
}

// next sends the operation's next result; false when it has ended.
func (r *opRun) next() bool {
	resp := r.responses(r.ctx)
	if resp == nil || r.ctx.Err() != nil { // ended, or completed by the client
		r.end(false)
		return false
	}
	r.s.next(r.id, resp)
	return true
}

// guard runs f, ending the operation with an error if f panics.
func (r *opRun) guard(f func() bool) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			err := r.rc.Recover(r.ctx, p)
			var gqlErr *gqlerror.Error
			if !errors.As(err, &gqlErr) {
				gqlErr = &gqlerror.Error{Message: "internal system error"}
			}
			r.s.sendError(r.id, gqlErr)
			r.end(true)
			ok = false
		}
	}()
	return f()
}

// end releases the operation and sends complete, unless the client
// completed it (and may reuse the id), it failed, or the connection is
// closing.
func (r *opRun) end(failed bool) {
	r.op.cancel()
	if r.unwatch != nil {
		r.unwatch()
	}
	s := r.s
	s.mu.Lock()
	mine := s.active[r.id] == r.op
	if mine {
		delete(s.active, r.id)
	}
	s.mu.Unlock()
	if mine && !failed && s.ctx.Err() == nil && !s.t.isStopping() {
		s.write(wsMessage{ID: r.id, Type: "complete"})
	}
}

func (s *wsSession) next(id string, resp *graphql.Response) {
	if b, ok := dataFrame(id, resp); ok {
		_ = s.conn.write(b)
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		b, _ = json.Marshal(&graphql.Response{Errors: gqlerror.List{{Message: "the response could not be encoded"}}})
	}
	s.write(wsMessage{ID: id, Type: "next", Payload: b})
}

// dataFrame encodes the next message of a response that is data alone,
// the common case, without running encoding/json over data (which
// json.Marshal would check and copy twice, for the response and the
// message): gqlgen wrote it, valid and compact. ok is false for any other
// response.
func dataFrame(id string, resp *graphql.Response) (frame []byte, ok bool) {
	// gqlgen's executor gives every response an extensions map, empty
	// unless an extension wrote to it (encoding/json omits it then).
	if len(resp.Errors) > 0 || resp.Label != "" || resp.Path != nil || resp.HasNext != nil || len(resp.Extensions) > 0 {
		return nil, false
	}
	qid, err := json.Marshal(id)
	if err != nil {
		return nil, false
	}
	data := []byte(resp.Data)
	if len(data) == 0 {
		data = []byte("null")
	}
	const (
		head = `{"id":`
		mid  = `,"type":"next","payload":{"data":`
		tail = `}}`
	)
	b := make([]byte, 0, len(head)+len(qid)+len(mid)+len(data)+len(tail))
	b = append(append(append(append(append(b, head...), qid...), mid...), data...), tail...)
	return b, true
}

func (s *wsSession) sendError(id string, errs ...*gqlerror.Error) {
	b, _ := json.Marshal(errs)
	s.write(wsMessage{ID: id, Type: "error", Payload: b})
}

// write sends m; a failed write closes the connection (gqlConn does), so
// the reader ends and the session with it.
func (s *wsSession) write(m wsMessage) { _ = s.conn.WriteJSON(m) }

// close ends the connection once: the close frame, every running
// operation, the socket, then the close callback.
func (s *wsSession) close(code int, reason string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	active := s.active
	s.active = map[string]*operation{}
	s.mu.Unlock()
	_ = s.conn.WriteClose(code, reason)
	for _, op := range active {
		op.cancel()
	}
	_ = s.conn.Close()
	if s.t.closed != nil {
		s.t.closed(s.ctx, code)
	}
}
