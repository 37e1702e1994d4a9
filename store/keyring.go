package store

import (
	"context"
	"errors"
)

// Encryption is a stream's encryption at rest. The zero value stores new
// records in the clear.
type Encryption struct {
	// KeyID names the KMS key that wraps the stream's data keys, as the
	// user gave it: a key id, a key ARN, an alias name ("alias/aws/kinesis")
	// or an alias ARN. Empty: new records are not encrypted. Records
	// written under an earlier key (or none) stay readable, each with the
	// key it was written under.
	KeyID string `json:"keyId,omitempty"`
}

// Enabled reports whether new records are encrypted.
func (e Encryption) Enabled() bool { return e.KeyID != "" }

// Keyring hands out data keys the way AWS KMS's GenerateDataKey and Decrypt
// do: a backend encrypting records at rest keeps only the wrapped form of a
// data key next to the records, and asks the keyring to unwrap it when it
// reads them. Implementations are safe for concurrent use.
//
// Errors match ErrKeyNotFound, ErrKeyDisabled, ErrKeyInvalidState or
// ErrKeyAccessDenied with errors.Is, so front ends can answer with their
// protocol's codes (Kinesis's KMSNotFoundException, ...).
type Keyring interface {
	// GenerateDataKey returns a new 256-bit data key, in the clear and
	// wrapped under the KMS key keyID names.
	GenerateDataKey(ctx context.Context, keyID string) (DataKey, error)
	// Decrypt unwraps a data key that GenerateDataKey wrapped.
	Decrypt(ctx context.Context, wrapped []byte) (DataKey, error)
	// Generation changes whenever a key changes state (rotated, disabled,
	// enabled, deleted): a backend caching unwrapped data keys drops them
	// and asks again, so a disabled key stops reads and writes at once and
	// a rotated key wraps the next data key.
	Generation() uint64
}

// DataKey is a data key in the clear and wrapped.
type DataKey struct {
	Plaintext []byte // 32 bytes, AES-256
	Wrapped   []byte // opaque; names the KMS key and its key material
	KeyARN    string // the ARN of the KMS key that wraps it
}

// Errors of encryption at rest.
var (
	// ErrKeyNotFound: no such KMS key or alias (never created, or deleted).
	ErrKeyNotFound = errors.New("KMS key not found")
	// ErrKeyDisabled: the KMS key exists but is disabled.
	ErrKeyDisabled = errors.New("KMS key is disabled")
	// ErrKeyInvalidState: the KMS key cannot be used in its state (pending
	// deletion, say).
	ErrKeyInvalidState = errors.New("KMS key is in an invalid state")
	// ErrKeyAccessDenied: the key refused to unwrap a data key (its key
	// material differs from the one that wrapped it: a different keyring)
	// or to decrypt a record (the record or its data key was tampered with).
	ErrKeyAccessDenied = errors.New("KMS key cannot decrypt this data")
	// ErrNoKeyring: encryption was asked of a store that has no keyring.
	ErrNoKeyring = errors.New("no keyring configured: records cannot be encrypted or decrypted")
)

// IsKeyError reports whether err is one of the errors of encryption at rest.
func IsKeyError(err error) bool {
	for _, target := range []error{ErrKeyNotFound, ErrKeyDisabled, ErrKeyInvalidState, ErrKeyAccessDenied, ErrNoKeyring} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
