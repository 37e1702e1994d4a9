package s3

// aws-chunked bodies: how S3 clients send a body whose signature or
// checksum they compute as they send it. The body is a series of chunks,
//
//	HEX-SIZE[;chunk-signature=SIG]\r\n DATA \r\n
//
// ending with a chunk of size 0, then, when the request declares
// x-amz-trailer, trailer headers (x-amz-checksum-crc32:VALUE\r\n, and
// x-amz-trailer-signature:SIG\r\n when signed) and an empty line. The
// decoder streams the data through: it holds one header line, never a
// chunk, and it fails, instead of returning io.EOF, when a chunk's
// signature or the trailer's checksum is wrong or the length is not the
// declared one, so the store, which commits only a body read to EOF,
// never commits such a body.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/security/sigv4"
)

const (
	// maxChunkLine bounds a chunk header or trailer line.
	maxChunkLine = 4096
	// maxTrailers bounds the trailer's headers.
	maxTrailers = 16
)

// chunkedReader decodes an aws-chunked body.
type chunkedReader struct {
	br *bufio.Reader
	// signed: chunk headers carry chunk-signature (checked when verify
	// is set, that is when the router authenticated the request).
	signed bool
	verify *sigv4.ChunkVerifier
	// trailers are the declared trailer checksums, by header name, with
	// the running hash of the data.
	trailers map[string]hash.Hash
	want     int64 // decoded length declared, -1 unknown
	n        int64 // decoded so far
	left     int64 // of the current chunk
	inChunk  bool
	sum      hash.Hash // the current chunk's SHA-256, when verifying
	sig      string    // the current chunk's signature
	err      error     // sticky: io.EOF at a good end
}

// newChunkedReader decodes body. trailerNames are x-amz-trailer's names;
// decodedLen is x-amz-decoded-content-length (-1 unknown).
func newChunkedReader(body io.Reader, signed bool, verify *sigv4.ChunkVerifier, trailerNames []string, decodedLen int64) (*chunkedReader, error) {
	c := &chunkedReader{br: bufio.NewReaderSize(body, maxChunkLine), signed: signed, verify: verify, want: decodedLen}
	if verify != nil {
		c.sum = sha256.New()
	}
	for _, name := range trailerNames {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		alg := algorithmOfHeader(name)
		if alg == "" {
			return nil, invalidArgument("The value specified in the x-amz-trailer header is not supported")
		}
		if c.trailers == nil {
			c.trailers = map[string]hash.Hash{}
		}
		c.trailers[name] = newChecksum(alg)
	}
	return c, nil
}

func malformedChunk(what string) *awsapi.Error {
	return s3Err(http.StatusBadRequest, codeIncompleteBody, "The aws-chunked body is malformed: "+what)
}

var errChunkSignature = s3Err(http.StatusForbidden, codeSignatureMismatch, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for c.left == 0 {
		if err := c.next(); err != nil {
			c.err = err
			return 0, err
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	c.n += int64(n)
	if c.want >= 0 && c.n > c.want {
		c.err = s3Err(http.StatusBadRequest, codeIncompleteBody, "The aws-chunked body is longer than x-amz-decoded-content-length.")
		return 0, c.err
	}
	if c.sum != nil {
		c.sum.Write(p[:n])
	}
	for _, h := range c.trailers {
		h.Write(p[:n])
	}
	if err == io.EOF || (err == nil && n == 0) {
		c.err = malformedChunk("the body ends inside a chunk")
		return n, c.err
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

// next ends the chunk just read and starts the next one; at the last
// (empty) chunk it reads the trailer and checks everything, returning
// io.EOF when all is well.
func (c *chunkedReader) next() error {
	if c.inChunk {
		if err := c.crlf(); err != nil {
			return err
		}
		if err := c.checkChunk(); err != nil {
			return err
		}
	}
	line, err := c.line()
	if err != nil {
		return err
	}
	sizeHex, ext, _ := strings.Cut(line, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
	if err != nil || size < 0 || len(sizeHex) > 16 {
		return malformedChunk("a chunk size is not hexadecimal")
	}
	c.sig = ""
	if sig, ok := strings.CutPrefix(strings.TrimSpace(ext), "chunk-signature="); ok {
		c.sig = sig
	}
	if c.signed && c.verify != nil && c.sig == "" {
		return malformedChunk("a chunk has no chunk-signature")
	}
	if size > 0 {
		c.left, c.inChunk = size, true
		return nil
	}
	c.inChunk = false
	if err := c.checkChunk(); err != nil { // the empty chunk is signed too
		return err
	}
	return c.finish()
}

// checkChunk checks the signature of the chunk just read.
func (c *chunkedReader) checkChunk() error {
	if c.verify == nil || !c.signed {
		return nil
	}
	var sum [sha256.Size]byte
	c.sum.Sum(sum[:0])
	c.sum.Reset()
	if !c.verify.Chunk(sum, c.sig) {
		return errChunkSignature
	}
	return nil
}

// finish reads the trailer and checks the declared length and
// checksums.
func (c *chunkedReader) finish() error {
	var canonical strings.Builder
	got := map[string]string{}
	trailerSig := ""
	for i := 0; ; i++ {
		line, err := c.line()
		if errors.Is(err, io.EOF) || err == nil && line == "" {
			break // some clients end without the last empty line
		}
		if err != nil {
			return err
		}
		if i == maxTrailers {
			return malformedChunk("too many trailer headers")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return malformedChunk("a trailer line is not NAME:VALUE")
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if name == "x-amz-trailer-signature" {
			trailerSig = value
			continue
		}
		got[name] = value
		canonical.WriteString(name + ":" + value + "\n")
	}
	if c.verify != nil && c.signed && len(got) > 0 && !c.verify.Trailer(canonical.String(), trailerSig) {
		return errChunkSignature
	}
	if c.want >= 0 && c.n != c.want {
		return s3Err(http.StatusBadRequest, codeIncompleteBody, "You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header.")
	}
	for name, h := range c.trailers {
		v, ok := got[name]
		if !ok {
			return malformedChunk("the declared trailer " + name + " is missing")
		}
		if v != checksumValue(h) {
			alg := algorithmOfHeader(name)
			return s3Err(http.StatusBadRequest, codeBadDigest, "The "+alg+" you specified did not match the calculated checksum.")
		}
	}
	return io.EOF
}

// line reads one CRLF-terminated line, without the CRLF. io.EOF only
// at the very end of the body.
func (c *chunkedReader) line() (string, error) {
	b, err := c.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", malformedChunk("a chunk header or trailer line is too long")
	case err == io.EOF && len(b) == 0:
		return "", io.EOF
	case err == io.EOF:
		return "", malformedChunk("the body ends inside a line")
	case err != nil:
		return "", err
	}
	b = bytes.TrimSuffix(b[:len(b)-1], []byte{'\r'})
	return string(b), nil
}

// crlf reads the CRLF after a chunk's data.
func (c *chunkedReader) crlf() error {
	var b [2]byte
	if _, err := io.ReadFull(c.br, b[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return malformedChunk("the body ends after a chunk's data")
		}
		return err
	}
	if b != [2]byte{'\r', '\n'} {
		return malformedChunk("a chunk's data is not followed by CRLF")
	}
	return nil
}
