package dbtest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"concierge/db"
	"concierge/ent"
)

// queryHooks are the functions OnQuery gave for one database.
type queryHooks struct {
	mu  sync.Mutex // serialises OnQuery
	fns atomic.Pointer[[]func(context.Context, ent.Query) error]
}

var hooks sync.Map // *db.DB → *queryHooks

// hook installs on d's client the one interceptor that runs the functions
// given to OnQuery. ent's Intercept is not safe while the client is in
// use, so it is called here, before the test has the client.
func hook(t testing.TB, d *db.DB) {
	h := &queryHooks{}
	hooks.Store(d, h)
	t.Cleanup(func() { hooks.Delete(d) })
	d.Client.Intercept(ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			if fns := h.fns.Load(); fns != nil {
				for _, fn := range *fns {
					if err := fn(ctx, q); err != nil {
						return nil, err
					}
				}
			}
			return next.Query(ctx, q)
		})
	}))
}

// OnQuery runs fn before every query of d's client from now on (after
// the functions given before); an error from fn fails the query with it.
// Unlike the client's Intercept, it may be called while the client is in
// use. d must come from Open.
func OnQuery(d *db.DB, fn func(ctx context.Context, q ent.Query) error) {
	v, ok := hooks.Load(d)
	if !ok {
		panic("dbtest.OnQuery: the database does not come from dbtest.Open")
	}
	h := v.(*queryHooks)
	h.mu.Lock()
	defer h.mu.Unlock()
	var fns []func(context.Context, ent.Query) error
	if old := h.fns.Load(); old != nil {
		fns = append(fns, *old...)
	}
	fns = append(fns, fn)
	h.fns.Store(&fns)
}
