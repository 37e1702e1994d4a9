// Package embedded is the default stream store: streams, shards and Kafka
// partitions kept in a local pebble database, durable on acknowledgement.
package embedded

import "errors"

// Store is an open embedded store. It is safe for concurrent use.
type Store struct{}

// Open opens (creating if needed) the store described by opts.
func Open(opts Options) (*Store, error) { return nil, errors.New("not implemented yet") }

// Close flushes and closes the store. Blocked readers return ErrClosed.
func (s *Store) Close() error { return nil }
