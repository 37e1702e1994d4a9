package mapping

import (
	"crypto/md5"
	"encoding/hex"
)

// md5Hex returns the lowercase hex MD5 of s.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
