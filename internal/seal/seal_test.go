package seal

import (
	"context"
	"testing"

	"github.com/streambridge/bridge/store/embedded"
)

func TestSealSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := embedded.Open(embedded.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	k := New(s, "test", "key")
	tok, err := k.Seal(ctx, []byte("body"))
	if err != nil || len(tok) != 4+MACSize {
		t.Fatalf("Seal: %x %v", tok, err)
	}
	if body, ok, err := k.Open(ctx, tok); !ok || err != nil || string(body) != "body" {
		t.Fatalf("Open: %q %v %v", body, ok, err)
	}
	for _, bad := range [][]byte{nil, tok[:MACSize-1], append([]byte("Body"), tok[4:]...), append(append([]byte{}, tok[:len(tok)-1]...), tok[len(tok)-1]^1)} {
		if _, ok, err := k.Open(ctx, bad); ok || err != nil {
			t.Errorf("Open(%x) = %v %v, want refused", bad, ok, err)
		}
	}
	if other, _ := New(s, "test", "other").Seal(ctx, []byte("body")); string(other) == string(tok) {
		t.Error("two keys sealed alike")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = embedded.Open(embedded.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if body, ok, err := New(s, "test", "key").Open(ctx, tok); !ok || err != nil || string(body) != "body" {
		t.Fatalf("Open after a restart: %q %v %v", body, ok, err)
	}
}
