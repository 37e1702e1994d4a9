package embedded

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"sort"
	"strings"

	"github.com/streambridge/bridge/store"
)

// Checksums of object bodies, as S3 computes them: each algorithm's digest
// big-endian (what hash.Hash.Sum gives), sent base64.

// crc64NVMEPoly is CRC-64/NVME's polynomial 0xad93d23594c93659 bit-reversed,
// the form hash/crc64 takes (its tables are for the reflected CRC). With
// crc64's initial value and final xor of all ones this is CRC-64/NVME, whose
// check value ("123456789") is 0xae8b14860a799888 (checksum_test.go).
const crc64NVMEPoly = 0x9a6c9329ac4bc9b5

var (
	crc32cTable    = crc32.MakeTable(crc32.Castagnoli)
	crc64NVMETable = crc64.MakeTable(crc64NVMEPoly)
)

// checksumAlgorithms are the algorithms S3 knows, by their S3 names.
var checksumAlgorithms = map[string]func() hash.Hash{
	"CRC32":     func() hash.Hash { return crc32.NewIEEE() },
	"CRC32C":    func() hash.Hash { return crc32.New(crc32cTable) },
	"CRC64NVME": func() hash.Hash { return crc64.New(crc64NVMETable) },
	"SHA1":      sha1.New,
	"SHA256":    sha256.New,
}

// digester computes an object's MD5 and the checksums asked for while its
// body streams through Write.
type digester struct {
	md5   hash.Hash
	names []string // sorted, upper case
	sums  []hash.Hash
}

// newDigester computes the MD5 (when withMD5 is set) and, for each name of
// algos and each key of expect, that checksum. An unknown name is
// store.ErrInvalidArgument.
func newDigester(algos []string, expect map[string]string, withMD5 bool) (*digester, error) {
	set := map[string]bool{}
	for _, a := range algos {
		set[strings.ToUpper(a)] = true
	}
	for a := range expect {
		set[strings.ToUpper(a)] = true
	}
	d := &digester{}
	if withMD5 {
		d.md5 = md5.New()
	}
	for a := range set {
		if checksumAlgorithms[a] == nil {
			return nil, fmt.Errorf("%w: unknown checksum algorithm %q", store.ErrInvalidArgument, a)
		}
		d.names = append(d.names, a)
	}
	sort.Strings(d.names)
	for _, a := range d.names {
		d.sums = append(d.sums, checksumAlgorithms[a]())
	}
	return d, nil
}

func (d *digester) Write(p []byte) (int, error) {
	if d.md5 != nil {
		d.md5.Write(p)
	}
	for _, h := range d.sums {
		h.Write(p)
	}
	return len(p), nil
}

// result returns the binary MD5 (nil when not computed) and the
// checksums, base64, by algorithm.
func (d *digester) result() (md5sum []byte, sums map[string]string) {
	if d.md5 != nil {
		md5sum = d.md5.Sum(nil)
	}
	if len(d.names) > 0 {
		sums = make(map[string]string, len(d.names))
		for i, a := range d.names {
			sums[a] = base64.StdEncoding.EncodeToString(d.sums[i].Sum(nil))
		}
	}
	return md5sum, sums
}

// verify compares the digests with what opts expects: store.ErrBadDigest
// names the first that differs.
func (d *digester) verify(opts store.PutOptions) error {
	md5sum, sums := d.result()
	if opts.ExpectMD5 != "" && opts.ExpectMD5 != base64.StdEncoding.EncodeToString(md5sum) {
		return fmt.Errorf("%w: Content-MD5 %s", store.ErrBadDigest, opts.ExpectMD5)
	}
	for a, want := range opts.ExpectChecksums {
		if got := sums[strings.ToUpper(a)]; got != want {
			return fmt.Errorf("%w: %s is %s, expected %s", store.ErrBadDigest, a, got, want)
		}
	}
	return nil
}

// quotedETag is S3's ETag of a single-part object: the MD5, hex, quoted.
func quotedETag(md5sum []byte) string { return `"` + hex.EncodeToString(md5sum) + `"` }

// multipartETag is S3's ETag of a multipart object: the MD5 of the parts'
// binary MD5s, concatenated in order, hex, then "-" and the part count,
// quoted. partETags are the parts' ETags, quoted or not.
func multipartETag(partETags []string) (string, error) {
	h := md5.New()
	for _, e := range partETags {
		b, err := hex.DecodeString(strings.Trim(e, `"`))
		if err != nil || len(b) != md5.Size {
			return "", fmt.Errorf("part ETag %q is not an MD5", e)
		}
		h.Write(b)
	}
	return fmt.Sprintf(`"%x-%d"`, h.Sum(nil), len(partETags)), nil
}

// compositeChecksums is S3's checksum of a multipart object per algorithm
// every part has: the checksum of the parts' binary checksums,
// concatenated in order, base64, then "-" and the part count.
func compositeChecksums(parts []map[string]string) map[string]string {
	if len(parts) == 0 {
		return nil
	}
	var out map[string]string
	for a, newHash := range checksumAlgorithms {
		h := newHash()
		ok := true
		for _, p := range parts {
			b, err := base64.StdEncoding.DecodeString(p[a])
			if p[a] == "" || err != nil {
				ok = false
				break
			}
			h.Write(b)
		}
		if ok {
			if out == nil {
				out = map[string]string{}
			}
			out[a] = fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(h.Sum(nil)), len(parts))
		}
	}
	return out
}
