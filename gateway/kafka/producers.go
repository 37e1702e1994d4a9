package kafka

// Idempotent producer state, the way a Kafka broker keeps it: per partition
// and producer id, the producer's epoch and the metadata of its last five
// batches. A batch is checked and appended under its partition's lock, so
// checks and offsets follow one order even across connections; the state is
// written by the store in the same atomic, durable commit as the batch
// (store.AppendOptions.State), so after a crash or restart the state and the
// data agree and a retried batch is still recognised.

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// producerNamespace is the store state namespace of producer state. Keys
// are "<topic id hex>/<partition>/<producer id>": by topic id, not name, so
// a topic deleted and created again starts with no producers.
const producerNamespace = "kafka.producer"

// dedupWindow is how many of a producer's latest batches per partition are
// remembered: Kafka's max.in.flight.requests.per.connection limit for
// idempotence, so every batch a producer may retry is among them.
const dedupWindow = 5

// batchMeta identifies an appended batch of an idempotent producer.
//
// The store assigns offsets inside the append, and reports them only once
// the append is durable (Pending.Wait). Until then a batch's offsets are
// "unresolved": pending carries them when they arrive, and a retry of the
// batch waits for that. The state stored with a batch (AppendOptions.State)
// is written in that same append, so it cannot hold the batch's own offsets
// either: an unresolved batch is stored with base = a lower bound of its
// offset (the high watermark when it was checked) and last = -1, and
// loading the entry after a restart resolves it by scanning the partition
// from that bound for the producer's batch (resolveBatch).
type batchMeta struct {
	firstSeq, lastSeq int32
	base, last        int64
	pending           *batchOffsets // set while in memory and not yet resolved
}

// batchOffsets are the offsets of an append in flight, known once done is
// closed; err is set when the append failed.
type batchOffsets struct {
	done       chan struct{}
	base, last int64
	err        error
}

// settle fills in b's offsets from its append once that has finished.
func (b batchMeta) settle() batchMeta {
	if b.pending != nil {
		select {
		case <-b.pending.done:
			if b.pending.err == nil {
				b.base, b.last = b.pending.base, b.pending.last
			}
			b.pending = nil
		default:
		}
	}
	return b
}

// producerEntry is one producer's state on one partition.
type producerEntry struct {
	epoch   int16
	batches []batchMeta // oldest first, at most dedupWindow
	// lastMs is when the producer's latest batch here was appended (Unix
	// ms), for producer.id.expiration.ms (producer_expiry.go); 0 in state
	// stored before it was kept.
	lastMs int64
}

// partProducers is the producer state of one partition.
type partProducers struct {
	// mu is held from the sequence check to the start of the append, so
	// the order of checks is the order of offsets.
	mu        sync.Mutex
	prefix    string // state key prefix: "<topic id>/<partition>/"
	partition int32
	entries   map[int64]*producerEntry
}

type partKey struct {
	topic     [16]byte
	partition int32
}

// producerStates holds the state of every partition an idempotent producer
// wrote to since the server started; a partition's producers are loaded
// from the store one by one on first use.
type producerStates struct {
	s     *Server
	mu    sync.Mutex
	parts map[partKey]*partProducers
}

func newProducerStates(s *Server) *producerStates {
	return &producerStates{s: s, parts: make(map[partKey]*partProducers)}
}

func (ps *producerStates) partition(topic [16]byte, partition int32) *partProducers {
	k := partKey{topic, partition}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	pp := ps.parts[k]
	if pp == nil {
		pp = &partProducers{
			prefix:    hex.EncodeToString(topic[:]) + "/" + strconv.Itoa(int(partition)) + "/",
			entries:   make(map[int64]*producerEntry),
			partition: partition,
		}
		ps.parts[k] = pp
	}
	return pp
}

// forget drops the state of a deleted topic's partitions: in memory, and in
// the store, where it is keyed by topic id and would never be read again.
func (ps *producerStates) forget(ctx context.Context, st store.Store, topic [16]byte) error {
	ps.mu.Lock()
	for k := range ps.parts {
		if k.topic == topic {
			delete(ps.parts, k)
		}
	}
	ps.mu.Unlock()
	return st.DeletePrefix(ctx, producerNamespace, hex.EncodeToString(topic[:])+"/")
}

// entry returns a producer's state, loading it from the store on first
// use; nil when the producer never wrote here. Call with pp.mu held.
func (pp *partProducers) entry(ctx context.Context, st *store.Stream, s *Server, pid int64) (*producerEntry, error) {
	if e, ok := pp.entries[pid]; ok {
		return e, nil
	}
	v, err := s.store.Get(ctx, producerNamespace, pp.key(pid))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e, ok := decodeProducerEntry(v)
	if !ok {
		s.log.Warn("kafka: corrupt producer state ignored", "topic", st.Name, "key", pp.key(pid))
		return nil, nil
	}
	for i := range e.batches {
		if e.batches[i].last < 0 {
			e.batches[i] = s.resolveBatch(st.Name, pp.partition, pid, e.epoch, e.batches[i])
		}
	}
	pp.entries[pid] = e
	return e, nil
}

