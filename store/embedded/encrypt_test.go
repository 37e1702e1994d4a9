package embedded

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// testKeyring is a store.Keyring for the store's tests: named keys of
// random material, wrapped blobs "name\x00nonce|sealed". The real one,
// with KMS's ids, aliases and rotation, is security/kms.
type testKeyring struct {
	mu       sync.Mutex
	keys     map[string][]byte
	disabled map[string]bool
	gen      atomic.Uint64
	calls    atomic.Int64 // GenerateDataKey calls
}

func newTestKeyring(names ...string) *testKeyring {
	k := &testKeyring{keys: map[string][]byte{}, disabled: map[string]bool{}}
	for _, n := range names {
		k.keys[n] = make([]byte, 32)
		_, _ = rand.Read(k.keys[n])
	}
	return k
}

// fixedTestKeyring is a testKeyring whose key material follows from the
// names, so processes that share a data dir share it too.
func fixedTestKeyring(names ...string) *testKeyring {
	k := newTestKeyring()
	for _, n := range names {
		m := sha256.Sum256([]byte(n))
		k.keys[n] = m[:]
	}
	return k
}

func (k *testKeyring) aead(name string) (cipher.AEAD, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	m, ok := k.keys[name]
	switch {
	case !ok:
		return nil, fmt.Errorf("key %s: %w", name, store.ErrKeyNotFound)
	case k.disabled[name]:
		return nil, fmt.Errorf("key %s: %w", name, store.ErrKeyDisabled)
	}
	b, _ := aes.NewCipher(m)
	return cipher.NewGCM(b)
}

func (k *testKeyring) GenerateDataKey(_ context.Context, keyID string) (store.DataKey, error) {
	k.calls.Add(1)
	a, err := k.aead(keyID)
	if err != nil {
		return store.DataKey{}, err
	}
	plain := make([]byte, 32)
	_, _ = rand.Read(plain)
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	wrapped := append(append([]byte(keyID), 0), nonce...)
	wrapped = a.Seal(wrapped, nonce, plain, nil)
	return store.DataKey{Plaintext: plain, Wrapped: wrapped, KeyARN: "arn:test:" + keyID}, nil
}

func (k *testKeyring) Decrypt(_ context.Context, wrapped []byte) (store.DataKey, error) {
	name, rest, ok := bytes.Cut(wrapped, []byte{0})
	if !ok || len(rest) < 12 {
		return store.DataKey{}, store.ErrKeyAccessDenied
	}
	a, err := k.aead(string(name))
	if err != nil {
		return store.DataKey{}, err
	}
	plain, err := a.Open(nil, rest[:12], rest[12:], nil)
	if err != nil {
		return store.DataKey{}, store.ErrKeyAccessDenied
	}
	return store.DataKey{Plaintext: plain, KeyARN: "arn:test:" + string(name)}, nil
}

func (k *testKeyring) Generation() uint64 { return k.gen.Load() }

func (k *testKeyring) setDisabled(name string, disabled bool) {
	k.mu.Lock()
	k.disabled[name] = disabled
	k.mu.Unlock()
	k.gen.Add(1)
}

