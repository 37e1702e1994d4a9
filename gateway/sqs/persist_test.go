package sqs

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

func TestStateRoundTrip(t *testing.T) {
	for _, st := range []messageState{
		{offset: 0},
		{offset: 7, receives: 3, visibleAt: 1_796_338_304_504, nonce: 3},
		{offset: 1 << 40, receives: 1, nonce: 1 << 31, deleted: true},
		{offset: 9, receives: 1, visibleAt: 5, nonce: 1, group: "orders-42", grouped: true},
		{offset: 10, group: "", grouped: true}, // a Kafka record without a key
	} {
		prefix := messagePrefix("q", 2)
		got, err := decodeState(prefix, messageKey("q", 2, st.offset), encodeState(st))
		if err != nil || got != st {
			t.Errorf("round trip of %+v: %+v %v", st, got, err)
		}
	}
	if c, err := decodeCursor(encodeCursor(42)); err != nil || c != 42 {
		t.Errorf("cursor: %d %v", c, err)
	}
	for _, bad := range []struct{ key, value string }{
		{messageKey("q", 2, 1), "short"},
		{messageKey("other", 2, 1), string(encodeState(messageState{}))},
		{messagePrefix("q", 2) + "1234567", string(encodeState(messageState{}))},
		{messageKey("q", 2, -1), string(encodeState(messageState{}))},
		{messageKey("q", 2, 1), string(encodeState(messageState{}))[:16] + "\x02"},
		{messageKey("q", 2, 1), string(encodeState(messageState{})) + "\x02group"},
	} {
		if _, err := decodeState(messagePrefix("q", 2), bad.key, []byte(bad.value)); !errors.Is(err, errCorruptState) {
			t.Errorf("decodeState(%q, %q): %v, want errCorruptState", bad.key, bad.value, err)
		}
	}
	if _, err := decodeCursor([]byte{1, 2}); !errors.Is(err, errCorruptState) {
		t.Errorf("short cursor: %v", err)
	}
}

// The keys sort by queue, partition and offset in the real store, and a
// queue's prefixes cover its keys and no other queue's (one is a prefix of
// the other's name here on purpose).
func TestStateKeysInTheStore(t *testing.T) {
	s, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var writes []store.KV
	for _, q := range []string{"jobs", "jobs2"} {
		writes = append(writes, store.KV{Namespace: stateNamespace, Key: cursorKey(q, 0), Value: encodeCursor(3)})
		for _, off := range []int64{300, 5, 1 << 20} {
			writes = append(writes, store.KV{Namespace: stateNamespace, Key: messageKey(q, 1, off), Value: encodeState(messageState{offset: off, receives: 1})})
		}
	}
	if err := s.Update(ctx, writes...); err != nil {
		t.Fatal(err)
	}
	var offsets []int64
	prefix := messagePrefix("jobs", 1)
	err = s.Scan(ctx, stateNamespace, prefix, func(key string, value []byte) error {
		st, err := decodeState(prefix, key, value)
		offsets = append(offsets, st.offset)
		return err
	})
	if err != nil || !slices.Equal(offsets, []int64{5, 300, 1 << 20}) {
		t.Fatalf("scan of jobs/1: %v %v", offsets, err)
	}
	for _, p := range queuePrefixes("jobs") {
		if err := s.DeletePrefix(ctx, stateNamespace, p); err != nil {
			t.Fatal(err)
		}
	}
	var left []string
	_ = s.Scan(ctx, stateNamespace, "", func(key string, _ []byte) error {
		left = append(left, key)
		return nil
	})
	for _, k := range left {
		if !strings.Contains(k, "jobs2\x00") {
			t.Errorf("key %q survived the deletion of queue jobs", k)
		}
	}
	if len(left) != 4 {
		t.Errorf("jobs2 kept %d keys, want 4", len(left))
	}
}
