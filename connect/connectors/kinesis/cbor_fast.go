package kinesis

// GetRecords answers in the shape AWS and the bridge send them are decoded
// in one pass here; anything else goes to the CBOR codec (cbor.go). The
// codec's reflection took about 400 ns a record, a sixth of the worker's
// CPU in a Kinesis -> Kafka copy. FuzzGetRecordsFastCBOR holds this decoder
// to the codec: whatever it accepts, the codec decodes to the same answer.

import (
	"encoding/binary"
	"math"
	"unicode/utf8"
)

// cborReader reads CBOR data items from b; the first malformed or
// unexpected one clears ok, and every read after it does nothing.
type cborReader struct {
	b   []byte
	off int
	ok  bool
}

// head reads a data item's head: its major type and argument. Indefinite
// lengths and reserved values clear ok.
func (r *cborReader) head() (major byte, arg uint64) {
	if !r.ok || r.off >= len(r.b) {
		r.ok = false
		return 0, 0
	}
	c := r.b[r.off]
	r.off++
	major, ai := c>>5, c&0x1f
	if ai < 24 {
		return major, uint64(ai)
	}
	size := 1 << (ai - 24) // 24..27: 1, 2, 4 or 8 bytes follow
	if ai > 27 || len(r.b)-r.off < size {
		r.ok = false
		return 0, 0
	}
	b := r.b[r.off:]
	r.off += size
	switch size {
	case 1:
		return major, uint64(b[0])
	case 2:
		return major, uint64(binary.BigEndian.Uint16(b))
	case 4:
		return major, uint64(binary.BigEndian.Uint32(b))
	}
	return major, binary.BigEndian.Uint64(b)
}

// content reads a definite byte string (major 2) or text string (3) and
// returns its bytes, a slice of b. A text string's UTF-8 is not checked:
// map keys are compared with known names, and text checks values.
func (r *cborReader) content(want byte) []byte {
	major, n := r.head()
	if !r.ok || major != want || n > uint64(len(r.b)-r.off) {
		r.ok = false
		return nil
	}
	end := r.off + int(n)
	s := r.b[r.off:end:end]
	r.off = end
	return s
}

// text reads a text string, which must be valid UTF-8 as the codec
// requires.
func (r *cborReader) text() string {
	s := r.content(3)
	if !utf8.Valid(s) {
		r.ok = false
	}
	return string(s)
}

// null reads a null if one is next.
func (r *cborReader) null() bool {
	if r.ok && r.off < len(r.b) && r.b[r.off] == cborNullByte {
		r.off++
		return true
	}
	return false
}

const cborNullByte = 0xf6

// fields reads a definite map with text keys, calling field with each key
// to read its value; field returns the key's bit, 0 for a key it does not
// know. It reports false for a malformed map, an unknown key or one seen
// twice.
func (r *cborReader) fields(field func(key []byte) uint8) bool {
	major, n := r.head()
	if !r.ok || major != 5 {
		return false
	}
	var seen uint8
	for range n {
		key := r.content(3)
		if !r.ok {
			return false
		}
		bit := field(key)
		if bit == 0 || !r.ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	return true
}

// decodeFast decodes body into a, reporting false (a then to be decoded
// again by the codec) unless body is a definite map of Records,
// NextShardIterator (text or null) and MillisBehindLatest (an unsigned
// integer), each at most once and nothing else (ChildShards included), whose
// records are definite maps of SequenceNumber, PartitionKey and
// EncryptionType (text), Data (one definite byte string, sliced from body
// as the codec's path does) and ApproximateArrivalTimestamp (tag 1 around
// an unsigned integer or a double), each at most once.
func (a *getRecordsAnswer) decodeFast(body []byte) bool {
	r := cborReader{b: body, ok: true}
	ok := r.fields(func(key []byte) uint8 {
		switch string(key) {
		case "Records":
			a.decodeRecords(&r)
			return 1
		case "NextShardIterator":
			if !r.null() {
				it := r.text()
				a.NextShardIterator = &it
			}
			return 2
		case "MillisBehindLatest":
			if !r.null() {
				major, n := r.head()
				if major != 0 || n > math.MaxInt64 {
					r.ok = false
				}
				ms := int64(n)
				a.MillisBehindLatest = &ms
			}
			return 4
		}
		return 0
	})
	return ok && r.off == len(body)
}

// maxFastRecords is the codec's MaxArrayElements: a longer array is the
// codec's to refuse.
const maxFastRecords = 100_000

func (a *getRecordsAnswer) decodeRecords(r *cborReader) {
	major, n := r.head()
	// Each record takes at least a byte: a count beyond what is left is
	// malformed, and must not size an allocation.
	if !r.ok || major != 4 || n > maxFastRecords || n > uint64(len(r.b)-r.off) {
		r.ok = false
		return
	}
	a.Records = make([]cborRecord, n)
	for i := range a.Records {
		if !decodeRecordFast(r, &a.Records[i]) {
			r.ok = false
			return
		}
	}
}

func decodeRecordFast(r *cborReader, rec *cborRecord) bool {
	return r.fields(func(key []byte) uint8 {
		switch string(key) {
		case "SequenceNumber":
			rec.SequenceNumber = r.text()
			return 1
		case "PartitionKey":
			rec.PartitionKey = r.text()
			return 2
		case "EncryptionType":
			rec.EncryptionType = r.text()
			return 4
		case "Data":
			rec.Data = r.content(2)
			return 8
		case "ApproximateArrivalTimestamp":
			if !decodeTimeFast(r, &rec.ApproximateArrivalTimestamp) {
				r.ok = false
			}
			return 16
		}
		return 0
	})
}

// decodeTimeFast reads tag 1 around an unsigned integer or a double, what
// AWS and the bridge send.
func decodeTimeFast(r *cborReader, t *cborTime) bool {
	if major, tag := r.head(); !r.ok || major != 6 || tag != 1 || r.off >= len(r.b) {
		return false
	}
	var n float64
	if c := r.b[r.off]; c == 0xfb {
		if len(r.b)-r.off < 9 {
			return false
		}
		n = math.Float64frombits(binary.BigEndian.Uint64(r.b[r.off+1:]))
		r.off += 9
	} else {
		major, v := r.head()
		if !r.ok || major != 0 {
			return false
		}
		n = float64(v)
	}
	var err error
	t.Time, err = epochTime(n)
	return err == nil
}
