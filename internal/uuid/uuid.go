// Package uuid makes the random (version 4) UUIDs the bridge hands out: AWS
// request ids, Kafka group member ids and topic ids. It is the one source of
// them, so every id has the version and variant bits set: clients and log
// tools that parse request ids as RFC 9562 UUIDs accept them.
package uuid

import (
	"crypto/rand"
	"encoding/hex"
)

// UUID is an RFC 9562 UUID.
type UUID [16]byte

// New returns a random (version 4) UUID.
func New() UUID {
	var u UUID
	_, _ = rand.Read(u[:]) // crypto/rand.Read never returns an error (Go 1.24+)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// NewString returns a random (version 4) UUID in its text form.
func NewString() string { return New().String() }

// String is the canonical text form, 8-4-4-4-12 lower-case hex digits.
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
