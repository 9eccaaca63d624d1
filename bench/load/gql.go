package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The operations the load program sends, as a widget and a dashboard do.
const (
	qRegister = `mutation($in: RegisterCompanyInput!) { registerCompany(input: $in) { token company { id widgetKey } } }`
	qAgent    = `mutation($in: CreateAgentInput!) { createAgent(input: $in) { id } }`
	qLogin    = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`
	qStart    = `mutation($k: String!) { startConversation(input: {companyKey: $k}) { token conversation { id } } }`
	qTakeOver = `mutation($id: ID!) { takeOverConversation(id: $id) { id status } }`
	qTyping   = `mutation($c: ID!) { setTyping(conversationId: $c, typing: false) }`
	qSend     = `mutation($c: ID!, $b: String!, $m: String) { sendMessage(conversationId: $c, body: $b, clientMessageId: $m) { id } }`

	qInbox   = `subscription { inboxEvents { kind conversation { id } message { id body senderType } } }`
	qVisitor = `subscription($c: ID!, $a: ID) { conversationEvents(conversationId: $c, after: $a) { kind message { id body senderType replyToID } } }`
)

// gqlError is one GraphQL error as the server presents it.
type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

func (e gqlError) code() string {
	if c, ok := e.Extensions["code"].(string); ok && c != "" {
		return c
	}
	return "UNKNOWN"
}

// apiError is a failed request: GraphQL errors, a bad HTTP status, or no
// answer at all (Code TRANSPORT).
type apiError struct {
	Code       string
	Message    string
	Status     int
	RetryAfter time.Duration
}

func (e *apiError) Error() string {
	if e.Status != 0 && e.Status != http.StatusOK {
		return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message)
	}
	return e.Code + ": " + e.Message
}

// errCode is the code an error is counted under.
func errCode(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Code
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "TIMEOUT"
	}
	return "TRANSPORT"
}

// retryable says whether repeating the request may succeed (every request
// the program repeats is idempotent: sendMessage carries a clientMessageId).
func retryable(err error) bool {
	var ae *apiError
	if !errors.As(err, &ae) {
		return true
	}
	switch ae.Code {
	case "RATE_LIMITED", "TRANSPORT", "UNAVAILABLE", "SERVICE_UNAVAILABLE", "TIMEOUT":
		return true
	}
	return ae.Status >= 500 || ae.Status == http.StatusTooManyRequests
}

// retryWait is how long to wait before attempt+1.
func retryWait(err error, attempt int) time.Duration {
	var ae *apiError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return ae.RetryAfter
	}
	return min(100*time.Millisecond<<attempt, 5*time.Second)
}

// gqlClient posts GraphQL requests.
type gqlClient struct {
	http *http.Client
}

// do posts query to base's /graphql and decodes data into out.
func (c *gqlClient) do(ctx context.Context, base, token, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		code := "TRANSPORT"
		if ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || isTimeout(err)) {
			code = "TIMEOUT"
		}
		return &apiError{Code: code, Message: err.Error()}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return &apiError{Code: "TRANSPORT", Message: err.Error(), Status: res.StatusCode}
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return &apiError{Code: fmt.Sprintf("HTTP_%d", res.StatusCode), Status: res.StatusCode,
			Message: strings.TrimSpace(string(raw[:min(len(raw), 200)]))}
	}
	if len(r.Errors) > 0 {
		e := r.Errors[0]
		ae := &apiError{Code: e.code(), Message: e.Message, Status: res.StatusCode}
		if s, ok := e.Extensions["retryAfterSeconds"].(float64); ok && s > 0 {
			ae.RetryAfter = time.Duration(s * float64(time.Second))
		}
		return ae
	}
	if res.StatusCode != http.StatusOK {
		return &apiError{Code: fmt.Sprintf("HTTP_%d", res.StatusCode), Status: res.StatusCode, Message: "no data"}
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			return &apiError{Code: "BAD_RESPONSE", Message: err.Error(), Status: res.StatusCode}
		}
	}
	return nil
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// counter counts events by name.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) add(name string, n int) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[name] += n
	c.mu.Unlock()
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.m {
		n += v
	}
	return n
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
