package recordbatch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy/xerial"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// MaxDecompressedSize bounds the decompressed records of one batch, to
// defuse decompression bombs; a batch over it is ErrTooLarge. It must hold
// the largest record a topic takes: the bridge reads produce requests of
// up to 101 MiB, so 100 MiB records, which a producer may compress. Set it
// at program start, before any Decode: it is read without
// synchronisation.
var MaxDecompressedSize = 128 << 20

// appendWriter is an io.Writer appending to a slice, so that streaming
// compressors write straight into the caller's batch buffer.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// Encoders are pooled together with the appendWriter they write to, so that
// Reset does not make a fresh writer escape on every call.
type gzipEncoder struct {
	w   *gzip.Writer
	out appendWriter
}

type lz4Encoder struct {
	w   *lz4.Writer
	out appendWriter
}

var (
	gzipEncoders = sync.Pool{New: func() any {
		e := new(gzipEncoder)
		e.w, _ = gzip.NewWriterLevel(&e.out, gzip.DefaultCompression)
		return e
	}}
	lz4Encoders = sync.Pool{New: func() any {
		e := new(lz4Encoder)
		e.w = lz4.NewWriter(&e.out)
		// 64 KiB blocks as the Java producer writes them (the default, 4
		// MiB, would pin 4 MiB buffers in every pooled writer). Blocks are
		// independent and a content checksum is written, as kgo does;
		// Java, librdkafka and sarama read that.
		_ = e.w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.CompressionLevelOption(lz4.Fast))
		return e
	}}
)

// zstdEnc is one encoder shared by all goroutines: EncodeAll is safe for
// concurrent use, up to GOMAXPROCS calls at once without waiting. Settings
// follow kgo: a 64 KiB window bounds what a consumer needs to decode.
var zstdEnc = sync.OnceValue(func() *zstd.Encoder {
	e, err := zstd.NewWriter(nil,
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithWindowSize(64<<10),
		zstd.WithZeroFrames(true),
	)
	if err != nil {
		panic("recordbatch: zstd encoder: " + err.Error()) // constant options: cannot happen
	}
	return e
})

// appendCompressed appends src compressed with c to dst.
func appendCompressed(dst, src []byte, c Codec) ([]byte, error) {
	switch c {
	case Gzip:
		e := gzipEncoders.Get().(*gzipEncoder)
		e.out.b = dst
		e.w.Reset(&e.out)
		_, err := e.w.Write(src)
		if err == nil {
			err = e.w.Close()
		}
		dst, e.out.b = e.out.b, nil
		gzipEncoders.Put(e)
		return dst, err
	case Snappy:
		return appendXerial(dst, src), nil
	case LZ4:
		e := lz4Encoders.Get().(*lz4Encoder)
		e.out.b = dst
		e.w.Reset(&e.out)
		_, err := e.w.Write(src)
		if err == nil {
			err = e.w.Close()
		}
		dst, e.out.b = e.out.b, nil
		lz4Encoders.Put(e)
		return dst, err
	case Zstd:
		return zstdEnc().EncodeAll(src, dst), nil
	}
	return dst, ErrUnknownCodec
}

// Snappy in Kafka comes in two shapes: the Java producer (and brokers
// recompressing) write xerial-snappy-java's stream framing, a 16-byte
// header and then blocks of at most 32 KiB each behind a big-endian length;
// other clients (older sarama, some librdkafka versions) write one raw
// snappy block. Every consumer reads both. We write the xerial framing, as
// Java does, with klauspost's xerial package (which sarama uses too).
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const (
	xerialHeaderSize = 16
	xerialBlockSize  = 32 << 10
	// snappyMaxRatio bounds how far standard snappy can expand: the best
	// element is a 3-byte copy of 64 bytes (21.3x). A block claiming more
	// is not snappy, so it is refused before its output is allocated.
	snappyMaxRatio = 22
)

// appendXerial appends src as xerial-framed snappy.
func appendXerial(dst, src []byte) []byte {
	// xerial.Encode writes the framing header only into an empty dst, and
	// encodes in place when dst has the room: give it a zero-length window
	// at the end of dst that is large enough for the worst case.
	blocks := (len(src) + xerialBlockSize - 1) / xerialBlockSize
	worst := xerialHeaderSize + blocks*(4+s2.MaxEncodedLen(min(len(src), xerialBlockSize)))
	dst = slices.Grow(dst, worst)
	at := len(dst)
	out := xerial.Encode(dst[at:at], src)
	if len(out) > 0 && cap(out) == cap(dst)-at && &out[0] == &dst[:at+1][at] {
		return dst[:at+len(out)] // encoded in place
	}
	return append(dst, out...) // cannot happen given the room; stay correct anyway
}

// decompress returns src decompressed with c, at most limit bytes. The
// output goes into buf's capacity when buf is not nil (growing it as
// needed), and into a new slice of the right size when it is nil.
func decompress(buf, src []byte, c Codec, limit int) ([]byte, error) {
	var (
		out []byte
		err error
	)
	buf = buf[:0]
	switch c {
	case Gzip:
		out, err = gunzip(buf, src, limit)
	case Snappy:
		out, err = unsnappy(buf, src, limit)
	case LZ4:
		out, err = unlz4(buf, src, limit)
	case Zstd:
		out, err = unzstd(buf, src, limit)
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnknownCodec, c)
	}
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, c, err)
	}
	if len(out) > limit { // belt and braces: every path above bounds already
		return nil, errTooLarge(limit)
	}
	return out, nil
}

func errTooLarge(limit int) error {
	return fmt.Errorf("%w: records decompress to more than %d bytes (MaxDecompressedSize)", ErrTooLarge, limit)
}

