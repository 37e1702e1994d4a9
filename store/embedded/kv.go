package embedded

import (
	"context"
	"errors"

	"github.com/cockroachdb/pebble/v2"

	"github.com/streambridge/bridge/store"
)

// The state area holds gateway state (committed offsets, producer ids,
// connector offsets) next to the records, so one commit can cover both (see
// store.AppendOptions.State). Keys live in namespaces; a namespace must not
// contain a zero byte.

// Get returns a copy of the value under namespace and key, or
// store.ErrNotFound.
func (s *Store) Get(ctx context.Context, namespace, key string) ([]byte, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.exit()
	v, closer, err := s.db.Get(stateKey(namespace, key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return append([]byte{}, v...), nil
}

// Update applies writes atomically and durably; a nil Value deletes.
func (s *Store) Update(ctx context.Context, writes ...store.KV) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	b := s.db.NewBatch()
	defer b.Close()
	for _, w := range writes {
		if w.Value == nil {
			_ = b.Delete(stateKey(w.Namespace, w.Key), nil)
		} else {
			_ = b.Set(stateKey(w.Namespace, w.Key), w.Value, nil)
		}
	}
	return b.Commit(s.syncOpts())
}

// StartUpdate applies writes atomically, in call order, and returns
// without waiting for the sync (store.State).
func (s *Store) StartUpdate(ctx context.Context, writes ...store.KV) (store.PendingUpdate, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	b := s.db.NewBatch()
	for _, w := range writes {
		if w.Value == nil {
			_ = b.Delete(stateKey(w.Namespace, w.Key), nil)
		} else {
			_ = b.Set(stateKey(w.Namespace, w.Key), w.Value, nil)
		}
	}
	var err error
	if s.noWAL {
		err = s.db.Apply(b, pebble.NoSync)
	} else {
		err = s.db.ApplyNoSyncWait(b, pebble.Sync)
	}
	if err != nil {
		b.Close()
		s.exit()
		return nil, err
	}
	return &pendingUpdate{s: s, b: b}, nil
}

// pendingUpdate holds the store open (its enter) until Wait.
type pendingUpdate struct {
	s *Store
	b *pebble.Batch
}

func (pu *pendingUpdate) Wait() error {
	defer pu.s.exit()
	var err error
	if !pu.s.noWAL {
		err = pu.b.SyncWait()
	}
	pu.b.Close()
	if err != nil {
		pu.s.log.Error("store: WAL sync failed", "err", err)
	}
	return err
}

// Scan calls fn for each key of namespace starting with prefix, in key order,
// until fn returns an error, which Scan returns. Values are valid only during
// the call.
func (s *Store) Scan(ctx context.Context, namespace, prefix string, fn func(key string, value []byte) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	from := stateKey(namespace, prefix)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: from, UpperBound: prefixEnd(from)})
	if err != nil {
		return err
	}
	defer it.Close()
	skip := len(stateKey(namespace, ""))
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := fn(string(it.Key()[skip:]), v); err != nil {
			return err
		}
	}
	return it.Error()
}

// DeletePrefix deletes, durably, every key of namespace starting with
// prefix: the state a front end kept for something that is gone.
func (s *Store) DeletePrefix(ctx context.Context, namespace, prefix string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	from := stateKey(namespace, prefix)
	b := s.db.NewBatch()
	defer b.Close()
	_ = b.DeleteRange(from, prefixEnd(from), nil)
	return b.Commit(s.syncOpts())
}