func openWithKeyring(t *testing.T, dir string, k store.Keyring) *Store {
	t.Helper()
	opts := Options{Dir: dir, InMemory: dir == ""}
	if k != nil { // a nil *testKeyring in an interface would not be nil
		opts.Keyring = k
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// secretBatch is a batch whose records carry marker in their values.
func secretBatch(t *testing.T, marker string, n int) []byte {
	t.Helper()
	recs := make([]recordbatch.Record, n)
	for i := range recs {
		recs[i] = recordbatch.Record{Key: []byte("k"), Value: fmt.Appendf(nil, "%s-%d", marker, i), Timestamp: time.UnixMilli(1000 + int64(i))}
	}
	raw, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// onDisk reports whether any file under dir holds b.
func onDisk(t *testing.T, dir string, b []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = found || bytes.Contains(data, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func values(t *testing.T, s *Store, name string) []string {
	t.Helper()
	var out []string
	for _, r := range readAll(t, s, name, 0, 0) {
		out = append(out, string(r.Value))
	}
	return out
}

// TestEncryptionAtRest follows a stream through encryption on, a key
// change, encryption off and a restart: every record reads back exactly,
// and the plaintext of encrypted records is nowhere in the data dir.
func TestEncryptionAtRest(t *testing.T) {
	dir := t.TempDir()
	keys := newTestKeyring("a", "b")
	s := openWithKeyring(t, dir, keys)
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "s", ShardCount: 1, Encryption: store.Encryption{KeyID: "a"}}); err != nil {
		t.Fatal(err)
	}
	append1 := func(marker string) {
		t.Helper()
		if _, err := s.AppendBatch(ctx, "s", 0, secretBatch(t, marker, 3), store.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	append1("SECRET-UNDER-A")
	setKey := func(id string) {
		t.Helper()
		if _, err := s.UpdateStream(ctx, "s", func(st *store.Stream) error { st.Encryption.KeyID = id; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	setKey("b")
	append1("SECRET-UNDER-B")
	setKey("")
	append1("PLAIN-AFTER-STOP")
	want := []string{"SECRET-UNDER-A-0", "SECRET-UNDER-A-1", "SECRET-UNDER-A-2", "SECRET-UNDER-B-0", "SECRET-UNDER-B-1", "SECRET-UNDER-B-2", "PLAIN-AFTER-STOP-0", "PLAIN-AFTER-STOP-1", "PLAIN-AFTER-STOP-2"}
	if got := values(t, s, "s"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("from the tail cache: %v, want %v", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"SECRET-UNDER-A", "SECRET-UNDER-B"} {
		if onDisk(t, dir, []byte(secret)) {
			t.Errorf("%s is on disk in the clear", secret)
		}
	}
	if !onDisk(t, dir, []byte("PLAIN-AFTER-STOP")) {
		t.Error("records written after encryption stopped are not on disk in the clear: the search above proves nothing")
	}

	s = openWithKeyring(t, dir, keys)
	if got := values(t, s, "s"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after reopening: %v, want %v", got, want)
	}
	if off, _, found, err := s.OffsetForTimestamp(ctx, "s", 0, 1001); err != nil || !found || off != 1 {
		t.Fatalf("OffsetForTimestamp = %d, %v, %v", off, found, err)
	}
	// Encrypting again after a restart makes a new data key: the old
	// ones are never used again for sealing.
	setKey("a")
	append1("SECRET-AFTER-RESTART")
	if got := len(values(t, s, "s")); got != 12 {
		t.Fatalf("%d records, want 12", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Without the keyring, or without one key, the store opens and the
	// encrypted records fail to read with the keyring's error.
	s = openWithKeyring(t, dir, nil)
	if _, err := s.Read(ctx, "s", 0, 0, store.ReadLimits{}); !errors.Is(err, store.ErrNoKeyring) {
		t.Errorf("read without a keyring: %v, want ErrNoKeyring", err)
	}
	if res, err := s.Read(ctx, "s", 0, 6, store.ReadLimits{MaxRecords: 3}); err != nil || len(res.Batches) != 1 {
		t.Errorf("the plain batch without a keyring: %d batches, %v", len(res.Batches), err)
	}
	s.Close()
	other := newTestKeyring("b")
	s = openWithKeyring(t, dir, other)
	if _, err := s.Read(ctx, "s", 0, 0, store.ReadLimits{}); !errors.Is(err, store.ErrKeyNotFound) {
		t.Errorf("read with key a missing: %v, want ErrKeyNotFound", err)
	}
	if _, err := s.Read(ctx, "s", 0, 3, store.ReadLimits{}); !errors.Is(err, store.ErrKeyAccessDenied) {
		t.Errorf("read with a different key b: %v, want ErrKeyAccessDenied", err)
	}
	s.Close()
}

// TestEncryptionKeyStates: a disabled key stops appends and reads, the
// tail cache's included, and enabling it again restores both; a key that
// does not exist fails the change that names it.
func TestEncryptionKeyStates(t *testing.T) {
	keys := newTestKeyring("a")
	s := openWithKeyring(t, "", keys)
	defer s.Close()
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "missing", ShardCount: 1, Encryption: store.Encryption{KeyID: "nope"}}); !errors.Is(err, store.ErrKeyNotFound) {
		t.Fatalf("create with an unknown key: %v", err)
	}
	if _, err := s.DescribeStream(ctx, "missing"); !errors.Is(err, store.ErrStreamNotFound) {
		t.Fatalf("a stream was created with an unknown key: %v", err)
	}
	mustCreate(t, s, "s", 1)
	if _, err := s.UpdateStream(ctx, "s", func(st *store.Stream) error { st.Encryption.KeyID = "nope"; return nil }); !errors.Is(err, store.ErrKeyNotFound) {
		t.Fatalf("update to an unknown key: %v", err)
	}
	if st, _ := s.DescribeStream(ctx, "s"); st.Encryption.Enabled() {
		t.Fatal("a failed update changed the stream's encryption")
	}
	if _, err := s.UpdateStream(ctx, "s", func(st *store.Stream) error { st.Encryption.KeyID = "a"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendBatch(ctx, "s", 0, secretBatch(t, "x", 2), store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	keys.setDisabled("a", true)
	if _, err := s.Read(ctx, "s", 0, 0, store.ReadLimits{}); !errors.Is(err, store.ErrKeyDisabled) {
		t.Errorf("read with the key disabled: %v", err)
	}
	if _, err := s.AppendBatch(ctx, "s", 0, secretBatch(t, "y", 2), store.AppendOptions{}); !errors.Is(err, store.ErrKeyDisabled) {
		t.Errorf("append with the key disabled: %v", err)
	}
	keys.setDisabled("a", false)
	if _, err := s.AppendBatch(ctx, "s", 0, secretBatch(t, "z", 2), store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := values(t, s, "s"); fmt.Sprint(got) != "[x-0 x-1 z-0 z-1]" {
		t.Fatalf("records %v", got)
	}
}

// TestSealedBatchTampering: a sealed batch changed on disk, in its clear
// header or its sealed part, does not authenticate.
func TestSealedBatchTampering(t *testing.T) {
	keys := newTestKeyring("a")
	s := openWithKeyring(t, "", keys)
	defer s.Close()
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "s", ShardCount: 2, Encryption: store.Encryption{KeyID: "a"}}); err != nil {
		t.Fatal(err)
	}
	st, _ := s.stream("s")
	p0, _ := st.partition(0)
	p1, _ := st.partition(1)
	raw := secretBatch(t, "t", 2)
	sealed, key, err := s.seal(ctx, st, p0, raw)
	if err != nil || key == noKey {
		t.Fatal(key, err)
	}
	if info, err := recordbatch.Parse(sealed); err != nil || info.NumRecords != 2 {
		t.Fatalf("the clear header of a sealed batch: %+v, %v", info, err)
	}
	opened, err := s.open(ctx, st, p0, 0, sealed, nil)
	if err != nil || !bytes.Equal(opened, raw) {
		t.Fatalf("open: %v", err)
	}
	if _, err := s.open(ctx, st, p1, 0, sealed, nil); !errors.Is(err, store.ErrKeyAccessDenied) {
		t.Errorf("a batch moved to another partition: %v", err)
	}
	for _, i := range []int{20, len(sealed) - 1, headerSize + 3} {
		bad := bytes.Clone(sealed)
		bad[i] ^= 1
		if _, err := s.open(ctx, st, p0, 0, bad, nil); !errors.Is(err, store.ErrKeyAccessDenied) {
			t.Errorf("byte %d flipped: %v", i, err)
		}
	}
}

// TestDataKeysAreReused: appends share the stream's data key instead of
// asking the keyring each time.
func TestDataKeysAreReused(t *testing.T) {
	keys := newTestKeyring("a")
	s := openWithKeyring(t, "", keys)
	defer s.Close()
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "s", ShardCount: 4, Encryption: store.Encryption{KeyID: "a"}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for p := range int32(4) {
		wg.Go(func() {
			for range 50 {
				if _, err := s.AppendBatch(ctx, "s", p, secretBatch(t, "r", 1), store.AppendOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := keys.calls.Load(); n != 1 {
		t.Errorf("%d data keys made for 200 appends, want 1", n)
	}
}

// FuzzOpenSealed: whatever bytes a stored batch holds, opening it returns
// the batch or an error, never a panic.
func FuzzOpenSealed(f *testing.F) {
	keys := newTestKeyring("a")
	s, err := Open(Options{InMemory: true, Keyring: keys})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateStream(context.Background(), store.StreamConfig{Name: "s", ShardCount: 1, Encryption: store.Encryption{KeyID: "a"}}); err != nil {
		f.Fatal(err)
	}
	st, _ := s.stream("s")
	p, _ := st.partition(0)
	raw, _ := recordbatch.Encode(nil, []recordbatch.Record{{Key: []byte("k"), Value: []byte("v")}}, recordbatch.EncodeOptions{})
	sealed, _, err := s.seal(context.Background(), st, p, raw)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add(raw)
	f.Add(sealed[:headerSize+sealedExtra])
	f.Add([]byte{sealedMarker0, sealedMarker1, sealedVersion, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, v []byte) {
		out, err := s.open(context.Background(), st, p, 0, v, nil)
		if err == nil && sealedKeyIndex(v) != noKey && len(out) != len(v)-sealedExtra {
			t.Fatalf("opened %d bytes into %d", len(v), len(out))
		}
	})
}
