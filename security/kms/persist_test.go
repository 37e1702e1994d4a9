package kms

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/streambridge/bridge/store"
)

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := newClock()
	k := open(t, dir, c)
	a := createKey(t, k)
	b, err := k.CreateKey(CreateKeyInput{Description: "b", Tags: []Tag{{"team", "data"}}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []error{
		k.CreateAlias("alias/a", a.KeyID),
		k.EnableKeyRotation(a.KeyID, 180),
		k.DisableKey(b.KeyID),
	}
	if _, err := k.RotateKeyOnDemand(a.KeyID); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	dk, _ := k.GenerateDataKey(ctx, "alias/a")
	managed, _ := k.DescribeKey("alias/aws/kinesis")

	type snapshot struct {
		Keys     []KeyListEntry
		Metadata []KeyMetadata
		Aliases  []AliasListEntry
		Status   []RotationStatus
		Rots     [][]Rotation
		Tags     [][]Tag
	}
	snap := func(k *Keyring) snapshot {
		var s snapshot
		s.Keys = k.ListKeys()
		s.Aliases, _ = k.ListAliases("")
		for _, e := range s.Keys {
			md, _ := k.DescribeKey(e.KeyID)
			st, _ := k.GetKeyRotationStatus(e.KeyID)
			rots, _ := k.ListKeyRotations(e.KeyID)
			tags, _ := k.ListResourceTags(e.KeyID)
			s.Metadata, s.Status, s.Rots, s.Tags = append(s.Metadata, md), append(s.Status, st), append(s.Rots, rots), append(s.Tags, tags)
		}
		return s
	}
	before := snap(k)
	if len(before.Keys) != 3 || len(before.Aliases) != 2 {
		t.Fatalf("before reopen: %d keys, %d aliases; want 3 and 2", len(before.Keys), len(before.Aliases))
	}
	k2 := open(t, dir, c)
	if after := snap(k2); !reflect.DeepEqual(before, after) {
		t.Fatalf("reopened keyring differs:\nbefore %+v\nafter  %+v", before, after)
	}
	if got, err := k2.Decrypt(ctx, dk.Wrapped); err != nil || !bytes.Equal(got.Plaintext, dk.Plaintext) {
		t.Fatalf("Decrypt after reopen: %v", err)
	}
	if md, _ := k2.DescribeKey("alias/aws/kinesis"); md.KeyID != managed.KeyID {
		t.Fatal("the AWS managed key changed on reopen")
	}
}

func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keyring.json")
	k := open(t, dir, newClock())
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an unchanged keyring was written (%v)", err)
	}
	createKey(t, k)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".keyring.json.tmp-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestCorruptFile(t *testing.T) {
	valid := func(t *testing.T) []byte {
		dir := t.TempDir()
		createKey(t, open(t, dir, newClock()))
		data, err := os.ReadFile(filepath.Join(dir, "keyring.json"))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}(t)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"truncated", valid[:len(valid)/2]},
		{"not JSON", []byte("keys: none")},
		{"another version", bytes.Replace(valid, []byte(`"version": 1`), []byte(`"version": 9`), 1)},
		{"unknown field", bytes.Replace(valid, []byte(`"version": 1`), []byte(`"version": 1, "extra": 0`), 1)},
		{"bad state", bytes.Replace(valid, []byte(`"Enabled"`), []byte(`"Broken"`), 1)},
		{"short key material", bytes.Replace(valid, []byte(`"key": "`), []byte(`"key": "AAAA`), 1)},
		{"alias of no key", bytes.Replace(valid, []byte(`"aliases": []`), []byte(`"aliases": [{"aliasName": "alias/x", "targetKeyId": "11111111-2222-4333-8444-555555555555"}]`), 1)},
		{"two documents", append(append([]byte{}, valid...), valid...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if bytes.Equal(tc.data, valid) {
				t.Fatal("the corruption changed nothing")
			}
			path := filepath.Join(t.TempDir(), "keyring.json")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			k, err := Open(path, region, account)
			if err == nil || !strings.Contains(err.Error(), "corrupt") {
				t.Fatalf("Open = %v, %v; want a corrupt keyring error", k, err)
			}
		})
	}
}