// resolveBatch finds the offsets of a producer's batch stored before a
// restart, scanning from the lower bound in b.base. The gap to scan is what
// other producers appended while the batch was in flight: small. A batch
// not found (trimmed by retention, removed by the cleaner) keeps offsets
// -1, which still dedups a retry; its answer then carries offset -1, as
// Kafka's does when it no longer knows the offset. A later batch of the
// producer ends the scan: the batch would have been before it, so the
// cleaner removed it (the sequence check needs only the state, never the
// batch).
func (s *Server) resolveBatch(topic string, partition int32, pid int64, epoch int16, b batchMeta) batchMeta {
	off := b.base
	for range 1024 {
		res, err := s.store.Read(context.Background(), topic, partition, off, store.ReadLimits{MaxBytes: 4 << 20})
		if err != nil || len(res.Batches) == 0 {
			break
		}
		for _, rb := range res.Batches {
			info, err := recordbatch.Parse(rb.Raw)
			if err == nil && info.ProducerID == pid && info.ProducerEpoch == epoch && !info.Control() {
				if info.BaseSequence == b.firstSeq {
					b.base, b.last = rb.BaseOffset, rb.LastOffset
					return b
				}
				if seqAfter(info.BaseSequence, b.firstSeq) {
					b.base, b.last = -1, -1
					return b
				}
			}
			off = rb.LastOffset + 1
		}
	}
	b.base, b.last = -1, -1
	return b
}

func (pp *partProducers) key(pid int64) string {
	return pp.prefix + strconv.FormatInt(pid, 10)
}

// seqCheck is the outcome of checking a batch against its producer's state.
type seqCheck struct {
	code int16     // non-zero: refuse the batch with this error
	dup  bool      // a retry of an appended batch: answer with orig
	orig batchMeta // the original when dup
}

// check applies Kafka's rules (ProducerStateManager) to a batch of pid at
// epoch whose sequences run firstSeq..lastSeq. e is nil for a producer new
// to the partition; any first sequence is then accepted, as Kafka does since
// KIP-360 so that producers whose state expired can go on.
func (e *producerEntry) check(epoch int16, firstSeq, lastSeq int32) seqCheck {
	switch {
	case e == nil:
		return seqCheck{}
	case epoch < e.epoch:
		return seqCheck{code: kerr.InvalidProducerEpoch.Code}
	case epoch > e.epoch:
		if firstSeq != 0 {
			return seqCheck{code: kerr.OutOfOrderSequenceNumber.Code}
		}
		return seqCheck{}
	}
	for _, b := range e.batches {
		if b.firstSeq == firstSeq && b.lastSeq == lastSeq {
			return seqCheck{dup: true, orig: b}
		}
	}
	if len(e.batches) > 0 && firstSeq != nextSeq(e.batches[len(e.batches)-1].lastSeq, 1) {
		return seqCheck{code: kerr.OutOfOrderSequenceNumber.Code}
	}
	return seqCheck{}
}

// next returns the producer's state after appending b at epoch; e is left
// untouched (the append may still fail before it is committed).
func (e *producerEntry) next(epoch int16, b batchMeta) *producerEntry {
	n := &producerEntry{epoch: epoch, batches: make([]batchMeta, 0, dedupWindow), lastMs: time.Now().UnixMilli()}
	if e != nil && e.epoch == epoch {
		keep := e.batches
		if len(keep) >= dedupWindow {
			keep = keep[len(keep)-dedupWindow+1:]
		}
		for _, k := range keep {
			n.batches = append(n.batches, k.settle())
		}
	}
	n.batches = append(n.batches, b)
	return n
}

// seqAfter reports whether sequence a comes after b (by less than half the
// sequence space, which wraps past MaxInt32 to 0): a batch still in flight
// before b is at most a few batches behind it.
func seqAfter(a, b int32) bool {
	d := (int64(a) - int64(b) + math.MaxInt32 + 1) % (math.MaxInt32 + 1)
	return d > 0 && d < 1<<30
}

// nextSeq is seq advanced by n, wrapping past MaxInt32 to 0 as producers do.
func nextSeq(seq int32, n int32) int32 {
	if seq > math.MaxInt32-n {
		return n - (math.MaxInt32 - seq) - 1
	}
	return seq + n
}

// Stored form: epoch (2 bytes), count (1), then per batch firstSeq (4),
// lastSeq (4), base (8), last (8), then lastMs (8; absent in state stored
// before it was kept), big endian.
func (e *producerEntry) encode() []byte {
	b := make([]byte, 0, 3+24*len(e.batches)+8)
	b = binary.BigEndian.AppendUint16(b, uint16(e.epoch))
	b = append(b, byte(len(e.batches)))
	for _, m := range e.batches {
		if m = m.settle(); m.pending != nil {
			m.last = -1 // unresolved: base is its lower bound
		}
		b = binary.BigEndian.AppendUint32(b, uint32(m.firstSeq))
		b = binary.BigEndian.AppendUint32(b, uint32(m.lastSeq))
		b = binary.BigEndian.AppendUint64(b, uint64(m.base))
		b = binary.BigEndian.AppendUint64(b, uint64(m.last))
	}
	return binary.BigEndian.AppendUint64(b, uint64(e.lastMs))
}

func decodeProducerEntry(b []byte) (*producerEntry, bool) {
	if len(b) < 3 {
		return nil, false
	}
	n := int(b[2])
	if n > dedupWindow || len(b) != 3+24*n && len(b) != 3+24*n+8 {
		return nil, false
	}
	e := &producerEntry{epoch: int16(binary.BigEndian.Uint16(b)), batches: make([]batchMeta, n)}
	b = b[3:]
	for i := range e.batches {
		e.batches[i] = batchMeta{
			firstSeq: int32(binary.BigEndian.Uint32(b)),
			lastSeq:  int32(binary.BigEndian.Uint32(b[4:])),
			base:     int64(binary.BigEndian.Uint64(b[8:])),
			last:     int64(binary.BigEndian.Uint64(b[16:])),
		}
		b = b[24:]
	}
	if len(b) == 8 {
		e.lastMs = int64(binary.BigEndian.Uint64(b))
	}
	return e, true
}
