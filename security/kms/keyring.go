package kms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/store"
)

// AWS KMS's words for a key's state, manager, usage, spec, origin and a
// rotation's type.
const (
	StateEnabled         = "Enabled"
	StateDisabled        = "Disabled"
	StatePendingDeletion = "PendingDeletion"

	ManagerAWS      = "AWS"
	ManagerCustomer = "CUSTOMER"

	UsageEncryptDecrypt = "ENCRYPT_DECRYPT"
	SpecSymmetric       = "SYMMETRIC_DEFAULT"
	OriginAWSKMS        = "AWS_KMS"
	AlgorithmSymmetric  = "SYMMETRIC_DEFAULT"

	RotationAutomatic = "AUTOMATIC"
	RotationOnDemand  = "ON_DEMAND"
)

// Limits of AWS KMS the keyring keeps.
const (
	MinRotationPeriodDays     = 90
	MaxRotationPeriodDays     = 2560
	DefaultRotationPeriodDays = 365
	MinPendingWindowDays      = 7
	MaxPendingWindowDays      = 30
	DefaultPendingWindowDays  = 30
	// MaxOnDemandRotations is how many times RotateKeyOnDemand may rotate
	// one key, as in AWS KMS.
	MaxOnDemandRotations = 10
)

const day = 24 * time.Hour

// Keyring is a local KMS: keys, aliases and their key materials, kept in
// a file (or only in memory). It is safe for concurrent use.
type Keyring struct {
	path    string // "" for InMemory
	region  string
	account string
	now     func() time.Time
	log     *slog.Logger

	// gen is Generation(): read without the lock by the store's hot path.
	gen atomic.Uint64

	mu      sync.RWMutex
	keys    map[string]*key   // by key id
	aliases map[string]*alias // by name, "alias/..."
	// nextEvent is the earliest time a key rotates automatically or is
	// deleted: until then readers need no sweep and share the lock.
	nextEvent time.Time
	// saved is the file's content as last written, to undo a change the
	// file refused.
	saved []byte
}

var _ store.Keyring = (*Keyring)(nil)

// key is one KMS key as kept in the file.
type key struct {
	ID                   string            `json:"keyId"`
	Description          string            `json:"description,omitempty"`
	Created              time.Time         `json:"creationDate"`
	State                string            `json:"keyState"`
	DeletionDate         time.Time         `json:"deletionDate,omitzero"`
	PendingWindowInDays  int               `json:"pendingWindowInDays,omitempty"`
	Manager              string            `json:"keyManager"`
	RotationEnabled      bool              `json:"rotationEnabled,omitempty"`
	RotationPeriodInDays int               `json:"rotationPeriodInDays,omitempty"`
	NextRotation         time.Time         `json:"nextRotationDate,omitzero"`
	Tags                 map[string]string `json:"tags,omitempty"`
	Materials            []*material       `json:"materials"`
}

// material is one generation of a key's key material.
type material struct {
	// ID is 32 random bytes, in hex in the API (KMS's KeyMaterialId is
	// 64 hex digits) and raw in ciphertexts.
	ID           string    `json:"id"`
	Key          []byte    `json:"key"` // 32 bytes, AES-256
	Created      time.Time `json:"creationDate"`
	RotationType string    `json:"rotationType,omitempty"` // "" for the first
}

func (k *key) current() *material { return k.Materials[len(k.Materials)-1] }

