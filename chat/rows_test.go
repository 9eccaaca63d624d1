package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The subscribers of one event ask for its rows at the same moment: one
// loads them, the others get the same rows without a load of their own.
func TestRowCacheLoadsOnceForConcurrentSubscribers(t *testing.T) {
	c := newRowCache(time.Minute)
	var loads atomic.Int32
	release := make(chan struct{})
	want := &InboxUpdate{Kind: InboxMessageCreated}
	load := func() (*InboxUpdate, error) {
		loads.Add(1)
		<-release
		return want, nil
	}
	const subscribers = 20
	var wg sync.WaitGroup
	got := make([]*InboxUpdate, subscribers)
	for i := range subscribers {
		wg.Go(func() {
			u, err := load1(c, context.Background(), "staff/e1", load)
			if err != nil {
				t.Error(err)
			}
			got[i] = u
		})
	}
	time.Sleep(50 * time.Millisecond) // let them all ask while the first loads
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads for one event, want 1", n)
	}
	for i, u := range got {
		if u != want {
			t.Fatalf("subscriber %d got %v", i, u)
		}
	}
	// Later asks are served from the cache; another event loads anew.
	if u, _ := load1(c, context.Background(), "staff/e1", load); u != want || loads.Load() != 1 {
		t.Fatalf("cached rows not reused: %v, %d loads", u, loads.Load())
	}
	if _, err := load1(c, context.Background(), "staff/e2", load); err != nil || loads.Load() != 2 {
		t.Fatalf("another event: %v, %d loads", err, loads.Load())
	}
}

// A failed load is the loader's alone: each waiter then loads for itself,
// and the failure is not kept for later subscribers.
func TestRowCacheFailedLoadIsNotShared(t *testing.T) {
	c := newRowCache(time.Minute)
	release := make(chan struct{})
	failing := func() (*InboxUpdate, error) { <-release; return nil, context.Canceled }
	want := &InboxUpdate{Kind: InboxConversationUpdated}
	var own atomic.Int32
	ok := func() (*InboxUpdate, error) { own.Add(1); return want, nil }

	done := make(chan error, 1)
	go func() { _, err := load1(c, context.Background(), "k", failing); done <- err }()
	time.Sleep(20 * time.Millisecond)
	waiter := make(chan *InboxUpdate, 1)
	go func() { u, _ := load1(c, context.Background(), "k", ok); waiter <- u }()
	time.Sleep(20 * time.Millisecond)
	close(release)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("loader: %v", err)
	}
	if u := <-waiter; u != want || own.Load() != 1 {
		t.Fatalf("waiter got %v after %d loads of its own", u, own.Load())
	}
	if u, err := load1(c, context.Background(), "k", ok); err != nil || u != want || own.Load() != 2 {
		t.Fatalf("the failure was kept: %v %v, %d loads", u, err, own.Load())
	}
}

// A waiter whose subscription ends stops waiting.
func TestRowCacheWaiterCancelled(t *testing.T) {
	c := newRowCache(time.Minute)
	release := make(chan struct{})
	defer close(release)
	go load1(c, context.Background(), "k", func() (*InboxUpdate, error) { <-release; return &InboxUpdate{}, nil })
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := load1(c, ctx, "k", func() (*InboxUpdate, error) { t.Error("loaded while waiting"); return nil, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
}

// Rows expire after the ttl and are swept.
func TestRowCacheExpires(t *testing.T) {
	c := newRowCache(10 * time.Millisecond)
	var loads atomic.Int32
	load := func() (*InboxUpdate, error) { loads.Add(1); return &InboxUpdate{}, nil }
	load1(c, context.Background(), "a", load)
	time.Sleep(30 * time.Millisecond)
	load1(c, context.Background(), "a", load)
	if loads.Load() != 2 {
		t.Fatalf("%d loads, want 2 (expired rows reloaded)", loads.Load())
	}
	time.Sleep(30 * time.Millisecond)
	load1(c, context.Background(), "b", load) // sweeps "a"
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items["a"]; ok || len(c.items) != 1 {
		t.Fatalf("expired rows not swept: %d items", len(c.items))
	}
}

// load1 loads the rows of one key with fn.
func load1(c *rowCache, ctx context.Context, key string, fn func() (*InboxUpdate, error)) (*InboxUpdate, error) {
	us, err := c.loadAll(ctx, []string{key}, func(idx []int) ([]*InboxUpdate, error) {
		if len(idx) != 1 || idx[0] != 0 {
			return nil, fmt.Errorf("load of %v for one key", idx)
		}
		u, err := fn()
		return []*InboxUpdate{u}, err
	})
	if err != nil {
		return nil, err
	}
	return us[0], nil
}

// A batch loads, in one call, only the rows nobody has: those kept are
// taken, those another subscriber is loading are waited for, and rows gone
// (nil) are kept too.
func TestRowCacheLoadsBatchOnce(t *testing.T) {
	c := newRowCache(time.Minute)
	kept := &InboxUpdate{Kind: "kept"}
	c.put("kept", kept)
	release := make(chan struct{})
	other := &InboxUpdate{Kind: "other"}
	go load1(c, context.Background(), "other", func() (*InboxUpdate, error) { <-release; return other, nil })
	time.Sleep(20 * time.Millisecond) // "other" is being loaded
	fresh := &InboxUpdate{Kind: "fresh"}
	var calls [][]int
	load := func(idx []int) ([]*InboxUpdate, error) {
		calls = append(calls, idx)
		us := make([]*InboxUpdate, len(idx))
		for j, i := range idx {
			if i == 1 {
				us[j] = fresh
			} // i == 3: gone
		}
		return us, nil
	}
	go func() { time.Sleep(20 * time.Millisecond); close(release) }()
	keys := []string{"kept", "fresh", "other", "gone"}
	us, err := c.loadAll(context.Background(), keys, load)
	if err != nil {
		t.Fatal(err)
	}
	if want := []*InboxUpdate{kept, fresh, other, nil}; !slices.Equal(us, want) {
		t.Errorf("rows %v, want %v", us, want)
	}
	if len(calls) != 1 || !slices.Equal(calls[0], []int{1, 3}) {
		t.Errorf("loads %v, want one of [1 3]", calls)
	}
	if _, err := c.loadAll(context.Background(), keys, load); err != nil || len(calls) != 1 {
		t.Errorf("loaded again: %v, %v", calls, err)
	}
}
