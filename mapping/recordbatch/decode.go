package recordbatch

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Decode parses and decompresses the batch at the start of batch (bytes
// past Info.Size are ignored) and returns its header and its records with
// absolute offsets (BaseOffset + offset delta). Timestamps are
// FirstTimestamp + delta, or MaxTimestamp for every record when the batch
// has the LogAppendTime type.
//
// The CRC is not checked: call VerifyCRC. Control batches return their
// records too; the caller decides (Info.Control). Keys, values and header
// values alias batch, or the decompressed buffer (see the package doc).
//
// Errors are Parse's, ErrTruncated when the batch is not all there,
// ErrUnknownCodec, ErrTooLarge past MaxDecompressedSize, and ErrCorrupt for
// compressed data or records that do not decode, a record count that does
// not match the records, or bytes left after the last record. The Info is
// returned whenever the header parsed.
func Decode(batch []byte) (Info, []Record, error) {
	return DecodeAppend(nil, batch)
}

// DecodeAppend is Decode appending the records to dst, to reuse a slice
// across calls. On error it returns dst with its original length.
func DecodeAppend(dst []Record, batch []byte) (Info, []Record, error) {
	info, err := Parse(batch)
	if err != nil {
		return info, dst, err
	}
	size := info.Size()
	if len(batch) < size {
		return info, dst, ErrTruncated
	}
	data := batch[HeaderSize:size:size]
	if c := info.Codec(); c != None {
		if data, err = decompress(nil, data, c, MaxDecompressedSize); err != nil {
			return info, dst, err
		}
	}
	var st headerState
	out, err := decodeRecords(dst, data, &info, &st)
	if err != nil {
		return info, dst, err
	}
	return info, out, nil
}

func corrupt(record int, what string) error {
	return fmt.Errorf("%w: record %d: %s", ErrCorrupt, record, what)
}

// headerState carries header storage between records, and between batches
// for a Decoder.
type headerState struct {
	slab []Header // the records' headers are cut from it
	prev []Header // the last headers decoded, to share their key strings
}

// decodeRecords appends the info.NumRecords records encoded in data to dst.
func decodeRecords(dst []Record, data []byte, info *Info, st *headerState) ([]Record, error) {
	n := int(info.NumRecords)
	if n > len(data)/minRecordSize {
		return dst, fmt.Errorf("%w: %d records cannot fit in %d bytes", ErrCorrupt, n, len(data))
	}
	orig := len(dst)
	dst = slices.Grow(dst, n)[:orig+n]
	recs := dst[orig:]

	var (
		logAppend = info.LogAppendTime()
		appendTS  = fromMillis(info.MaxTimestamp)
		p         int // position in data; 0 <= p <= len(data) throughout
	)
	for i := range recs {
		length, q := readVarint(data, p)
		if q < 0 || length < minRecordSize-1 || length > int64(len(data)-q) {
			return dst[:orig], corrupt(i, "bad length")
		}
		body := data[q : q+int(length) : q+int(length)]
		p = q + int(length)

		// body[0] is the record attributes, unused.
		tsDelta, j := readVarint(body, 1)
		if j < 0 {
			return dst[:orig], corrupt(i, "bad timestamp delta")
		}
		offsetDelta, j := readVarint(body, j)
		if j < 0 || offsetDelta != int64(int32(offsetDelta)) {
			return dst[:orig], corrupt(i, "bad offset delta")
		}
		key, j := readBytes(body, j)
		if j < 0 {
			return dst[:orig], corrupt(i, "bad key")
		}
		value, j := readBytes(body, j)
		if j < 0 {
			return dst[:orig], corrupt(i, "bad value")
		}
		numHeaders, j := readVarint(body, j)
		if j < 0 || numHeaders < 0 || numHeaders > int64((len(body)-j)/minHeaderSize) {
			return dst[:orig], corrupt(i, "bad header count")
		}

		var headers []Header
		if nh := int(numHeaders); nh > 0 {
			if cap(st.slab)-len(st.slab) < nh {
				// Guess that the records left look like this one,
				// bounded by what the bytes left can hold. Records
				// decoded so far keep the old slab.
				guess := min(int64(nh)*int64(n-i), int64((len(data)-q)/minHeaderSize))
				st.slab = make([]Header, 0, max(int(guess), nh))
			}
			hdrs := st.slab
			start := len(hdrs)
			for h := range nh {
				var kb, hv []byte
				kb, j = readBytes(body, j)
				if j < 0 || kb == nil {
					return dst[:orig], corrupt(i, "bad header key")
				}
				hv, j = readBytes(body, j)
				if j < 0 {
					return dst[:orig], corrupt(i, "bad header value")
				}
				// Records of a batch mostly carry the same header keys:
				// reuse the previous record's string when it matches.
				var k string
				if h < len(st.prev) && st.prev[h].Key == string(kb) {
					k = st.prev[h].Key
				} else {
					k = string(kb)
				}
				hdrs = append(hdrs, Header{Key: k, Value: hv})
			}
			st.slab = hdrs
			headers = hdrs[start:len(hdrs):len(hdrs)]
			st.prev = headers
		}
		if j != len(body) {
			return dst[:orig], corrupt(i, "length does not match its fields")
		}

		r := &recs[i]
		r.Offset = info.BaseOffset + offsetDelta
		if logAppend {
			r.Timestamp = appendTS
		} else {
			r.Timestamp = fromMillis(info.FirstTimestamp + tsDelta)
		}
		r.Key = key
		r.Value = value
		r.Headers = headers
	}
	if p != len(data) {
		return dst[:orig], fmt.Errorf("%w: %d bytes after the last of %d records", ErrCorrupt, len(data)-p, n)
	}
	return dst, nil
}

// readVarint reads a zigzag varint (Kafka's varint and varlong) at b[p:],
// returning the value and the position after it, or a negative position
// when b holds no valid varint there. p must be within [0, len(b)].
func readVarint(b []byte, p int) (int64, int) {
	if p < len(b) && b[p] < 0x80 {
		u := int64(b[p])
		return u>>1 ^ -(u & 1), p + 1
	}
	v, n := binary.Varint(b[p:])
	if n <= 0 {
		return 0, -1
	}
	return v, p + n
}

// readBytes reads a varint length and that many bytes at b[p:]; length -1
// is nil. The slice's capacity ends with it.
func readBytes(b []byte, p int) ([]byte, int) {
	l, q := readVarint(b, p)
	if q < 0 || l < -1 || l > int64(len(b)-q) {
		return nil, -1
	}
	if l == -1 {
		return nil, q
	}
	end := q + int(l)
	return b[q:end:end], end
}

// Decoder decodes batches reusing its buffers: once they have grown to the
// batches' size, a Decode allocates nothing (header key strings are shared
// with the previous record's when equal).
// The price is aliasing: the records a call returns, and their keys, values
// and headers, are valid only until the next call on the same Decoder. Use
// it where each batch is consumed at once (serving a read), and Decode
// where records must outlive the next batch. The zero value is ready to
// use; a Decoder is not safe for concurrent use.
type Decoder struct {
	buf     []byte   // decompressed records
	records []Record // returned records
	headers headerState
	keys    []Header // the last batch's last header keys (no values)
}

// maxKeptBuffer keeps one huge batch from pinning its buffer in a Decoder.
const maxKeptBuffer = 8 << 20

// Decode is the package's Decode, reusing d's buffers.
func (d *Decoder) Decode(batch []byte) (Info, []Record, error) {
	info, err := Parse(batch)
	if err != nil {
		return info, nil, err
	}
	size := info.Size()
	if len(batch) < size {
		return info, nil, ErrTruncated
	}
	data := batch[HeaderSize:size:size]
	if c := info.Codec(); c != None {
		buf := d.buf
		if buf == nil {
			buf = []byte{} // not nil: decompress into a buffer we keep
		}
		data, err = decompress(buf, data, c, MaxDecompressedSize)
		if err != nil {
			return info, nil, err
		}
		if cap(data) <= maxKeptBuffer {
			d.buf = data[:0]
		} else {
			d.buf = nil
		}
	}
	clear(d.records) // drop references to the previous batch
	clear(d.headers.slab)
	// The previous batch's keys live apart from the slab that is about to
	// be overwritten.
	d.headers.slab, d.headers.prev = d.headers.slab[:0], d.keys
	recs, err := decodeRecords(d.records[:0], data, &info, &d.headers)
	if len(d.headers.prev) > 0 && (len(d.keys) == 0 || &d.headers.prev[0] != &d.keys[0]) {
		d.keys = d.keys[:0]
		for _, h := range d.headers.prev {
			d.keys = append(d.keys, Header{Key: h.Key})
		}
	}
	d.headers.prev = nil
	if cap(d.headers.slab) > maxKeptBuffer/32 {
		d.headers.slab = nil
	}
	if err != nil {
		return info, nil, err
	}
	d.records = recs
	return info, recs, nil
}
