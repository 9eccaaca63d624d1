package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// frame is one graphql-transport-ws message.
type frame struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

var (
	errComplete = errors.New("the server completed the subscription")
	errRefused  = errors.New("the server ended the subscription with an error")
)

// wsURL is the WebSocket address of a replica's GraphQL endpoint.
func wsURL(base string) string {
	switch {
	case strings.HasPrefix(base, "https://"):
		return "wss://" + strings.TrimPrefix(base, "https://") + "/graphql"
	case strings.HasPrefix(base, "http://"):
		return "ws://" + strings.TrimPrefix(base, "http://") + "/graphql"
	}
	return base + "/graphql"
}

// subscribe opens a WebSocket to base (through client; nil: the default), authenticates with token in
// connection_init, waits for connection_ack (answering pings) and starts
// one subscription with id "1". Only the handshake is bounded by timeout.
func subscribe(ctx context.Context, client *http.Client, base, token, query string, vars map[string]any, timeout time.Duration) (*websocket.Conn, error) {
	hs, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, _, err := websocket.Dial(hs, wsURL(base), &websocket.DialOptions{HTTPClient: client, Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, &apiError{Code: "WS_DIAL", Message: err.Error()}
	}
	fail := func(code string, err error) (*websocket.Conn, error) {
		conn.CloseNow()
		return nil, &apiError{Code: code, Message: err.Error()}
	}
	payload := map[string]any{}
	if token != "" {
		payload["authorization"] = "Bearer " + token
	}
	init, _ := json.Marshal(payload)
	if err := wsjson.Write(hs, conn, frame{Type: "connection_init", Payload: init}); err != nil {
		return fail("WS_INIT", err)
	}
	for {
		var f frame
		if err := wsjson.Read(hs, conn, &f); err != nil {
			return fail("WS_INIT", fmt.Errorf("waiting for connection_ack: %w", err))
		}
		if f.Type == "connection_ack" {
			break
		}
		if f.Type == "ping" {
			if err := wsjson.Write(hs, conn, frame{Type: "pong"}); err != nil {
				return fail("WS_INIT", err)
			}
			continue
		}
		return fail("WS_INIT", fmt.Errorf("expected connection_ack, got %s %s", f.Type, f.Payload))
	}
	sub, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err := wsjson.Write(hs, conn, frame{ID: "1", Type: "subscribe", Payload: sub}); err != nil {
		return fail("WS_SUBSCRIBE", err)
	}
	return conn, nil
}

// inFrame is a graphql-transport-ws message read by readLoop, its payload
// decoded in the same pass (the reader runs for every delivery, and a
// second decoding of the payload cost a sixth of this program's CPU).
type inFrame struct {
	Type    string      `json:"type"`
	Payload nextPayload `json:"payload"`
}

// nextPayload is a next message's payload; an error message's payload (a
// list of errors) is kept as it is in raw.
type nextPayload struct {
	Data   map[string]*streamEvent `json:"data"`
	Errors []gqlError              `json:"errors"`
	raw    json.RawMessage
	bad    bool // the message was not JSON of this shape
}

func (p *nextPayload) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '[' {
		p.raw = append(p.raw[:0], b...)
		return nil
	}
	type plain nextPayload
	return json.Unmarshal(b, (*plain)(p))
}

// readLoop reads conn until it fails or the subscription ends: next
// payloads go to onNext, the payload of an error message to onError; pings
// are answered with pongs.
func readLoop(ctx context.Context, conn *websocket.Conn, onNext func(*nextPayload), onError func(json.RawMessage)) error {
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		var f inFrame
		if err := json.Unmarshal(b, &f); err != nil {
			onNext(&nextPayload{bad: true})
			continue
		}
		switch f.Type {
		case "next":
			onNext(&f.Payload)
		case "ping":
			if err := wsjson.Write(ctx, conn, frame{Type: "pong"}); err != nil {
				return err
			}
		case "error":
			onError(f.Payload.raw)
			return errRefused
		case "complete":
			return errComplete
		}
	}
}

// closeCode is the error code an unexpected end of a subscription is
// counted under ("" when it was counted already).
func closeCode(err error) string {
	switch {
	case errors.Is(err, errRefused):
		return ""
	case errors.Is(err, errComplete):
		return "WS_COMPLETE"
	}
	if s := websocket.CloseStatus(err); s != -1 {
		return fmt.Sprintf("WS_CLOSED_%d", int(s))
	}
	return "WS_CLOSED"
}

// subErrors are the codes of the GraphQL errors in an error message's
// payload (a list of errors).
func subErrors(p json.RawMessage) []string {
	var errs []gqlError
	if json.Unmarshal(p, &errs) != nil || len(errs) == 0 {
		return []string{"WS_ERROR"}
	}
	codes := make([]string, len(errs))
	for i, e := range errs {
		codes[i] = e.code()
	}
	return codes
}