func (k *key) material(id string) *material {
	for _, m := range k.Materials {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// alias names a key.
type alias struct {
	Name        string    `json:"aliasName"`
	TargetKeyID string    `json:"targetKeyId"`
	Created     time.Time `json:"creationDate"`
	LastUpdated time.Time `json:"lastUpdatedDate"`
}

// Option configures Open and InMemory.
type Option func(*Keyring)

// WithClock sets the clock rotation and deletion dates are computed with
// (tests move it forward).
func WithClock(now func() time.Time) Option { return func(k *Keyring) { k.now = now } }

// WithLogger sets where rotations and deletions are logged.
func WithLogger(l *slog.Logger) Option { return func(k *Keyring) { k.log = l } }

func newKeyring(path, region, account string, opts []Option) (*Keyring, error) {
	if region == "" || account == "" {
		return nil, fmt.Errorf("kms: a keyring needs a region and an account for its ARNs")
	}
	k := &Keyring{
		path: path, region: region, account: account,
		now: time.Now, log: slog.Default(),
		keys: map[string]*key{}, aliases: map[string]*alias{},
	}
	for _, o := range opts {
		o(k)
	}
	k.gen.Store(1)
	return k, nil
}

// Open loads the keyring kept at path, a JSON file. A missing file is an
// empty keyring, written (mode 0600) at the first change; a file that does
// not parse is an error, never an empty keyring, since that would make
// every encrypted record unreadable. region and account make the ARNs:
// arn:aws:kms:REGION:ACCOUNT:key/ID and arn:aws:kms:REGION:ACCOUNT:alias/NAME.
// Keys due for automatic rotation are rotated, and keys whose deletion
// date has passed are deleted, before Open returns.
func Open(path, region, account string, opts ...Option) (*Keyring, error) {
	if path == "" {
		return nil, fmt.Errorf("kms: no keyring path")
	}
	k, err := newKeyring(path, region, account, opts)
	if err != nil {
		return nil, err
	}
	if err := k.load(); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.sweepLocked(); err != nil {
		return nil, err
	}
	return k, nil
}

// InMemory returns an empty keyring that is never written: for tests and
// --in-memory, where the records it protects do not outlive it either.
func InMemory(region, account string, opts ...Option) (*Keyring, error) {
	return newKeyring("", region, account, opts)
}

// Generation changes whenever a key changes state or an alias changes
// target: a store caching unwrapped data keys drops them (store.Keyring).
func (k *Keyring) Generation() uint64 { return k.gen.Load() }

// Region is the region the keyring's ARNs carry.
func (k *Keyring) Region() string { return k.region }

// Account is the account the keyring's ARNs carry.
func (k *Keyring) Account() string { return k.account }

// KeyARN is the ARN of the key with id.
func (k *Keyring) KeyARN(id string) string {
	return "arn:aws:kms:" + k.region + ":" + k.account + ":key/" + id
}

// AliasARN is the ARN of the alias name ("alias/...").
func (k *Keyring) AliasARN(name string) string {
	return "arn:aws:kms:" + k.region + ":" + k.account + ":" + name
}

// GenerateDataKey returns a new 256-bit data key, in the clear and wrapped
// under the current key material of the key keyID names (store.Keyring).
func (k *Keyring) GenerateDataKey(ctx context.Context, keyID string) (store.DataKey, error) {
	if err := ctx.Err(); err != nil {
		return store.DataKey{}, err
	}
	out, err := k.NewDataKey(GenerateDataKeyInput{KeyID: keyID, KeySpec: "AES_256"})
	if err != nil {
		return store.DataKey{}, err
	}
	return store.DataKey{Plaintext: out.Plaintext, Wrapped: out.CiphertextBlob, KeyARN: out.KeyARN}, nil
}

// Decrypt unwraps a data key GenerateDataKey wrapped (store.Keyring).
func (k *Keyring) Decrypt(ctx context.Context, wrapped []byte) (store.DataKey, error) {
	if err := ctx.Err(); err != nil {
		return store.DataKey{}, err
	}
	out, err := k.DecryptCiphertext(DecryptInput{CiphertextBlob: wrapped})
	if err != nil {
		return store.DataKey{}, err
	}
	if len(out.Plaintext) != 32 {
		// A ciphertext of Encrypt, not a data key: refused rather than
		// handed to AES as a key of the wrong size.
		return store.DataKey{}, errInvalidCiphertext()
	}
	return store.DataKey{Plaintext: out.Plaintext, Wrapped: wrapped, KeyARN: out.KeyARN}, nil
}

// read runs fn under the read lock, or under the write lock after a sweep
// when a rotation or deletion is due, so fn sees the keyring as of now.
func (k *Keyring) read(fn func() error) error {
	k.mu.RLock()
	if now := k.now(); k.nextEvent.IsZero() || now.Before(k.nextEvent) {
		defer k.mu.RUnlock()
		return fn()
	}
	k.mu.RUnlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.sweepLocked(); err != nil {
		return err
	}
	return fn()
}

// write runs fn under the write lock after a sweep, then saves the
// keyring if fn changed it (changed is set by fn), undoing the change if
// the file refuses it. fn validates before it changes anything.
func (k *Keyring) write(fn func() (changed bool, err error)) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.sweepLocked(); err != nil {
		return err
	}
	changed, err := fn()
	if changed {
		// A change made before a refusal (an AWS-managed key created by
		// its first use) is kept.
		if cerr := k.commitLocked(); cerr != nil {
			return cerr
		}
	}
	return err
}

// commitLocked saves the keyring and recomputes when the next sweep is due.
func (k *Keyring) commitLocked() error {
	if err := k.saveLocked(); err != nil {
		return err
	}
	k.scheduleLocked()
	return nil
}

// scheduleLocked recomputes when the next sweep is due.
func (k *Keyring) scheduleLocked() {
	k.nextEvent = time.Time{}
	for _, ky := range k.keys {
		if t := ky.nextEvent(); !t.IsZero() && (k.nextEvent.IsZero() || t.Before(k.nextEvent)) {
			k.nextEvent = t
		}
	}
}

// nextEvent is when the key rotates automatically or is deleted; zero for
// never.
func (ky *key) nextEvent() time.Time {
	switch {
	case ky.State == StatePendingDeletion:
		return ky.DeletionDate
	case ky.State == StateEnabled && ky.RotationEnabled:
		return ky.NextRotation
	}
	return time.Time{}
}

// sweepLocked applies what time has made due: deletes the keys whose
// deletion date has passed (and their aliases) and rotates the enabled
// keys whose next rotation date has passed. AWS does not rotate a
// disabled key; re-enabled, it rotates at the next use if overdue.
func (k *Keyring) sweepLocked() error {
	now := utc(k.now())
	changed := false
	for _, ky := range k.keys {
		switch t := ky.nextEvent(); {
		case t.IsZero() || now.Before(t):
		case ky.State == StatePendingDeletion:
			k.deleteLocked(ky)
			changed = true
		default:
			k.rotateLocked(ky, RotationAutomatic, now)
			ky.NextRotation = now.Add(time.Duration(ky.RotationPeriodInDays) * day)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return k.commitLocked()
}

func (k *Keyring) deleteLocked(ky *key) {
	delete(k.keys, ky.ID)
	for name, a := range k.aliases {
		if a.TargetKeyID == ky.ID {
			delete(k.aliases, name)
		}
	}
	k.gen.Add(1)
	k.log.Info("kms: key deleted", "key", k.KeyARN(ky.ID))
}

func (k *Keyring) rotateLocked(ky *key, rotationType string, now time.Time) {
	ky.Materials = append(ky.Materials, newMaterial(rotationType, now))
	k.gen.Add(1)
	k.log.Info("kms: key rotated", "key", k.KeyARN(ky.ID), "type", rotationType, "material", ky.current().ID)
}

func newMaterial(rotationType string, now time.Time) *material {
	var id [32]byte
	m := &material{Key: make([]byte, 32), Created: now.UTC(), RotationType: rotationType}
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails (Go 1.24+)
	_, _ = rand.Read(m.Key)
	m.ID = hex.EncodeToString(id[:])
	return m
}

// newKeyLocked adds a key with one key material.
func (k *Keyring) newKeyLocked(manager, description string, tags map[string]string) *key {
	now := utc(k.now())
	ky := &key{
		ID: uuid.NewString(), Description: description, Created: now,
		State: StateEnabled, Manager: manager, Tags: tags,
		Materials: []*material{newMaterial("", now)},
	}
	if manager == ManagerAWS {
		// AWS-managed keys rotate every year, and that cannot be changed.
		ky.RotationEnabled = true
		ky.RotationPeriodInDays = DefaultRotationPeriodDays
		ky.NextRotation = now.Add(DefaultRotationPeriodDays * day)
	}
	k.keys[ky.ID] = ky
	return ky
}

// resolve finds the key ref names: a key id, a key ARN, an alias name or
// an alias ARN; ARNs of another region or account name no key here. With
// create (under the write lock), an AWS-managed alias
// ("alias/aws/SERVICE") not yet in use creates its key, as AWS does when
// a service first uses it. changed reports that it did.
func (k *Keyring) resolve(ref string, create bool) (ky *key, changed bool, err error) {
	if ref == "" {
		return nil, false, errValidation("Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	name := ref
	if rest, ok := strings.CutPrefix(ref, "arn:"); ok {
		parts := strings.SplitN(rest, ":", 5)
		if len(parts) != 5 || parts[0] == "" || parts[1] != "kms" || parts[4] == "" {
			return nil, false, newError(CodeInvalidArn, "Invalid arn %s", ref)
		}
		if parts[0] != "aws" || parts[2] != k.region || parts[3] != k.account {
			if strings.HasPrefix(parts[4], "alias/") {
				return nil, false, errAliasNotFound(ref)
			}
			return nil, false, errKeyNotFound(ref)
		}
		switch {
		case strings.HasPrefix(parts[4], "key/"):
			id := strings.TrimPrefix(parts[4], "key/")
			if ky := k.keys[id]; ky != nil {
				return ky, false, nil
			}
			return nil, false, errKeyNotFound(ref)
		case strings.HasPrefix(parts[4], "alias/"):
			name = parts[4]
		default:
			return nil, false, newError(CodeInvalidArn, "Invalid arn %s", ref)
		}
	}
	if !strings.HasPrefix(name, "alias/") {
		if !isKeyID(name) {
			return nil, false, errInvalidKeyID(ref)
		}
		if ky := k.keys[name]; ky != nil {
			return ky, false, nil
		}
		return nil, false, errKeyNotFound(k.KeyARN(name))
	}
	if a := k.aliases[name]; a != nil {
		if ky := k.keys[a.TargetKeyID]; ky != nil {
			return ky, false, nil
		}
	}
	if create && isAWSAlias(name) && validAliasName(name) {
		service := strings.TrimPrefix(name, "alias/aws/")
		ky := k.newKeyLocked(ManagerAWS, "Default key that protects my "+service+" data when no other key is defined", nil)
		now := utc(k.now())
		k.aliases[name] = &alias{Name: name, TargetKeyID: ky.ID, Created: now, LastUpdated: now}
		k.log.Info("kms: AWS managed key created", "alias", name, "key", k.KeyARN(ky.ID))
		return ky, true, nil
	}
	return nil, false, errAliasNotFound(k.AliasARN(name))
}

// isKeyID reports whether s has a key id's form (a UUID).
func isKeyID(s string) bool {
	_, ok := parseKeyID(s)
	return ok
}

// parseKeyID reads a key id (a UUID) into its 16 bytes.
func parseKeyID(s string) ([16]byte, bool) {
	var b [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return b, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if strings.ToLower(h) != h {
		return b, false // one spelling per id, so ids compare as strings
	}
	if _, err := hex.Decode(b[:], []byte(h)); err != nil {
		return b, false
	}
	return b, true
}

func formatKeyID(b []byte) string {
	var u uuid.UUID
	copy(u[:], b)
	return u.String()
}

// usableLocked refuses a key that cannot encrypt or decrypt in its state.
func (k *Keyring) usableLocked(ky *key) error {
	switch ky.State {
	case StateDisabled:
		return errDisabled(k.KeyARN(ky.ID))
	case StatePendingDeletion:
		return errPendingDeletion(k.KeyARN(ky.ID))
	}
	return nil
}

// sortedKeys returns the keys sorted by id.
func (k *Keyring) sortedKeys() []*key {
	out := make([]*key, 0, len(k.keys))
	for _, ky := range k.keys {
		out = append(out, ky)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ResourceARN is the ARN an authorization decision about ref is made on:
// the ARN of the key ref names, or, when it names none (yet), the key or
// alias ARN its form gives, so a caller allowed nothing there is refused
// before being told the key does not exist; "" for a malformed ref. It
// creates nothing.
func (k *Keyring) ResourceARN(ref string) string {
	k.mu.RLock()
	ky, _, err := k.resolve(ref, false)
	k.mu.RUnlock()
	switch {
	case err == nil:
		return k.KeyARN(ky.ID)
	case strings.HasPrefix(ref, "arn:"):
		return ref
	case strings.HasPrefix(ref, "alias/"):
		return k.AliasARN(ref)
	case isKeyID(ref):
		return k.KeyARN(ref)
	}
	return ""
}

// CiphertextKeyARN is the ARN of the key a ciphertext blob names, whether
// or not that key exists; false when blob is not a ciphertext.
func (k *Keyring) CiphertextKeyARN(blob []byte) (string, bool) {
	h, ok := parseBlob(blob)
	if !ok {
		return "", false
	}
	return k.KeyARN(h.keyID), true
}
