// Package groupoffsets is how Kafka consumer groups' committed offsets are
// kept in the store's state area. The Kafka front end writes them; the SQS
// front end reads them, so that a queue worked by a Kafka consumer group
// deletes what the group commits (ARCHITECTURE.md, "Queues"). The layout
// lives here, not in either front end, because front ends never import each
// other.
//
// In namespace Namespace:
//
//	"o" + name(group) + name(topic) + partition  ->  Value
//
// where name(s) is len(s) as a uvarint followed by s, so every group's keys
// share one prefix no other group's keys have, and a partition is 4 bytes
// big-endian (a group's partitions scan in order).
package groupoffsets

import (
	"encoding/binary"
	"fmt"
)

// Namespace is the state namespace of consumer groups.
const Namespace = "kafka.group"

// AppendName appends s as a length-prefixed key part.
func AppendName(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// ReadName reads what AppendName wrote; a length not in its shortest form
// is refused, so a key has exactly one reading.
func ReadName(b []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || k != len(binary.AppendUvarint(nil, n)) || uint64(len(b)-k) < n {
		return "", nil, false
	}
	return string(b[k : k+int(n)]), b[k+int(n):], true
}

// Key is where a group's committed offset of a topic partition is kept.
func Key(group, topic string, partition int32) string {
	b := AppendName([]byte("o"), group)
	b = AppendName(b, topic)
	return string(binary.BigEndian.AppendUint32(b, uint32(partition)))
}

// Value is one committed offset and what came with it. TopicID is the
// topic's id at commit time: a topic deleted and created again under its
// name has another id, and its old offsets no longer count, as Kafka drops
// a deleted topic's offsets.
type Value struct {
	Offset      int64
	LeaderEpoch int32
	CommitMs    int64 // Unix ms
	TopicID     [16]byte
	Metadata    string
}

// fixedSize is the encoded Value without its metadata.
const fixedSize = 1 + 8 + 4 + 8 + 16

// Encode returns v's layout: version byte 0, offset, leader epoch, commit
// time, topic id, then the metadata string's bytes.
func (v Value) Encode() []byte {
	b := make([]byte, 0, fixedSize+len(v.Metadata))
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(v.Offset))
	b = binary.BigEndian.AppendUint32(b, uint32(v.LeaderEpoch))
	b = binary.BigEndian.AppendUint64(b, uint64(v.CommitMs))
	b = append(b, v.TopicID[:]...)
	return append(b, v.Metadata...)
}

// Decode reads what Encode wrote.
func Decode(b []byte) (Value, error) {
	if len(b) < fixedSize || b[0] != 0 {
		return Value{}, fmt.Errorf("bad committed offset value (%d bytes)", len(b))
	}
	var v Value
	v.Offset = int64(binary.BigEndian.Uint64(b[1:]))
	v.LeaderEpoch = int32(binary.BigEndian.Uint32(b[9:]))
	v.CommitMs = int64(binary.BigEndian.Uint64(b[13:]))
	copy(v.TopicID[:], b[21:fixedSize])
	v.Metadata = string(b[fixedSize:])
	return v, nil
}
