package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// wsImplementation accepts GraphQL WebSocket connections for gqlgen's
// transport with what a connection must cost when 10,000 are open: a 512-byte
// read buffer, write buffers borrowed from a pool only while a message is
// written, and keep-alive pings sent by a timer rather than a goroutine per
// connection (gqlgen's own pinger is one goroutine and one ticker each).
//
// Every interval the connection sends the subprotocol's keep-alive
// ({"type":"ping"} for graphql-transport-ws, which the client answers with
// a pong; {"type":"ka"} for the older graphql-ws). A graphql-transport-ws
// client that sends nothing for two intervals is gone, and its connection
// is closed. A write that cannot finish within writeTimeout (a client that
// stopped reading) closes the connection too, so a stuck peer never holds
// a goroutine.
type wsImplementation struct {
	upgrader     websocket.Upgrader
	interval     time.Duration // keep-alive period; 0 disables
	writeTimeout time.Duration
}

func newWSImplementation(interval time.Duration) *wsImplementation {
	return &wsImplementation{
		upgrader: websocket.Upgrader{
			HandshakeTimeout: 10 * time.Second,
			ReadBufferSize:   512, // clients send short messages; longer ones take several reads
			WriteBufferPool:  &sync.Pool{},
			// Credentials travel in connection_init, never in cookies, so
			// any origin may connect (the widget runs on customers' sites);
			// visitors' origins are checked against their company's list
			// in wsInit.
			CheckOrigin: func(*http.Request) bool { return true },
		},
		interval:     interval,
		writeTimeout: 10 * time.Second,
	}
}

func (w *wsImplementation) Accept(rw http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	return w.accept(rw, r, opts.Subprotocols, opts.ResponseHeader)
}

// accept upgrades the request, offering subprotocols; on failure the
// upgrader has answered the request.
func (w *wsImplementation) accept(rw http.ResponseWriter, r *http.Request, subprotocols []string, header http.Header) (*gqlConn, error) {
	u := w.upgrader
	u.Subprotocols = subprotocols
	conn, err := u.Upgrade(rw, r, header)
	if err != nil {
		return nil, err
	}
	c := &gqlConn{conn: conn, writeTimeout: w.writeTimeout}
	if w.interval > 0 {
		c.interval = w.interval
		switch conn.Subprotocol() {
		case transportWSProtocol:
			c.ping = []byte(`{"type":"ping"}`)
			c.idle = 2*w.interval + w.interval/2
		default: // graphql-ws clients do not answer keep-alives
			c.ping = []byte(`{"type":"ka"}`)
		}
		c.timer = time.AfterFunc(w.interval, c.keepAlive)
	}
	return c, nil
}

type gqlConn struct {
	conn         *websocket.Conn
	writeTimeout time.Duration
	interval     time.Duration
	idle         time.Duration // read deadline after each message; 0 for none
	ping         []byte

	mu        sync.Mutex // serializes writes
	closed    bool
	closeSent atomic.Bool // a close frame went out: Close lingers for the peer's
	timer     *time.Timer
}

var (
	_ transport.WebsocketConn        = (*gqlConn)(nil)
	_ transport.WebsocketReadLimiter = (*gqlConn)(nil)
)

func (c *gqlConn) keepAlive() {
	if c.write(c.ping) == nil {
		c.timer.Reset(c.interval)
	}
}

// write sends one text message within the write timeout. A write that
// fails (a peer gone, or not reading) closes the socket, so the reader
// fails and the connection ends.
func (c *gqlConn) write(data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return transport.ErrWebsocketClosed
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	err := c.conn.WriteMessage(websocket.TextMessage, data)
	if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		_ = c.conn.Close()
	}
	return err
}

func (c *gqlConn) NextReader() (int, io.Reader, error) { return c.nextReader(0) }

// nextReader waits for the next message for timeout, or, when it is 0,
// for as long as the client may stay silent.
func (c *gqlConn) nextReader(timeout time.Duration) (int, io.Reader, error) {
	switch {
	case timeout > 0:
		_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	case c.idle > 0:
		_ = c.conn.SetReadDeadline(time.Now().Add(c.idle))
	default:
		_ = c.conn.SetReadDeadline(time.Time{})
	}
	kind, r, err := c.conn.NextReader()
	if err != nil {
		if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
			return kind, nil, transport.ErrWebsocketClosed
		}
		return kind, nil, err
	}
	return kind, r, nil
}

