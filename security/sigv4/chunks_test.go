package sigv4

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// TestChunkSignatures checks the chunk signatures of AWS's worked example
// ("Signature Calculations for the Authorization Header: Transferring
// Payload in Multiple Chunks", S3 API reference): 64 KiB of 'a', then
// 1 KiB, then the empty chunk, after the seed signature.
func TestChunkSignatures(t *testing.T) {
	const (
		secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
		seed   = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	)
	chunks := []struct {
		data []byte
		sig  string
	}{
		{bytes.Repeat([]byte{'a'}, 65536), "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"},
		{bytes.Repeat([]byte{'a'}, 1024), "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"},
		{nil, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"},
	}
	v, err := NewChunkVerifier(secret, "20130524/us-east-1/s3/aws4_request", "20130524T000000Z", seed)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := NewChunkVerifier(secret, "20130524/us-east-1/s3/aws4_request", "20130524T000000Z", seed)
	for i, c := range chunks {
		sum := sha256.Sum256(c.data)
		if got := signer.Sign(sum); got != c.sig {
			t.Errorf("chunk %d: signed %s, want %s", i, got, c.sig)
		}
		if v.Chunk(sum, c.sig[:63]+"0") {
			t.Errorf("chunk %d: a wrong signature verified", i)
		}
		if !v.Chunk(sum, c.sig) {
			t.Fatalf("chunk %d: AWS's signature does not verify", i)
		}
	}
	// A replayed chunk does not verify: the chain has moved on.
	if v.Chunk(sha256.Sum256(chunks[0].data), chunks[0].sig) {
		t.Error("a replayed chunk verified")
	}
	tr := "x-amz-checksum-crc32:sOO8/Q==\n"
	if sig := signer.SignTrailer(tr); !v.Trailer(tr, sig) || v.Trailer(tr, sig) {
		t.Error("trailer signatures: the signed one must verify once")
	}
}
