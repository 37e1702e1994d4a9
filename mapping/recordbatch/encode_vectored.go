package recordbatch

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// EncodeVectored is Encode for an uncompressed batch that holds large
// values, without copying them: the batch is returned as consecutive
// pieces, each value of at least shareFrom bytes a piece of its own (the
// record's slice itself), the framing around them in new buffers. Written
// back to back, the pieces are exactly what Encode returns. A server
// writing the batch to a socket thus never holds a large value twice.
//
// opts.Codec must be None (ErrUnknownCodec otherwise). The other errors
// are Encode's.
func EncodeVectored(records []Record, opts EncodeOptions, shareFrom int) ([][]byte, error) {
	if opts.Codec != None {
		return nil, fmt.Errorf("%w: %s cannot be vectored", ErrUnknownCodec, opts.Codec)
	}
	pl, err := planRecords(records)
	if err != nil {
		return nil, err
	}
	shareFrom = max(shareFrom, 1)
	framing := HeaderSize + pl.size
	for i := range records {
		if n := len(records[i].Value); n >= shareFrom {
			framing -= n
		}
	}
	buf := make([]byte, HeaderSize, framing)
	var pieces [][]byte
	cut := func() { // the framing written since the last cut becomes a piece
		pieces = append(pieces, buf[:len(buf):len(buf)])
		buf = buf[len(buf):]
	}
	for i := range records {
		r := &records[i]
		delta := int64(i)
		if !pl.byIndex {
			delta = r.Offset - pl.base
		}
		buf = appendRecordHead(buf, r, millis(r.Timestamp)-pl.firstTS, delta)
		if len(r.Value) >= shareFrom {
			buf = binary.AppendVarint(buf, int64(len(r.Value)))
			cut()
			pieces = append(pieces, r.Value)
		} else {
			buf = appendVarintBytes(buf, r.Value)
		}
		buf = appendHeaders(buf, r.Headers)
	}
	if len(buf) > 0 {
		cut()
	}
	head := pieces[0]
	putHeader(head[:HeaderSize], uint32(HeaderSize+pl.size-lengthOverhead), opts, pl, len(records))
	crc := crc32.Checksum(head[offAttributes:], castagnoli)
	for _, p := range pieces[1:] {
		crc = crc32.Update(crc, castagnoli, p)
	}
	binary.BigEndian.PutUint32(head[offCRC:], crc)
	return pieces, nil
}
