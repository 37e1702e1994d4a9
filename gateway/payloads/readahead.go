package payloads

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/mapping/recordbatch"
)

// Readahead reads payloads a consumer is about to ask for: a front end
// that has just answered a read of a partition starts the payloads of the
// partition's next batch (Ahead), and the next read takes them (Take)
// instead of reading them itself. Reading a payload from its object is
// most of the time a read of large records takes, and this way it overlaps
// with writing the previous answer and with the consumer's own work.
//
// Only the bridge's own payloads are read ahead (keys under OwnedPrefix,
// which are never written twice), so a payload taken is the object's
// content whenever it was read. What is not taken within readaheadTTL, or
// does not fit in maxBytes, is dropped: a readahead costs at most one read
// that was not needed.
type Readahead struct {
	o        *Offloader
	alloc    func(n int) []byte // memory to read into
	free     func([]byte)       // for what is dropped
	maxBytes int64

	mu      sync.Mutex
	bytes   int64 // reserved by entries
	entries map[offload.Pointer]*ahead
}

// ahead is one payload being read or read.
type ahead struct {
	size  int64
	at    time.Time
	ready chan struct{} // closed once buf or err is set
	buf   []byte
	err   error
}

// readaheadTTL is how long a payload read ahead waits to be taken.
const readaheadTTL = 5 * time.Second

// NewReadahead returns a Readahead reading into memory from alloc, giving
// what is dropped to free, and holding at most maxBytes at once.
func (o *Offloader) NewReadahead(alloc func(n int) []byte, free func([]byte), maxBytes int64) *Readahead {
	return &Readahead{o: o, alloc: alloc, free: free, maxBytes: maxBytes, entries: map[offload.Pointer]*ahead{}}
}

// Ahead starts reading the payloads of raw, a stored batch of a stream's
// partition, from offset from on, each unless it is read or being read
// already or would not fit. It does not wait for them.
func (ra *Readahead) Ahead(stream string, partition int32, raw []byte, from int64) {
	info, err := recordbatch.Parse(raw)
	if err != nil || !info.Offloaded() || info.ClientPointers() {
		return
	}
	_, recs, err := recordbatch.Decode(raw)
	if err != nil {
		return
	}
	owned := OwnedPrefix(stream, partition)
	for i := range recs {
		if recs[i].Offset < from {
			continue
		}
		if p, size, ok := PointerOf(&recs[i]); ok && strings.HasPrefix(p.Key, owned) {
			ra.start(p, size)
		}
	}
}

func (ra *Readahead) start(p offload.Pointer, size int64) {
	ra.mu.Lock()
	ra.sweepLocked(time.Now())
	if _, ok := ra.entries[p]; ok || size <= 0 || ra.bytes+size > ra.maxBytes {
		ra.mu.Unlock()
		return
	}
	a := &ahead{size: size, at: time.Now(), ready: make(chan struct{})}
	ra.entries[p] = a
	ra.bytes += size
	ra.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), readaheadTTL)
		defer cancel()
		a.buf, a.err = ra.o.load(ctx, p, size, ra.alloc)
		close(a.ready)
	}()
}

// Take returns the payload p names if it was read ahead, waiting for it if
// it is being read, or nil. The caller owns what it returns (memory from
// alloc).
func (ra *Readahead) Take(p offload.Pointer, size int64) []byte {
	if ra == nil {
		return nil
	}
	ra.mu.Lock()
	a, ok := ra.entries[p]
	if ok {
		delete(ra.entries, p)
		ra.bytes -= a.size
	}
	ra.mu.Unlock()
	if !ok {
		return nil
	}
	<-a.ready
	if a.err != nil || int64(len(a.buf)) != size {
		ra.drop(a)
		return nil
	}
	return a.buf
}

// sweepLocked drops the entries nobody took in time.
func (ra *Readahead) sweepLocked(now time.Time) {
	for p, a := range ra.entries {
		if now.Sub(a.at) > readaheadTTL {
			delete(ra.entries, p)
			ra.bytes -= a.size
			go func() { <-a.ready; ra.drop(a) }()
		}
	}
}

func (ra *Readahead) drop(a *ahead) {
	if a.buf != nil && ra.free != nil {
		ra.free(a.buf)
	}
}