// TestSaveFailureUndoes: a change the file refuses is not kept, so the
// keyring never says what a restart would not.
func TestSaveFailureUndoes(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	k := open(t, sub, newClock())
	md := createKey(t, k)
	if err := os.RemoveAll(sub); err != nil {
		t.Fatal(err)
	}
	wantCode(t, k.DisableKey(md.KeyID), CodeInternal)
	if got, _ := k.DescribeKey(md.KeyID); got.KeyState != StateEnabled {
		t.Fatalf("state after a failed save: %s", got.KeyState)
	}
}

func TestInMemory(t *testing.T) {
	k, err := InMemory(region, account, WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	dk, err := k.GenerateDataKey(context.Background(), "alias/aws/kinesis")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Decrypt(context.Background(), dk.Wrapped); err != nil {
		t.Fatal(err)
	}
	if _, err := InMemory("", account); err == nil {
		t.Fatal("a keyring without a region")
	}
}

// TestForeignBlob: a blob of another keyring is refused, even when the
// other keyring has a key of the same id (a copied file whose material
// was replaced), never decrypted into garbage.
func TestForeignBlob(t *testing.T) {
	ctx := context.Background()
	a, b := open(t, t.TempDir(), newClock()), open(t, t.TempDir(), newClock())
	mdA := createKey(t, a)
	createKey(t, b)
	dk, _ := a.GenerateDataKey(ctx, mdA.KeyID)
	if _, err := b.Decrypt(ctx, dk.Wrapped); !errors.Is(err, store.ErrKeyNotFound) {
		t.Fatalf("another keyring's blob: %v, want ErrKeyNotFound", err)
	}

	// b gets a key with a's key id but its own material.
	b.mu.Lock()
	forged := *a.keys[mdA.KeyID]
	forged.Materials = []*material{newMaterial("", forged.Created)}
	b.keys[forged.ID] = &forged
	b.mu.Unlock()
	if _, err := b.Decrypt(ctx, dk.Wrapped); !errors.Is(err, store.ErrKeyAccessDenied) {
		t.Fatalf("same key id, other material: %v, want ErrKeyAccessDenied", err)
	}
	// ... and a's material id with other bytes.
	b.mu.Lock()
	forged.Materials = []*material{{ID: a.keys[mdA.KeyID].Materials[0].ID, Key: make([]byte, 32), Created: forged.Created}}
	b.mu.Unlock()
	if _, err := b.Decrypt(ctx, dk.Wrapped); !errors.Is(err, store.ErrKeyAccessDenied) {
		t.Fatalf("same material id, other bytes: %v, want ErrKeyAccessDenied", err)
	}
}

func TestTamperedBlob(t *testing.T) {
	ctx := context.Background()
	k := open(t, t.TempDir(), newClock())
	md := createKey(t, k)
	other := createKey(t, k)
	dk, _ := k.GenerateDataKey(ctx, md.KeyID)
	otherID, _ := parseKeyID(other.KeyID)
	flip := func(i int) []byte {
		b := bytes.Clone(dk.Wrapped)
		b[i] ^= 1
		return b
	}
	for _, tc := range []struct {
		name string
		blob []byte
	}{
		{"version", flip(0)},
		{"material id", flip(blobMaterial + 3)},
		{"nonce", flip(blobNonce)},
		{"ciphertext", flip(blobSealed)},
		{"tag", flip(len(dk.Wrapped) - 1)},
		{"truncated", dk.Wrapped[:len(dk.Wrapped)-1]},
		{"header only", dk.Wrapped[:blobOverhead-1]},
		{"empty", nil},
		{"another key's id", append(append(append([]byte{}, dk.Wrapped[0]), otherID[:]...), dk.Wrapped[blobMaterial:]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := k.Decrypt(ctx, tc.blob)
			if !errors.Is(err, store.ErrKeyAccessDenied) {
				t.Fatalf("Decrypt: %v, want ErrKeyAccessDenied", err)
			}
			wantCode(t, err, CodeInvalidCiphertext)
		})
	}
}

func TestEncryptionContext(t *testing.T) {
	k := open(t, t.TempDir(), newClock())
	md := createKey(t, k)
	other := createKey(t, k)
	ec := map[string]string{"stream": "s", "shard": "0"}
	enc, err := k.Encrypt(md.KeyID, []byte("secret"), ec)
	if err != nil || enc.KeyARN != md.Arn {
		t.Fatalf("Encrypt = %+v, %v", enc, err)
	}
	for _, tc := range []struct {
		name  string
		ctx   map[string]string
		keyID string
		code  string
	}{
		{"same context", map[string]string{"shard": "0", "stream": "s"}, "", ""},
		{"same context, expected key", ec, md.Arn, ""},
		{"no context", nil, "", CodeInvalidCiphertext},
		{"other value", map[string]string{"stream": "s", "shard": "1"}, "", CodeInvalidCiphertext},
		{"extra pair", map[string]string{"stream": "s", "shard": "0", "x": ""}, "", CodeInvalidCiphertext},
		{"pairs shifted", map[string]string{"stream": "s", "shar": "d0"}, "", CodeInvalidCiphertext},
		{"another key expected", ec, other.KeyID, CodeIncorrectKey},
		{"unknown key expected", ec, "alias/none", CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := k.DecryptCiphertext(DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: tc.ctx, KeyID: tc.keyID})
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil || string(out.Plaintext) != "secret" || out.KeyARN != md.Arn {
				t.Fatalf("DecryptCiphertext = %+v, %v", out, err)
			}
		})
	}
	// An empty context is no context, as in AWS KMS.
	enc, _ = k.Encrypt(md.KeyID, []byte("x"), map[string]string{})
	if _, err := k.DecryptCiphertext(DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
		t.Fatal(err)
	}
	// A blob of Encrypt is not a data key.
	if _, err := k.Decrypt(context.Background(), enc.CiphertextBlob); !errors.Is(err, store.ErrKeyAccessDenied) {
		t.Fatalf("Decrypt of a 1-byte plaintext as a data key: %v", err)
	}
}

