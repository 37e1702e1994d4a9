package embedded

// Encryption at rest.
//
// A stream whose store.Stream.Encryption names a KMS key stores its batches
// sealed with AES-256-GCM under a data key. Data keys come from the keyring
// (Options.Keyring, AWS KMS's GenerateDataKey), and only their wrapped form
// is stored, next to the records:
//
//	'e' id index   a data key of the stream (JSON dataKeyRecord)
//
// A sealed batch (the value of a 'd' key) is an envelope:
//
//	[0:8]    sealedMarker, the data key index (uint32): in place of the
//	         base offset, and negative read as one, which no stored plain
//	         batch has
//	[8:61]   the rest of the batch header in the clear: length, leader
//	         epoch, magic, CRC, attributes, last offset delta, timestamps,
//	         producer id and epoch, base sequence, record count
//	[61:73]  nonce (random)
//	[73:]    the records (batch bytes 61 on) sealed, tag last; the
//	         additional data is bytes [0:61], the stream id and partition
//
// The header stays readable so recovery, the time index, retention and
// recordbatch.Parse work without the key: offsets, counts and timestamps
// are metadata, the keys, values and headers of records are the data.
// Opening a batch puts the base offset back from its key, so readers get
// the producer's bytes exactly (its CRC still holds).
//
// Data keys change: when the process starts (the first sealed append makes
// one), when the stream's key changes, when the keyring's generation does
// (a key rotated, disabled, enabled or deleted), and after maxSealsPerKey
// batches (random 96-bit nonces are safe for 2^32 messages per key).
// Records keep the data key they were written with, so they stay readable
// after any of these, and after StopStreamEncryption. A data key that
// cannot be unwrapped (key missing, disabled, a different keyring) fails
// the read with the keyring's error, never with garbage.
//
// The tail cache holds batches in the clear; a read it answers still
// checks that the data keys of those batches can be unwrapped at the
// keyring's current generation, so disabling a key stops reads at once.

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

const (
	tagDataKey = 'e'

	sealedMarker0 = 0xFF // first byte of a sealed batch
	sealedMarker1 = 'E'
	sealedVersion = 1

	headerSize  = recordbatch.HeaderSize
	nonceSize   = 12
	tagSize     = 16
	sealedExtra = nonceSize + tagSize // what sealing adds to a batch

	// maxSealsPerKey bounds the batches sealed under one data key: NIST
	// SP 800-38D allows 2^32 with random nonces.
	maxSealsPerKey = 1 << 31
)

// noKey marks a batch stored in the clear.
const noKey = -1

// dataKeyRecord is a data key as stored: only its wrapped form.
type dataKeyRecord struct {
	KeyID   string    `json:"keyId"`  // the stream's KeyID when it was made
	KeyARN  string    `json:"keyArn"` // the KMS key that wraps it
	Wrapped []byte    `json:"wrapped"`
	Created time.Time `json:"created"`
}

// streamDataKey is an unwrapped data key of one stream.
type streamDataKey struct {
	index  uint32
	keyID  string // the stream's KeyID it seals for
	keyARN string
	gen    uint64 // the keyring generation it was made or unwrapped at
	aead   cipher.AEAD
	seals  atomic.Int64
}

// streamKeys is a stream's data keys in memory. mu is held across keyring
// calls and the synced commit of a new data key; it comes after changeMu
// and before the partition locks (UpdateStream makes a key under changeMu,
// appends under neither).
type streamKeys struct {
	mu      sync.Mutex
	sealing atomic.Pointer[streamDataKey] // seals new batches; nil until needed
	opened  map[uint32]*streamDataKey     // unwrapped for reading, at gen
	gen     uint64
	next    int64 // the next index, once loaded
	loaded  bool  // next was read from the store
}

func dataKeyKey(id uint64, index uint32) []byte {
	k := streamPrefix(tagDataKey, id)
	return binary.BigEndian.AppendUint32(k, index)
}

// sealedKeyIndex returns the data key index of a stored batch, or noKey for
// one stored in the clear.
func sealedKeyIndex(v []byte) int64 {
	if len(v) < headerSize+sealedExtra || v[0] != sealedMarker0 || v[1] != sealedMarker1 {
		return noKey
	}
	return int64(binary.BigEndian.Uint32(v[4:8]))
}

// sealAAD is the additional data of a sealed batch: its marker and clear
// header, bound to the stream and partition.
func sealAAD(envelopeHeader []byte, id uint64, partition int32) []byte {
	aad := make([]byte, 0, headerSize+12)
	aad = append(aad, envelopeHeader[:headerSize]...)
	aad = binary.BigEndian.AppendUint64(aad, id)
	return binary.BigEndian.AppendUint32(aad, uint32(partition))
}

