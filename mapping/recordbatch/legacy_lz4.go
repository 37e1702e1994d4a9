package recordbatch

// LZ4 in magic 0 messages: Kafka before 0.10 computed the LZ4 frame's
// header checksum (HC, the descriptor's xxHash32 >> 8) over the frame magic
// as well as the descriptor (KAFKA-3160). Magic 1 and v2 batches use the
// correct checksum; brokers and clients still write the broken one for
// magic 0 (librdkafka, Java's KafkaLZ4BlockOutputStream) and readers
// accept it there. pierrec/lz4 checks the header checksum, so a frame with
// the broken one is given the correct one before decoding.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
)

var lz4FrameMagic = []byte{0x04, 0x22, 0x4d, 0x18}

// lz4HCAt returns the index of the frame header checksum of frame, or -1
// when frame does not start with an LZ4 frame descriptor.
func lz4HCAt(frame []byte) int {
	if len(frame) < 7 || !bytes.Equal(frame[:4], lz4FrameMagic) {
		return -1
	}
	at := 6
	if flg := frame[4]; flg&0x08 != 0 { // content size
		at += 8
	}
	if frame[4]&0x01 != 0 { // dictionary id
		at += 4
	}
	if at >= len(frame) {
		return -1
	}
	return at
}

// fixLZ4Header returns frame with its header checksum made correct when it
// is the broken one of KAFKA-3160 (then in a copy: frame may be shared),
// frame itself when it is correct or not a frame (the decoder then says
// why), and ErrCorrupt when it is neither.
func fixLZ4Header(frame []byte) ([]byte, error) {
	at := lz4HCAt(frame)
	if at < 0 {
		return frame, nil
	}
	good := byte(xxh32(frame[4:at]) >> 8)
	switch frame[at] {
	case good:
		return frame, nil
	case byte(xxh32(frame[:at]) >> 8):
		out := bytes.Clone(frame)
		out[at] = good
		return out, nil
	}
	return nil, fmt.Errorf("%w: lz4 frame header checksum %#02x is neither the correct %#02x nor Kafka's magic 0 one", ErrCorrupt, frame[at], good)
}

// breakLZ4Header gives frame the broken header checksum Kafka writes for
// magic 0.
func breakLZ4Header(frame []byte) {
	if at := lz4HCAt(frame); at >= 0 {
		frame[at] = byte(xxh32(frame[:at]) >> 8)
	}
}

const (
	xxhPrime1 uint32 = 2654435761
	xxhPrime2 uint32 = 2246822519
	xxhPrime3 uint32 = 3266489917
	xxhPrime4 uint32 = 668265263
	xxhPrime5 uint32 = 374761393
)

// xxh32 is xxHash32 with seed 0 (pierrec/lz4 keeps its own internal).
func xxh32(b []byte) uint32 {
	n := uint32(len(b))
	var h uint32
	if len(b) >= 16 {
		p1, p2 := xxhPrime1, xxhPrime2 // variables: the sums wrap
		v1 := p1 + p2
		v2 := p2
		v3 := uint32(0)
		v4 := -p1
		round := func(acc uint32, in []byte) uint32 {
			return bits.RotateLeft32(acc+binary.LittleEndian.Uint32(in)*xxhPrime2, 13) * xxhPrime1
		}
		for ; len(b) >= 16; b = b[16:] {
			v1, v2, v3, v4 = round(v1, b), round(v2, b[4:]), round(v3, b[8:]), round(v4, b[12:])
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) + bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	} else {
		h = xxhPrime5
	}
	h += n
	for ; len(b) >= 4; b = b[4:] {
		h += binary.LittleEndian.Uint32(b) * xxhPrime3
		h = bits.RotateLeft32(h, 17) * xxhPrime4
	}
	for _, c := range b {
		h += uint32(c) * xxhPrime5
		h = bits.RotateLeft32(h, 11) * xxhPrime1
	}
	h ^= h >> 15
	h *= xxhPrime2
	h ^= h >> 13
	h *= xxhPrime3
	h ^= h >> 16
	return h
}
