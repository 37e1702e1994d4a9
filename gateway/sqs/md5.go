package sqs

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// Transport types: how SQS tells a String or Number value from a Binary
// one in the bytes it hashes.
const (
	transportString = 1
	transportBinary = 2
)

// MD5OfBody is MD5OfMessageBody: the hex MD5 of the body's UTF-8 bytes.
func MD5OfBody(body string) string {
	sum := md5.Sum(readOnlyBytes(body))
	return hex.EncodeToString(sum[:])
}

// MD5OfMessageAttributes is MD5OfMessageAttributes, as SQS computes it
// and the Java SDK verifies it: the hex MD5 of, for each attribute in byte
// order of names, the name, the data type, a transport type byte (1 for
// String and Number, 2 for Binary) and the value, each of the three strings
// preceded by its length as 4 bytes big-endian. It is "" for no attributes,
// when SQS leaves the field out. The attributes are valid ones: the
// transport type comes from the data type's base type.
func MD5OfMessageAttributes(attrs MessageAttributes) string {
	return md5OfAttributes(attrs)
}

// MD5OfMessageSystemAttributes is MD5OfMessageSystemAttributes, computed
// as MD5OfMessageAttributes is.
func MD5OfMessageSystemAttributes(attrs MessageSystemAttributes) string {
	return md5OfAttributes(attrs)
}

func md5OfAttributes(attrs map[string]MessageAttributeValue) string {
	if len(attrs) == 0 {
		return ""
	}
	h := md5.New()
	for _, name := range sortedNames(attrs) {
		v := attrs[name]
		writeLengthPrefixed(h, []byte(name))
		writeLengthPrefixed(h, []byte(v.DataType))
		if base, _ := baseType(v.DataType); base == typeBinary {
			h.Write([]byte{transportBinary})
			writeLengthPrefixed(h, v.BinaryValue)
			continue
		}
		h.Write([]byte{transportString})
		var s string
		if v.StringValue != nil {
			s = *v.StringValue
		}
		writeLengthPrefixed(h, []byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeLengthPrefixed(h hash.Hash, b []byte) {
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
	h.Write(b)
}