// seal returns raw as the store keeps it: sealed when the stream is
// encrypted, with the data key index (noKey when not). raw is not
// modified; its base offset is not part of what is sealed, so sealing
// happens before the offset is assigned, outside the partition lock.
func (s *Store) seal(ctx context.Context, st *stream, p *partition, raw []byte) ([]byte, int64, error) {
	enc := st.layout.Load().Encryption
	if !enc.Enabled() {
		return raw, noKey, nil
	}
	if len(raw) < headerSize {
		return nil, noKey, fmt.Errorf("%w: batch shorter than its header", store.ErrInvalidArgument)
	}
	dk, err := s.sealingKey(ctx, st, enc.KeyID)
	if err != nil {
		return nil, noKey, err
	}
	out := make([]byte, headerSize+nonceSize, len(raw)+sealedExtra)
	out[0], out[1], out[2], out[3] = sealedMarker0, sealedMarker1, sealedVersion, 0
	binary.BigEndian.PutUint32(out[4:8], dk.index)
	copy(out[8:headerSize], raw[8:headerSize])
	nonce := out[headerSize : headerSize+nonceSize]
	_, _ = rand.Read(nonce)
	out = dk.aead.Seal(out, nonce, raw[headerSize:], sealAAD(out, st.id, p.number))
	return out, int64(dk.index), nil
}

// sealingKey returns the data key new batches of st are sealed with,
// making one when there is none fit for keyID.
func (s *Store) sealingKey(ctx context.Context, st *stream, keyID string) (*streamDataKey, error) {
	if s.keyring == nil {
		return nil, store.ErrNoKeyring
	}
	if dk := st.keys.sealing.Load(); dk != nil && s.fit(dk, keyID) && dk.seals.Add(1) <= maxSealsPerKey {
		return dk, nil
	}
	st.keys.mu.Lock()
	defer st.keys.mu.Unlock()
	if dk := st.keys.sealing.Load(); dk != nil && s.fit(dk, keyID) && dk.seals.Add(1) <= maxSealsPerKey {
		return dk, nil
	}
	dk, rec, err := s.newDataKey(ctx, st, keyID)
	if err != nil {
		return nil, err
	}
	if err := s.commitDataKey(st, dk, rec, nil); err != nil {
		return nil, err
	}
	dk.seals.Add(1)
	return dk, nil
}

func (s *Store) fit(dk *streamDataKey, keyID string) bool {
	return dk.keyID == keyID && dk.gen == s.keyring.Generation()
}

// newDataKey asks the keyring for a data key under keyID, numbered after
// st's last one. Callers hold st.keys.mu.
func (s *Store) newDataKey(ctx context.Context, st *stream, keyID string) (*streamDataKey, dataKeyRecord, error) {
	if s.keyring == nil {
		return nil, dataKeyRecord{}, store.ErrNoKeyring
	}
	if !st.keys.loaded {
		last, err := s.lastKey(streamPrefix(tagDataKey, st.id))
		if err != nil {
			return nil, dataKeyRecord{}, err
		}
		st.keys.next, st.keys.loaded = 0, true
		if last != nil {
			st.keys.next = int64(binary.BigEndian.Uint32(last.key[len(last.key)-4:])) + 1
		}
	}
	if st.keys.next > 1<<32-1 {
		return nil, dataKeyRecord{}, errors.New("store: the stream has used every data key index")
	}
	gen := s.keyring.Generation()
	k, err := s.keyring.GenerateDataKey(ctx, keyID)
	if err != nil {
		return nil, dataKeyRecord{}, err
	}
	aead, err := newAEAD(k.Plaintext)
	clear(k.Plaintext)
	if err != nil {
		return nil, dataKeyRecord{}, err
	}
	dk := &streamDataKey{index: uint32(st.keys.next), keyID: keyID, keyARN: k.KeyARN, gen: gen, aead: aead}
	return dk, dataKeyRecord{KeyID: keyID, KeyARN: k.KeyARN, Wrapped: k.Wrapped, Created: s.now().UTC()}, nil
}

// commitDataKey stores a new data key (in b when given, to commit with
// other writes; synced now otherwise) and makes it st's sealing key.
// Callers hold st.keys.mu.
func (s *Store) commitDataKey(st *stream, dk *streamDataKey, rec dataKeyRecord, b *pebble.Batch) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if b != nil {
		return b.Set(dataKeyKey(st.id, dk.index), v, nil)
	}
	if err := s.db.Set(dataKeyKey(st.id, dk.index), v, s.syncOpts()); err != nil {
		return err
	}
	s.installDataKey(st, dk)
	return nil
}

