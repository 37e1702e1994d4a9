package s3

// Checksums: S3's x-amz-checksum-ALGORITHM headers and trailers. The store
// computes the checksums it keeps; this file knows their names, and
// computes a trailer's checksum while an aws-chunked body is decoded,
// since the value the body must have arrives after the body.

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"strings"
)

// checksumAlgorithms are S3's, in the store's names.
var checksumAlgorithms = []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"}

// crc64NVME is CRC-64/NVME's table (reflected polynomial), the checksum
// S3 defaults to for new objects.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// newChecksum returns a hash of algorithm alg, nil for an unknown one.
func newChecksum(alg string) hash.Hash {
	switch alg {
	case "CRC32":
		return crc32.NewIEEE()
	case "CRC32C":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "CRC64NVME":
		return crc64.New(crc64NVME)
	case "SHA1":
		return sha1.New()
	case "SHA256":
		return sha256.New()
	}
	return nil
}

// checksumValue is a hash's value as S3 sends it: base64 of its bytes.
func checksumValue(h hash.Hash) string { return base64.StdEncoding.EncodeToString(h.Sum(nil)) }

// checksumHeader is the header that carries alg's value.
func checksumHeader(alg string) string { return "x-amz-checksum-" + strings.ToLower(alg) }

// algorithmOfHeader is the algorithm a checksum header names, "" for
// none.
func algorithmOfHeader(name string) string {
	a, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(name)), "x-amz-checksum-")
	if !ok {
		return ""
	}
	a = strings.ToUpper(a)
	for _, alg := range checksumAlgorithms {
		if a == alg {
			return alg
		}
	}
	return ""
}

// requestChecksums are the checksums a put asks for: the algorithms to
// compute and the values the body must have, from x-amz-checksum-*,
// x-amz-sdk-checksum-algorithm and x-amz-checksum-algorithm (a multipart
// upload's). A trailer's checksum is checked by the body's decoder, not
// here.
func requestChecksums(hdr http.Header) (algs []string, expect map[string]string, err error) {
	add := func(a string) {
		for _, have := range algs {
			if have == a {
				return
			}
		}
		algs = append(algs, a)
	}
	for _, alg := range checksumAlgorithms {
		if v := hdr.Get(checksumHeader(alg)); v != "" {
			if expect == nil {
				expect = map[string]string{}
			}
			expect[alg] = v
			add(alg)
		}
	}
	for _, name := range []string{"x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"} {
		if v := hdr.Get(name); v != "" {
			a := strings.ToUpper(v)
			if newChecksum(a) == nil {
				return nil, nil, invalidArgument("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
			}
			add(a)
		}
	}
	if len(expect) > 1 {
		return nil, nil, invalidArgument("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	}
	return algs, expect, nil
}

// setChecksumHeaders writes the object's (or part's) checksums as S3's
// response headers.
func setChecksumHeaders(hdr http.Header, sums map[string]string) {
	for alg, v := range sums {
		hdr.Set(checksumHeader(alg), v)
		if strings.Contains(v, "-") {
			hdr.Set("x-amz-checksum-type", "COMPOSITE")
		} else {
			hdr.Set("x-amz-checksum-type", "FULL_OBJECT")
		}
	}
}
