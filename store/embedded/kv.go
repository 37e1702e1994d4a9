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