func TestCryptoValidation(t *testing.T) {
	k := open(t, t.TempDir(), newClock())
	md := createKey(t, k)
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"empty plaintext", func() error { _, err := k.Encrypt(md.KeyID, nil, nil); return err }, CodeValidation},
		{"4097 bytes", func() error { _, err := k.Encrypt(md.KeyID, make([]byte, 4097), nil); return err }, CodeValidation},
		{"4096 bytes", func() error { _, err := k.Encrypt(md.KeyID, make([]byte, 4096), nil); return err }, ""},
		{"neither spec nor bytes", func() error { _, err := k.NewDataKey(GenerateDataKeyInput{KeyID: md.KeyID}); return err }, CodeValidation},
		{"spec and bytes", func() error {
			_, err := k.NewDataKey(GenerateDataKeyInput{KeyID: md.KeyID, KeySpec: "AES_256", NumberOfBytes: 32})
			return err
		}, CodeValidation},
		{"bad spec", func() error {
			_, err := k.NewDataKey(GenerateDataKeyInput{KeyID: md.KeyID, KeySpec: "AES_512"})
			return err
		}, CodeValidation},
		{"1025 bytes", func() error {
			_, err := k.NewDataKey(GenerateDataKeyInput{KeyID: md.KeyID, NumberOfBytes: 1025})
			return err
		}, CodeValidation},
		{"asymmetric key", func() error { _, err := k.CreateKey(CreateKeyInput{KeySpec: "RSA_2048"}); return err }, CodeUnsupportedOperation},
		{"aws: tag", func() error { return k.TagResource(md.KeyID, []Tag{{"aws:x", "y"}}) }, CodeTag},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tc.code)
		})
	}
	for _, tc := range []struct {
		spec string
		n    int
		want int
	}{{"AES_256", 0, 32}, {"AES_128", 0, 16}, {"", 1, 1}, {"", 1024, 1024}} {
		out, err := k.NewDataKey(GenerateDataKeyInput{KeyID: md.KeyID, KeySpec: tc.spec, NumberOfBytes: tc.n})
		if err != nil || len(out.Plaintext) != tc.want {
			t.Fatalf("NewDataKey(%q, %d) = %d bytes, %v; want %d", tc.spec, tc.n, len(out.Plaintext), err, tc.want)
		}
		dec, err := k.DecryptCiphertext(DecryptInput{CiphertextBlob: out.CiphertextBlob})
		if err != nil || !bytes.Equal(dec.Plaintext, out.Plaintext) {
			t.Fatalf("DecryptCiphertext of a %d-byte data key: %v", tc.want, err)
		}
	}
}