// installDataKey makes dk st's sealing key once it is stored. Callers hold
// st.keys.mu.
func (s *Store) installDataKey(st *stream, dk *streamDataKey) {
	st.keys.next = int64(dk.index) + 1
	if st.keys.gen != dk.gen || st.keys.opened == nil {
		st.keys.opened, st.keys.gen = map[uint32]*streamDataKey{}, dk.gen
	}
	st.keys.opened[dk.index] = dk
	st.keys.sealing.Store(dk)
	s.log.Info("data key created", "stream", st.layout.Load().Name, "index", dk.index, "kms_key", dk.keyARN)
}

// openingKey returns data key index of st, unwrapped at the keyring's
// current generation.
func (s *Store) openingKey(ctx context.Context, st *stream, index uint32) (*streamDataKey, error) {
	if s.keyring == nil {
		return nil, store.ErrNoKeyring
	}
	gen := s.keyring.Generation()
	st.keys.mu.Lock()
	defer st.keys.mu.Unlock()
	if st.keys.gen != gen || st.keys.opened == nil {
		st.keys.opened, st.keys.gen = map[uint32]*streamDataKey{}, gen
	}
	if dk := st.keys.opened[index]; dk != nil {
		return dk, nil
	}
	v, err := s.getCopy(dataKeyKey(st.id, index))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("store: data key %d of the stream is missing: %w", index, store.ErrKeyAccessDenied)
	}
	var rec dataKeyRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("store: corrupt data key %d: %w", index, err)
	}
	k, err := s.keyring.Decrypt(ctx, rec.Wrapped)
	if err != nil {
		return nil, fmt.Errorf("data key %d (KMS key %s): %w", index, rec.KeyARN, err)
	}
	aead, err := newAEAD(k.Plaintext)
	clear(k.Plaintext)
	if err != nil {
		return nil, err
	}
	dk := &streamDataKey{index: index, keyID: rec.KeyID, keyARN: rec.KeyARN, gen: gen, aead: aead}
	st.keys.opened[index] = dk
	return dk, nil
}

// open appends the stored batch v at base to dst, in the clear.
func (s *Store) open(ctx context.Context, st *stream, p *partition, base int64, v, dst []byte) ([]byte, error) {
	index := sealedKeyIndex(v)
	if index == noKey {
		return append(dst, v...), nil
	}
	dk, err := s.openingKey(ctx, st, uint32(index))
	if err != nil {
		return dst, fmt.Errorf("partition %d offset %d: %w", p.number, base, err)
	}
	n := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, uint64(base))
	dst = append(dst, v[8:headerSize]...)
	nonce := v[headerSize : headerSize+nonceSize]
	dst, err = dk.aead.Open(dst, nonce, v[headerSize+nonceSize:], sealAAD(v, st.id, p.number))
	if err != nil {
		return dst[:n], fmt.Errorf("partition %d offset %d: the batch does not authenticate under data key %d: %w", p.number, base, index, store.ErrKeyAccessDenied)
	}
	return dst, nil
}

// checkKeys fails when one of the data keys that sealed the cached
// batches of res cannot be unwrapped now (a tail cache answer holds
// batches in the clear).
func (s *Store) checkKeys(ctx context.Context, st *stream, p *partition, keys []int64, res store.ReadResult) error {
	for i, index := range keys {
		if index == noKey || (i > 0 && index == keys[i-1]) {
			continue // consecutive batches mostly share their data key
		}
		if _, err := s.openingKey(ctx, st, uint32(index)); err != nil {
			return fmt.Errorf("partition %d offset %d: %w", p.number, res.Batches[i].BaseOffset, err)
		}
	}
	return nil
}

// prepareEncryption makes the first data key of a stream whose encryption
// changes to enc (CreateStream, UpdateStream), so a key that cannot be used
// fails the change rather than the first append. The returned function
// stores it in the change's batch; install makes it current once the
// change is committed. Callers hold st.keys.mu.
func (s *Store) prepareEncryption(ctx context.Context, st *stream, enc store.Encryption) (write func(*pebble.Batch) error, install func(), err error) {
	if !enc.Enabled() {
		return nil, func() { st.keys.sealing.Store(nil) }, nil
	}
	dk, rec, err := s.newDataKey(ctx, st, enc.KeyID)
	if err != nil {
		return nil, nil, err
	}
	write = func(b *pebble.Batch) error { return s.commitDataKey(st, dk, rec, b) }
	return write, func() { s.installDataKey(st, dk) }, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("store: data key: %w", err)
	}
	return cipher.NewGCM(block)
}
