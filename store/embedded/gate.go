package embedded

import "sync"

// gate lets operations in until Close, and lets Close wait for the ones in
// flight. A started append holds the gate until its Wait (store.Pending), so
// a produce request may hold it once per partition before waiting on any.
//
// A sync.RWMutex would deadlock there: once Close waits for the write lock,
// RLock blocks new readers, so the request's second start would wait for
// Close, which waits for the first start's Wait, which the request runs only
// after its second start. The gate never blocks enter: once closing, it
// refuses at once (store.ErrClosed) and the caller waits on what it started.
type gate struct {
	mu      sync.Mutex
	closing bool
	active  int
	drained chan struct{} // made by close when active > 0; closed at zero
}

// enter admits an operation; false once close has begun. Each true is paired
// with one leave.
func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.active++
	return true
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.active--
	if g.active == 0 && g.drained != nil {
		close(g.drained)
		g.drained = nil
	}
}

// close refuses new operations and waits for those in flight. It reports
// false when an earlier call closed the gate already (and then returns at
// once).
func (g *gate) close() bool {
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		return false
	}
	g.closing = true
	var wait chan struct{}
	if g.active > 0 {
		wait = make(chan struct{})
		g.drained = wait
	}
	g.mu.Unlock()
	if wait != nil {
		<-wait
	}
	return true
}

// closingNow reports whether close has begun (tests).
func (g *gate) closingNow() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closing
}