func (c *gqlConn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.write(data)
}

func (c *gqlConn) WriteClose(code int, message string) error {
	// A close frame's reason fits in 123 bytes; cut at a character.
	for len(message) > 120 {
		_, size := utf8.DecodeLastRuneInString(message)
		message = message[:len(message)-size]
	}
	err := c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, message),
		time.Now().Add(time.Second))
	if err == nil || errors.Is(err, websocket.ErrCloseSent) { // gorilla may have sent one (e.g. 1009)
		c.closeSent.Store(true)
	}
	return err
}

// Close closes the connection. After a close frame it lingers up to
// closeLinger, dropping what the peer still sends until it closes too:
// closing the socket on unread data would reset the connection, and the
// peer could lose the close frame (and its code) before reading it.
func (c *gqlConn) Close() error {
	var err error
	linger := c.closeSent.Load()
	if !linger {
		err = c.conn.Close() // first: it ends a write blocked on the peer
	}
	c.mu.Lock()
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	if linger { // writes fail at once after a close frame
		nc := c.conn.NetConn()
		_ = nc.SetReadDeadline(time.Now().Add(closeLinger))
		go func() {
			_, _ = io.Copy(io.Discard, nc)
			_ = nc.Close()
		}()
	}
	return err
}

// closeLinger bounds how long a closed connection waits for its peer.
const closeLinger = 2 * time.Second

func (c *gqlConn) Subprotocol() string { return c.conn.Subprotocol() }

func (c *gqlConn) SetReadLimit(limit int64) { c.conn.SetReadLimit(limit) }

// serveDetached runs a WebSocket request in a goroutine of its own and
// returns once the connection is upgraded (or refused). gqlgen serves a
// connection in the goroutine that calls ServeHTTP for as long as it is
// open; run in net/http's goroutine, every open connection would also keep
// net/http's per-connection state alive (its 4 KB read and write buffers
// and that goroutine's deeper stack). done runs when the connection ends.
//
// The connection's context is the request's without its cancellation
// (which comes when this handler returns); the connection ends when its
// peer goes or stops answering keep-alives, and with the process.
func serveDetached(h http.Handler, w http.ResponseWriter, r *http.Request, done func()) {
	dw := &detachedWriter{w: w, upgraded: make(chan struct{})}
	r = r.WithContext(context.WithoutCancel(r.Context()))
	// gqlgen keeps the request's headers for as long as the connection is
	// open; only the handshake's are needed (the middleware has read the
	// others into the context).
	h2 := make(http.Header, len(handshakeHeaders))
	for _, k := range handshakeHeaders {
		if v := r.Header[k]; v != nil {
			h2[k] = v
		}
	}
	r.Header = h2
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer done()
		defer func() {
			if v := recover(); v != nil {
				slog.ErrorContext(r.Context(), "websocket: panic", slog.Any("panic", v))
			}
		}()
		h.ServeHTTP(dw, r)
	}()
	select {
	case <-dw.upgraded:
	case <-ended:
	}
}

var handshakeHeaders = []string{"Connection", "Upgrade", "Origin", "Sec-Websocket-Key",
	"Sec-Websocket-Version", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions"}

// detachedWriter is the ResponseWriter of a detached WebSocket request:
// it hands the connection over on Hijack and then lets go of net/http's
// response, so nothing here keeps it alive.
type detachedWriter struct {
	mu       sync.Mutex
	w        http.ResponseWriter // nil once hijacked
	upgraded chan struct{}
}

func (d *detachedWriter) writer() http.ResponseWriter {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.w == nil {
		return discardWriter{}
	}
	return d.w
}

func (d *detachedWriter) Header() http.Header         { return d.writer().Header() }
func (d *detachedWriter) Write(b []byte) (int, error) { return d.writer().Write(b) }
func (d *detachedWriter) WriteHeader(code int)        { d.writer().WriteHeader(code) }

func (d *detachedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.w == nil {
		return nil, nil, http.ErrHijacked
	}
	conn, rw, err := http.NewResponseController(d.w).Hijack()
	if err == nil {
		d.w = nil
		close(d.upgraded)
	}
	return conn, rw, err
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return 0, http.ErrHijacked }
func (discardWriter) WriteHeader(int)             {}
