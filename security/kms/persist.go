package kms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// fileVersion is the version of the keyring file's layout.
const fileVersion = 1

// file is the keyring file's content.
type file struct {
	Version int      `json:"version"`
	Keys    []*key   `json:"keys"`
	Aliases []*alias `json:"aliases"`
}

// load reads the keyring file, if there is one.
func (k *Keyring) load() error {
	data, err := os.ReadFile(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kms: read keyring: %w", err)
	}
	if err := k.decode(data); err != nil {
		return fmt.Errorf("kms: keyring %s is corrupt: %w", k.path, err)
	}
	k.saved = data
	k.scheduleLocked()
	return nil
}

// decode replaces the keys and aliases with data's, after checking that
// every key can be used and every alias names a key.
func (k *Keyring) decode(data []byte) error {
	var f file
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the keyring")
	}
	if f.Version != fileVersion {
		return fmt.Errorf("version %d, want %d", f.Version, fileVersion)
	}
	keys := make(map[string]*key, len(f.Keys))
	for _, ky := range f.Keys {
		if err := checkKey(ky); err != nil {
			return err
		}
		if keys[ky.ID] != nil {
			return fmt.Errorf("key %s twice", ky.ID)
		}
		keys[ky.ID] = ky
	}
	aliases := make(map[string]*alias, len(f.Aliases))
	for _, a := range f.Aliases {
		switch {
		case a == nil || !validAliasName(a.Name):
			return fmt.Errorf("an alias with an invalid name")
		case aliases[a.Name] != nil:
			return fmt.Errorf("alias %s twice", a.Name)
		case keys[a.TargetKeyID] == nil:
			return fmt.Errorf("alias %s names no key", a.Name)
		}
		aliases[a.Name] = a
	}
	k.keys, k.aliases = keys, aliases
	return nil
}

func checkKey(ky *key) error {
	if ky == nil || !isKeyID(ky.ID) {
		return errors.New("a key with an invalid key id")
	}
	switch {
	case ky.State != StateEnabled && ky.State != StateDisabled && ky.State != StatePendingDeletion:
		return fmt.Errorf("key %s: state %q", ky.ID, ky.State)
	case ky.State == StatePendingDeletion && ky.DeletionDate.IsZero():
		return fmt.Errorf("key %s: pending deletion without a deletion date", ky.ID)
	case ky.Manager != ManagerAWS && ky.Manager != ManagerCustomer:
		return fmt.Errorf("key %s: key manager %q", ky.ID, ky.Manager)
	case ky.RotationEnabled && (ky.RotationPeriodInDays < MinRotationPeriodDays || ky.RotationPeriodInDays > MaxRotationPeriodDays || ky.NextRotation.IsZero()):
		return fmt.Errorf("key %s: rotation period %d days, next rotation %v", ky.ID, ky.RotationPeriodInDays, ky.NextRotation)
	case len(ky.Materials) == 0:
		return fmt.Errorf("key %s: no key material", ky.ID)
	}
	for i, m := range ky.Materials {
		if m == nil || len(m.Key) != 32 || len(m.ID) != 64 || !isHex(m.ID) {
			return fmt.Errorf("key %s: key material %d is invalid", ky.ID, i)
		}
		if slices.IndexFunc(ky.Materials[:i], func(o *material) bool { return o.ID == m.ID }) >= 0 {
			return fmt.Errorf("key %s: key material %s twice", ky.ID, m.ID)
		}
	}
	return nil
}

func isHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// encodeLocked is the keyring file's content: keys by id and aliases by
// name, so the file changes only where the keyring did.
func (k *Keyring) encodeLocked() ([]byte, error) {
	f := file{Version: fileVersion, Keys: k.sortedKeys(), Aliases: k.sortedAliases()}
	return json.MarshalIndent(f, "", "  ")
}

// saveLocked writes the keyring to its file; if the file cannot be
// written the keyring goes back to what the file holds, so what callers
// see is always what a restart would see.
func (k *Keyring) saveLocked() error {
	if k.path == "" {
		return nil
	}
	data, err := k.encodeLocked()
	if err == nil {
		err = writeFileSync(k.path, data)
	}
	if err != nil {
		k.restoreLocked()
		return &Error{Code: CodeInternal, Message: fmt.Sprintf("keyring not saved: %v", err)}
	}
	k.saved = data
	return nil
}

// restoreLocked undoes the changes since the last save.
func (k *Keyring) restoreLocked() {
	if k.saved == nil {
		k.keys, k.aliases = map[string]*key{}, map[string]*alias{}
	} else if err := k.decode(k.saved); err != nil {
		// What was written was checked when written: a bug.
		panic(fmt.Sprintf("kms: the keyring's own save does not decode: %v", err))
	}
	k.gen.Add(1)
	k.scheduleLocked()
}

// writeFileSync replaces path with data durably: a temporary file in the
// same directory (0600, as os.CreateTemp makes it), fsync, rename over
// path, fsync of the directory so the rename itself survives a crash.
func writeFileSync(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	err = errors.Join(err, f.Chmod(0o600), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// utc drops the monotonic reading and the location, so times compare and
// print as they will after a reload.
func utc(t time.Time) time.Time { return t.UTC().Round(0) }
