// Package seal signs the small tokens the bridge hands to clients and takes
// back later (Kinesis shard iterators, SQS receipt handles), so a client
// cannot forge or alter one. The signing key is made on first use and kept
// in the store's state area, so tokens stay valid across restarts.
package seal

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/streambridge/bridge/store"
)

// MACSize is the bytes a sealed token carries after its body: half an
// HMAC-SHA256, as forgery-proof as tokens that live minutes to days need.
const MACSize = 16

// Key seals and opens tokens with one key, kept under namespace and name
// in a store's state area. It is safe for concurrent use.
type Key struct {
	state     store.State
	namespace string
	name      string

	mu  sync.Mutex
	key []byte // nil until first use

	// macs holds keyed HMACs to reset and reuse: a new one hashes the key
	// twice more and allocates, for tokens of a few dozen bytes (every SQS
	// receive and delete makes or checks one per message).
	macs sync.Pool
}

// New returns the key kept under namespace and name in state.
func New(state store.State, namespace, name string) *Key {
	return &Key{state: state, namespace: namespace, name: name}
}

// Seal appends the MAC of body to body and returns the token.
func (k *Key) Seal(ctx context.Context, body []byte) ([]byte, error) {
	key, err := k.load(ctx)
	if err != nil {
		return nil, err
	}
	return append(body, k.mac(key, body)...), nil
}

// Open checks a token's MAC and returns its body; ok is false for a token
// this key did not seal (or that was changed since).
func (k *Key) Open(ctx context.Context, token []byte) (body []byte, ok bool, err error) {
	if len(token) < MACSize {
		return nil, false, nil
	}
	key, err := k.load(ctx)
	if err != nil {
		return nil, false, err
	}
	body = token[:len(token)-MACSize]
	return body, hmac.Equal(k.mac(key, body), token[len(body):]), nil
}

func (k *Key) mac(key, body []byte) []byte {
	m, ok := k.macs.Get().(hash.Hash)
	if !ok {
		m = hmac.New(sha256.New, key)
	}
	m.Write(body)
	sum := m.Sum(make([]byte, 0, sha256.Size))[:MACSize]
	m.Reset()
	k.macs.Put(m)
	return sum
}

// load returns the key, reading it from the state area, or making and
// storing one, on first use.
func (k *Key) load(ctx context.Context) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return k.key, nil
	}
	key, err := k.state.Get(ctx, k.namespace, k.name)
	if errors.Is(err, store.ErrNotFound) {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // never fails (crypto/rand documents it)
		err = k.state.Update(ctx, store.KV{Namespace: k.namespace, Key: k.name, Value: key})
	}
	if err != nil {
		return nil, fmt.Errorf("seal: key %s/%s: %w", k.namespace, k.name, err)
	}
	k.key = key
	return key, nil
}