func TestTagsAndReEncrypt(t *testing.T) {
	k := open(t, t.TempDir(), newClock())
	a, b := createKey(t, k), createKey(t, k)
	if err := k.TagResource(a.KeyID, []Tag{{"b", "2"}, {"a", "1"}}); err != nil {
		t.Fatal(err)
	}
	if err := k.UntagResource(a.KeyID, []string{"b"}); err != nil {
		t.Fatal(err)
	}
	if tags, _ := k.ListResourceTags(a.KeyID); !reflect.DeepEqual(tags, []Tag{{"a", "1"}}) {
		t.Fatalf("tags %+v", tags)
	}
	enc, _ := k.Encrypt(a.KeyID, []byte("p"), map[string]string{"c": "1"})
	re, err := k.ReEncrypt(ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: map[string]string{"c": "1"}, DestinationKeyID: b.KeyID})
	if err != nil || re.SourceKeyARN != a.Arn || re.KeyARN != b.Arn {
		t.Fatalf("ReEncrypt = %+v, %v", re, err)
	}
	if dec, err := k.DecryptCiphertext(DecryptInput{CiphertextBlob: re.CiphertextBlob, KeyID: b.KeyID}); err != nil || string(dec.Plaintext) != "p" {
		t.Fatalf("decrypt of the re-encrypted blob: %v", err)
	}
}

// FuzzDecrypt: no blob makes Decrypt panic, and whatever it accepts is a
// blob this keyring made.
func FuzzDecrypt(f *testing.F) {
	k, err := InMemory(region, account, WithLogger(quiet))
	if err != nil {
		f.Fatal(err)
	}
	md, _ := k.CreateKey(CreateKeyInput{})
	dk, _ := k.GenerateDataKey(context.Background(), md.KeyID)
	enc, _ := k.Encrypt(md.KeyID, []byte("hello"), nil)
	f.Add(dk.Wrapped)
	f.Add(enc.CiphertextBlob)
	f.Add([]byte{})
	f.Add([]byte{blobVersion})
	f.Add(dk.Wrapped[:blobOverhead])
	f.Add(bytes.Repeat([]byte{0xff}, 200))
	f.Fuzz(func(t *testing.T, blob []byte) {
		out, err := k.DecryptCiphertext(DecryptInput{CiphertextBlob: blob})
		if err == nil && !bytes.Equal(blob, dk.Wrapped) && !bytes.Equal(blob, enc.CiphertextBlob) && len(out.Plaintext) > 0 {
			// GCM makes a forgery of our blobs practically impossible.
			t.Fatalf("Decrypt accepted a blob it did not make: %x", blob)
		}
		if err != nil && !store.IsKeyError(err) {
			t.Fatalf("Decrypt error %v is not a key error", err)
		}
	})
}
