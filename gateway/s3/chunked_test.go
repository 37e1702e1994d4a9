package s3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/streambridge/bridge/gateway/awsapi"
)

// encodeChunks is data as an unsigned aws-chunked body of chunks of size
// bytes, with a CRC32 trailer when trailer is set.
func encodeChunks(data []byte, size int, trailer bool) []byte {
	var b bytes.Buffer
	for off := 0; off < len(data); off += size {
		chunk := data[off:min(off+size, len(data))]
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(chunk), chunk)
	}
	b.WriteString("0\r\n")
	if trailer {
		h := newChecksum("CRC32")
		h.Write(data)
		fmt.Fprintf(&b, "x-amz-checksum-crc32:%s\r\n", checksumValue(h))
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func decodeChunks(body []byte, trailer bool, decodedLen int64) ([]byte, error) {
	var names []string
	if trailer {
		names = []string{"x-amz-checksum-crc32"}
	}
	c, err := newChunkedReader(bytes.NewReader(body), false, nil, names, decodedLen)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(c)
}

func TestChunkedDecode(t *testing.T) {
	data := []byte("the quick brown fox jumps over the lazy dog")
	good := encodeChunks(data, 10, true)
	for _, tc := range []struct {
		name       string
		body       []byte
		trailer    bool
		decodedLen int64
		code       string // "" for success
		want       string // the decoded body, when not data
	}{
		{"good", good, true, int64(len(data)), "", ""},
		{"unknown length", good, true, -1, "", ""},
		{"no trailer", encodeChunks(data, 7, false), false, int64(len(data)), "", ""},
		{"one chunk", encodeChunks(data, 1000, false), false, -1, "", ""},
		{"empty body", []byte("0\r\n\r\n"), false, 0, "", "-"},
		{"no final empty line", []byte("3\r\nabc\r\n0\r\n"), false, 3, "", "abc"},
		{"signature extension ignored unsigned", []byte("3;chunk-signature=00\r\nabc\r\n0;chunk-signature=00\r\n\r\n"), false, 3, "", "abc"},
		{"declared longer", good, true, int64(len(data)) + 1, codeIncompleteBody, ""},
		{"declared shorter", good, true, int64(len(data)) - 1, codeIncompleteBody, ""},
		{"wrong checksum", bytes.Replace(good, []byte("quick"), []byte("quack"), 1), true, -1, codeBadDigest, ""},
		{"missing trailer", encodeChunks(data, 10, false), true, -1, codeIncompleteBody, ""},
		{"truncated in a chunk", good[:20], true, -1, codeIncompleteBody, ""},
		{"truncated before the end", good[:len(good)-30], true, -1, codeIncompleteBody, ""},
		{"bad size", []byte("zz\r\nabc\r\n0\r\n\r\n"), false, -1, codeIncompleteBody, ""},
		{"negative size", []byte("-3\r\nabc\r\n0\r\n\r\n"), false, -1, codeIncompleteBody, ""},
		{"no CRLF after data", []byte("3\r\nabcX\r\n0\r\n\r\n"), false, -1, codeIncompleteBody, ""},
		{"huge line", append(bytes.Repeat([]byte("1"), 5000), "\r\n"...), false, -1, codeIncompleteBody, ""},
		{"bad trailer line", []byte("3\r\nabc\r\n0\r\nnocolon\r\n\r\n"), false, -1, codeIncompleteBody, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeChunks(tc.body, tc.trailer, tc.decodedLen)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				want := data
				switch tc.want {
				case "":
				case "-":
					want = nil
				default:
					want = []byte(tc.want)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("decoded %q", got)
				}
				return
			}
			var e *awsapi.Error
			if !errors.As(err, &e) || e.Type != tc.code {
				t.Fatalf("error %v, want %s", err, tc.code)
			}
		})
	}
}

// TestChunkedOneByteReads decodes through a reader that returns a byte at
// a time, as a slow connection does.
func TestChunkedOneByteReads(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100)
	c, err := newChunkedReader(iotest.OneByteReader(bytes.NewReader(encodeChunks(data, 33, true))), false, nil, []string{"x-amz-checksum-crc32"}, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
}

// FuzzChunked decodes arbitrary bodies: never a panic, never more bytes
// than the declared length, and a body that decodes without error is the
// encoding of what it decoded to (re-encoding and decoding again gives
// the same bytes).
func FuzzChunked(f *testing.F) {
	data := []byte("the quick brown fox jumps over the lazy dog")
	f.Add(encodeChunks(data, 10, true), true, int64(len(data)))
	f.Add(encodeChunks(data, 1, false), false, int64(-1))
	f.Add([]byte("0\r\n\r\n"), false, int64(0))
	f.Add([]byte("3;chunk-signature=ab\r\nabc\r\n0;chunk-signature=cd\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:ef\r\n\r\n"), true, int64(3))
	f.Add([]byte("ffffffffffffffff\r\n"), false, int64(-1))
	f.Fuzz(func(t *testing.T, body []byte, trailer bool, decodedLen int64) {
		if decodedLen < -1 {
			decodedLen = -1
		}
		got, err := decodeChunks(body, trailer, decodedLen)
		if decodedLen >= 0 && int64(len(got)) > decodedLen {
			t.Fatalf("decoded %d bytes, declared %d", len(got), decodedLen)
		}
		if err != nil {
			return
		}
		again, err := decodeChunks(encodeChunks(got, 7, trailer), trailer, int64(len(got)))
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("re-encoded body decodes to %q, %v; want %q", again, err, got)
		}
	})
}
