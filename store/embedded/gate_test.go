package embedded

import (
	"errors"
	"testing"
	"time"

	"github.com/streambridge/bridge/store"
)

// A request that started one append may start another while Close waits
// for the first: the second is refused at once (it must not wait for Close,
// which waits for the first append's Wait), and Close returns once the first
// is waited on. With a sync.RWMutex as the store's gate this deadlocks.
func TestStartAppendDuringCloseDoesNotDeadlock(t *testing.T) {
	s := openStore(t, t.TempDir())
	mustCreate(t, s, "two", 2)
	first, err := s.StartAppendBatch(ctx, "two", 0, kafkaBatch(t, 1, "a", 0), store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	waitFor(t, func() bool {
		s.live.mu.Lock()
		defer s.live.mu.Unlock()
		return s.live.closing
	})

	second := make(chan error, 1)
	go func() {
		pd, err := s.StartAppendBatch(ctx, "two", 1, kafkaBatch(t, 1, "b", 0), store.AppendOptions{})
		if err == nil {
			_, err = pd.Wait()
		}
		second <- err
	}()
	select {
	case err := <-second:
		if !errors.Is(err, store.ErrClosed) {
			t.Fatalf("second append while closing: %v, want store.ErrClosed", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("second append blocked behind Close")
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) before the started append was waited on", err)
	default:
	}
	if res, err := first.Wait(); err != nil || res.BaseOffset != 0 {
		t.Fatalf("first append: %+v, %v", res, err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

func TestGateCloseTwice(t *testing.T) {
	var g gate
	if !g.enter() {
		t.Fatal("a new gate refused")
	}
	g.leave()
	if !g.close() || g.close() {
		t.Fatal("close: want true the first time, false after")
	}
	if g.enter() {
		t.Fatal("a closed gate admitted an operation")
	}
}

// waitFor polls cond until it holds; the test's deadline bounds it.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}