// Decoders are pooled with the bytes.Reader they read from.
type gzipDecoder struct {
	r   gzip.Reader
	src bytes.Reader
}

type lz4Decoder struct {
	r   *lz4.Reader
	src bytes.Reader
	buf []byte
}

var (
	gzipDecoders = sync.Pool{New: func() any { return new(gzipDecoder) }}
	lz4Decoders  = sync.Pool{New: func() any { return &lz4Decoder{r: lz4.NewReader(nil)} }}
)

// deflateMaxRatio bounds how far deflate can expand (1032:1), used to cap
// the preallocation a gzip trailer's claimed size can cause.
const deflateMaxRatio = 1032

func gunzip(buf, src []byte, limit int) ([]byte, error) {
	d := gzipDecoders.Get().(*gzipDecoder)
	defer func() {
		d.src.Reset(nil)
		gzipDecoders.Put(d)
	}()
	d.src.Reset(src)
	if err := d.r.Reset(&d.src); err != nil {
		return nil, err
	}
	// The trailer holds the size mod 2^32: a good first guess, bounded.
	hint := 4 * len(src)
	if len(src) >= 18 {
		hint = int(binary.LittleEndian.Uint32(src[len(src)-4:]))
	}
	hint = min(hint, deflateMaxRatio*len(src), limit)
	// One spare byte, so that reading exactly hint bytes sees EOF without
	// growing.
	if cap(buf) < hint+1 {
		buf = make([]byte, 0, hint+1)
	}
	return readCapped(&d.r, buf, limit)
}

func unlz4(buf, src []byte, limit int) ([]byte, error) {
	d := lz4Decoders.Get().(*lz4Decoder)
	defer func() {
		d.r.Reset(nil)
		d.src.Reset(nil)
		lz4Decoders.Put(d)
	}()
	d.src.Reset(src)
	d.r.Reset(&d.src)
	if buf != nil {
		return readCapped(d.r, buf, limit)
	}
	// Kafka's LZ4 frames do not declare their content size, so decode into
	// a pooled buffer that grows to fit and hand out an exact copy.
	buf, err := readCapped(d.r, d.buf[:0], limit)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(buf)
	if cap(buf) <= maxPooledScratch {
		d.buf = buf[:0]
	}
	return out, nil
}

// readCapped reads r to EOF, appending to buf, and fails once more than
// limit bytes came.
func readCapped(r io.Reader, buf []byte, limit int) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			if len(buf) > limit {
				return nil, errTooLarge(limit)
			}
			grow := min(max(cap(buf), 4<<10), limit+1-len(buf))
			buf = slices.Grow(buf, grow)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return nil, errTooLarge(limit)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

var errXerial = xerial.ErrMalformed

// snappyLen returns the decoded length a raw snappy block claims, refusing
// claims over limit or beyond what snappy can expand to.
func snappyLen(block []byte, limit int) (int, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return 0, err
	}
	if n > limit {
		return 0, errTooLarge(limit)
	}
	if n > snappyMaxRatio*len(block) {
		return 0, fmt.Errorf("snappy block of %d bytes claims %d", len(block), n)
	}
	return n, nil
}

// unsnappy decodes raw or xerial-framed snappy. The xerial package alone
// would trust every block's claimed length (and s2's extensions can expand
// far beyond snappy), so the block lengths are walked first, as kgo does:
// the total is bounded, allocated once, and xerial.DecodeCapped then decodes
// every block straight into it.
func unsnappy(buf, src []byte, limit int) ([]byte, error) {
	total := 0
	if bytes.HasPrefix(src, xerialMagic) {
		if len(src) < xerialHeaderSize {
			return nil, errXerial
		}
		for rem := src[xerialHeaderSize:]; len(rem) > 0; {
			if len(rem) < 4 {
				return nil, errXerial
			}
			size := binary.BigEndian.Uint32(rem)
			rem = rem[4:]
			if uint64(size) > uint64(len(rem)) {
				return nil, errXerial
			}
			n, err := snappyLen(rem[:size], limit)
			if err != nil {
				return nil, err
			}
			if total += n; total > limit {
				return nil, errTooLarge(limit)
			}
			rem = rem[size:]
		}
	} else {
		n, err := snappyLen(src, limit)
		if err != nil {
			return nil, err
		}
		total = n
	}
	if buf == nil || cap(buf) < total {
		buf = make([]byte, 0, total)
	}
	out, err := xerial.DecodeCapped(buf, src)
	if err != nil {
		return nil, err
	}
	if len(out) != total {
		return nil, errXerial
	}
	return out, nil
}

// zstdDecoder is a shared decoder (DecodeAll is safe for concurrent use, up
// to GOMAXPROCS calls at once) whose memory bound is fixed when it is made:
// if MaxDecompressedSize changes, a new one replaces it.
type zstdDecoder struct {
	d   *zstd.Decoder
	max int
}

var zstdDec atomic.Pointer[zstdDecoder]

func zstdDecoderFor(limit int) (*zstd.Decoder, error) {
	if z := zstdDec.Load(); z != nil && z.max == limit {
		return z.d, nil
	}
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithDecoderMaxMemory(uint64(limit)),
	)
	if err != nil {
		return nil, err
	}
	zstdDec.Store(&zstdDecoder{d: d, max: limit})
	return d, nil
}

func unzstd(buf, src []byte, limit int) ([]byte, error) {
	if limit < 1 {
		return nil, errTooLarge(limit)
	}
	d, err := zstdDecoderFor(limit)
	if err != nil {
		return nil, err
	}
	out, err := d.DecodeAll(src, buf)
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		return nil, fmt.Errorf("%w: %w", errTooLarge(limit), err)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
