package sqs

// FIFO deduplication: a message whose deduplication id (given, or the
// SHA-256 of its body with ContentBasedDeduplication) was sent to the
// queue in the last 5 minutes is accepted and not delivered again, even if
// the first one was deleted meanwhile. Entries live in the state area,
// committed with the messages they name:
//
//	d <queue> 0x00 <dedup key>  ->  <partition:4> <offset:8> <expires:8>
//
// where the dedup key is the id, or group 0x00 id with DeduplicationScope
// messageGroup. Expired entries are overwritten by the next message with
// the same id and dropped with the queue; DeleteQueue removes them all.

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/streambridge/bridge/store"
)

const tagDedup = 'd'

// dedupWindow is how long SQS remembers a deduplication id.
const dedupWindow = 5 * time.Minute

type dedupEntry struct {
	partition int32
	offset    int64
	expires   int64 // Unix ms
}

func dedupKey(queue, key string) string {
	return string(tagDedup) + queue + "\x00" + key
}

func encodeDedup(e dedupEntry) []byte {
	v := make([]byte, 0, 20)
	v = binary.BigEndian.AppendUint32(v, uint32(e.partition))
	v = binary.BigEndian.AppendUint64(v, uint64(e.offset))
	return binary.BigEndian.AppendUint64(v, uint64(e.expires))
}

func decodeDedup(v []byte) (dedupEntry, error) {
	if len(v) != 20 {
		return dedupEntry{}, errCorruptState
	}
	be := binary.BigEndian
	return dedupEntry{partition: int32(be.Uint32(v)), offset: int64(be.Uint64(v[4:])), expires: int64(be.Uint64(v[12:]))}, nil
}

// dedupLookup returns the message an unexpired deduplication key names.
func dedupLookup(ctx context.Context, s store.State, queue, key string, now int64) (dedupEntry, bool, error) {
	v, err := s.Get(ctx, stateNamespace, dedupKey(queue, key))
	if errors.Is(err, store.ErrNotFound) {
		return dedupEntry{}, false, nil
	}
	if err != nil {
		return dedupEntry{}, false, err
	}
	e, err := decodeDedup(v)
	if err != nil {
		return dedupEntry{}, false, err
	}
	return e, e.expires > now, nil
}

// dedupWrites are the entries of messages appended to partition p from
// offset base on.
func dedupWrites(queue string, p int32, base int64, msgs []*pendingSend, now time.Time) []store.KV {
	expires := now.Add(dedupWindow).UnixMilli()
	writes := make([]store.KV, len(msgs))
	for i, m := range msgs {
		writes[i] = store.KV{Namespace: stateNamespace, Key: dedupKey(queue, m.dedup),
			Value: encodeDedup(dedupEntry{partition: p, offset: base + int64(i), expires: expires})}
	}
	return writes
}
