package graph

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"concierge/fault"
)

func TestBusyDatabaseIsRetryable(t *testing.T) {
	err := fmt.Errorf("chat: sending a message: %w", errors.New("database is locked (5) (SQLITE_BUSY)"))
	e := ErrorPresenter(context.Background(), err)
	if e.Extensions["code"] != fault.CodeUnavailable || e.Extensions["retryAfterSeconds"] != 1 {
		t.Fatalf("a busy database is %v, want %s with retryAfterSeconds 1", e.Extensions, fault.CodeUnavailable)
	}
	if e.Message == err.Error() {
		t.Fatal("the driver's message is not shown to callers")
	}
	for _, e := range []error{
		fmt.Errorf("ent: starting a transaction: %w", errors.New("pq: the database system is shutting down (57P03)")),
		fmt.Errorf("chat: %w", errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")),
		errors.New("pq: sorry, too many clients already (53300)"),
	} {
		if got := ErrorPresenter(context.Background(), e).Extensions["code"]; got != fault.CodeUnavailable {
			t.Errorf("%v is %v, want %s", e, got, fault.CodeUnavailable)
		}
	}
	other := ErrorPresenter(context.Background(), errors.New("boom"))
	if other.Extensions["code"] != fault.CodeInternal {
		t.Fatalf("other errors stay internal: %v", other.Extensions)
	}
}
