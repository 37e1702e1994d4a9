package sqs

import (
	"encoding/binary"
	"errors"
	"strings"
)

// How a queue's consumption state is kept in the store's state area
// (namespace stateNamespace; ARCHITECTURE.md, "Queues"). Keys sort by queue,
// then partition, then offset, so a partition's states are one prefix scan
// in offset order, and DeleteQueue drops a queue's with one DeletePrefix.
//
//	c <queue> 0x00 <partition:4>               -> <cursor:8>
//	m <queue> 0x00 <partition:4> <offset:8>    -> <receives:4> <visibleAt:8> <nonce:4> <deleted:1> <firstReceived:8> [1 <group>]
//
// Integers are big-endian; a queue name never holds a zero byte. The
// states of a FIFO partition's messages end with their MessageGroupId
// (fifo.go), after a 1 that tells an empty group (a Kafka record without a
// key) from none; deleted messages need no group and are kept without one.

const stateNamespace = "sqs"

const (
	tagCursor  = 'c'
	tagMessage = 'm'
)

const stateValueSize = 4 + 8 + 4 + 1 + 8

var errCorruptState = errors.New("sqs: corrupt queue state entry")

func partitionKey(tag byte, queue string, partition int32) []byte {
	k := make([]byte, 0, 1+len(queue)+1+4+8)
	k = append(k, tag)
	k = append(k, queue...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint32(k, uint32(partition))
}

// cursorKey is where a partition's cursor is kept.
func cursorKey(queue string, partition int32) string {
	return string(partitionKey(tagCursor, queue, partition))
}

// messagePrefix starts the keys of a partition's message states.
func messagePrefix(queue string, partition int32) string {
	return string(partitionKey(tagMessage, queue, partition))
}

// queuePrefixes are the key prefixes of everything a queue keeps.
func queuePrefixes(queue string) []string {
	return []string{string(tagCursor) + queue + "\x00", string(tagMessage) + queue + "\x00", string(tagDedup) + queue + "\x00", moveTaskPrefix(queue)}
}

// messageKey is where the state of the message at offset is kept.
func messageKey(queue string, partition int32, offset int64) string {
	return string(binary.BigEndian.AppendUint64(partitionKey(tagMessage, queue, partition), uint64(offset)))
}

func encodeState(st messageState) []byte {
	v := make([]byte, 0, stateValueSize)
	v = binary.BigEndian.AppendUint32(v, uint32(st.receives))
	v = binary.BigEndian.AppendUint64(v, uint64(st.visibleAt))
	v = binary.BigEndian.AppendUint32(v, st.nonce)
	deleted := byte(0)
	if st.deleted {
		deleted = 1
	}
	v = append(v, deleted)
	v = binary.BigEndian.AppendUint64(v, uint64(st.firstReceived))
	if st.grouped && !st.deleted {
		v = append(v, 1)
		v = append(v, st.group...)
	}
	return v
}

// decodeState reads a message state back from the key's suffix (the
// offset, after the partition's prefix) and its value.
func decodeState(prefix, key string, value []byte) (messageState, error) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok || len(rest) != 8 || len(value) < stateValueSize || value[16] > 1 ||
		len(value) > stateValueSize && value[stateValueSize] != 1 {
		return messageState{}, errCorruptState
	}
	be := binary.BigEndian
	st := messageState{
		offset:    int64(be.Uint64([]byte(rest))),
		receives:  int32(be.Uint32(value)),
		visibleAt: int64(be.Uint64(value[4:])),
		nonce:     be.Uint32(value[12:]),
		deleted:   value[16] == 1,

		firstReceived: int64(be.Uint64(value[17:])),
	}
	if len(value) > stateValueSize {
		st.group, st.grouped = string(value[stateValueSize+1:]), true
	}
	if st.offset < 0 || st.receives < 0 {
		return messageState{}, errCorruptState
	}
	return st, nil
}

func encodeCursor(cursor int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(cursor)) }

func decodeCursor(v []byte) (int64, error) {
	if len(v) != 8 || int64(binary.BigEndian.Uint64(v)) < 0 {
		return 0, errCorruptState
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}
