package embedded

import (
	"crypto/md5"
	"encoding/binary"
)

// offsetMap is the cleaner's key → latest offset map with a fixed memory
// budget, Kafka's dedupe buffer: an open-addressing hash table of 16-byte
// key digests (MD5, as Kafka) and offsets, never resized. A pass that fills
// it to its load factor stops there and cleans up to where it got; the next
// pass goes on from that point. Two keys with the same digest would count
// as one (Kafka accepts the same risk).
type offsetMap struct {
	slots []mapSlot
	used  int
	limit int // used never exceeds it: probing needs free slots
}

// mapSlot is a digest and its offset plus one (0: free).
type mapSlot struct {
	digest [md5.Size]byte
	offset int64
}

// slotBytes is what one slot costs.
const slotBytes = md5.Size + 8

// mapLoadFactor is Kafka's log.cleaner.io.buffer.load.factor default.
const mapLoadFactor = 0.9

func newOffsetMap(budget int64) *offsetMap {
	n := max(int(budget/slotBytes), 16)
	return &offsetMap{slots: make([]mapSlot, n), limit: int(float64(n) * mapLoadFactor)}
}

func (m *offsetMap) reset() {
	clear(m.slots)
	m.used = 0
}

// room reports whether n more keys certainly fit.
func (m *offsetMap) room(n int) bool { return m.used+n <= m.limit }

func keyDigest(key []byte) [md5.Size]byte { return md5.Sum(key) }

func (m *offsetMap) slot(d *[md5.Size]byte) int {
	i := int(binary.BigEndian.Uint64(d[:8]) % uint64(len(m.slots)))
	for {
		s := &m.slots[i]
		if s.offset == 0 || s.digest == *d {
			return i
		}
		if i++; i == len(m.slots) {
			i = 0
		}
	}
}

// put records offset as key's latest. It returns false, changing nothing,
// when a new key would pass the load factor.
func (m *offsetMap) put(key []byte, offset int64) bool {
	d := keyDigest(key)
	s := &m.slots[m.slot(&d)]
	if s.offset == 0 {
		if m.used >= m.limit {
			return false
		}
		m.used++
		s.digest = d
	}
	s.offset = offset + 1
	return true
}

// latest returns the latest offset recorded for key.
func (m *offsetMap) latest(key []byte) (int64, bool) {
	d := keyDigest(key)
	s := &m.slots[m.slot(&d)]
	if s.offset == 0 {
		return 0, false
	}
	return s.offset - 1, true
}
