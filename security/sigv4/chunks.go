package sigv4

// The signatures of S3's aws-chunked uploads: a body sent as chunks, each
// signed with the signature of the one before (the first with the
// request's own signature, the seed), so a body too large to hash before
// sending is signed as it is sent. A final trailer (checksums) may be
// signed the same way.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// X-Amz-Content-Sha256 values of aws-chunked bodies.
const (
	// StreamingSigned: every chunk carries a signature.
	StreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	// StreamingSignedTrailer: signed chunks and a signed trailer.
	StreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	// StreamingUnsignedTrailer: unsigned chunks whose trailer carries a
	// checksum of the body (the SDKs' default over plain HTTP).
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

func isStreamingClaim(s string) bool {
	return s == StreamingSigned || s == StreamingSignedTrailer || s == StreamingUnsignedTrailer
}

// emptySHA256 is the hex SHA-256 of nothing, which every chunk's string
// to sign holds in the place of the (absent) chunk headers.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// ChunkVerifier checks the chunk signatures of one aws-chunked body, in
// order: each chunk's string to sign names the previous signature, so
// chunks cannot be dropped, reordered or replayed. It is not safe for
// concurrent use.
type ChunkVerifier struct {
	key   []byte
	scope string
	date  string
	prev  string // the previous signature, hex
}

// Chunk reports whether sig (hex) signs a chunk whose data has SHA-256
// dataHash, and advances to it when it does.
func (c *ChunkVerifier) Chunk(dataHash [sha256.Size]byte, sig string) bool {
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.date + "\n" + c.scope + "\n" + c.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(dataHash[:])
	return c.check(sts, sig)
}

// Trailer reports whether sig signs the trailer headers, given as they
// are signed: each "name:value\n", in the order sent.
func (c *ChunkVerifier) Trailer(canonicalTrailer string, sig string) bool {
	h := sha256.Sum256([]byte(canonicalTrailer))
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + c.date + "\n" + c.scope + "\n" + c.prev + "\n" + hex.EncodeToString(h[:])
	return c.check(sts, sig)
}

func (c *ChunkVerifier) check(sts, sig string) bool {
	want := hex.EncodeToString(hmacSHA256(c.key, sts))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(sig))) {
		return false
	}
	c.prev = want
	return true
}

// NewChunkVerifier returns the verifier a client's chunks would verify
// with, for tests and for clients' own checks: secret and credential
// scope (DATE/REGION/SERVICE/aws4_request), the request's X-Amz-Date and
// its seed signature.
func NewChunkVerifier(secret, scopeStr, amzDate, seed string) (*ChunkVerifier, error) {
	sc, err := parseScope("key/" + scopeStr)
	if err != nil {
		return nil, err
	}
	return &ChunkVerifier{key: signingKey(secret, sc), scope: sc.String(), date: amzDate, prev: seed}, nil
}

// Sign returns the signature the next chunk with dataHash gets, and
// advances to it: what a client does, for tests.
func (c *ChunkVerifier) Sign(dataHash [sha256.Size]byte) string {
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.date + "\n" + c.scope + "\n" + c.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(dataHash[:])
	c.prev = hex.EncodeToString(hmacSHA256(c.key, sts))
	return c.prev
}

// SignTrailer returns the signature of the trailer headers (as Trailer
// takes them) after the chunks signed so far: what a client does, for
// tests.
func (c *ChunkVerifier) SignTrailer(canonicalTrailer string) string {
	h := sha256.Sum256([]byte(canonicalTrailer))
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + c.date + "\n" + c.scope + "\n" + c.prev + "\n" + hex.EncodeToString(h[:])
	c.prev = hex.EncodeToString(hmacSHA256(c.key, sts))
	return c.prev
}
