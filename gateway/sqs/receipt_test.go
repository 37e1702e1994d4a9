package sqs

import (
	"context"
	"strings"
	"testing"

	"github.com/streambridge/bridge/internal/seal"
	"github.com/streambridge/bridge/store/embedded"
)

func TestReceiptHandles(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := seal.New(s, receiptKeyNamespace, receiptKeyName)
	want := receipt{queue: "jobs.fifo", partition: 3, offset: 1 << 33, nonce: 7}
	h, err := encodeReceipt(ctx, key, want)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(h, "+/=") {
		t.Errorf("handle %q needs escaping in a form", h)
	}
	got, ok, err := decodeReceipt(ctx, key, h)
	if !ok || err != nil || got != want {
		t.Fatalf("decode: %+v %v %v, want %+v", got, ok, err, want)
	}
	other, _ := encodeReceipt(ctx, key, receipt{queue: "jobs.fifo", partition: 3, offset: 1 << 33, nonce: 8})
	for _, bad := range []string{"", "not base64!", h[:len(h)-2], h + "A", other[:24] + h[24:], strings.Repeat("A", 60)} {
		if _, ok, err := decodeReceipt(ctx, key, bad); ok || err != nil {
			t.Errorf("decode(%q) = %v %v, want refused", bad, ok, err)
		}
	}
	if _, ok, _ := decodeReceipt(ctx, seal.New(s, receiptKeyNamespace, "another"), h); ok {
		t.Error("a handle opened with another key")
	}
}

func FuzzDecodeReceipt(f *testing.F) {
	s, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	key := seal.New(s, receiptKeyNamespace, receiptKeyName)
	h, _ := encodeReceipt(context.Background(), key, receipt{queue: "q", offset: 5, nonce: 1})
	for _, seed := range []string{h, "", "AQ", strings.Repeat("_", 100)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, handle string) {
		r, ok, err := decodeReceipt(context.Background(), key, handle)
		if err != nil || ok && (r.offset < 0 || r.partition < 0) {
			t.Fatalf("decode(%q) = %+v %v %v", handle, r, ok, err)
		}
	})
}
