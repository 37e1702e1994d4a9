package embedded

import (
	"context"
	"fmt"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/store"
)

// SplitShard splits an open shard at a hash key (Kinesis SplitShard).
func (s *Store) SplitShard(ctx context.Context, name string, shard int, at mapping.HashKey) (store.Stream, error) {
	return s.reshape(ctx, name, "split", func(cur *store.Stream, end func(int32) int64) (store.Stream, error) {
		return cur.Split(shard, at, end)
	})
}

// MergeShards merges two adjacent open shards (Kinesis MergeShards).
func (s *Store) MergeShards(ctx context.Context, name string, shard, adjacent int) (store.Stream, error) {
	return s.reshape(ctx, name, "merge", func(cur *store.Stream, end func(int32) int64) (store.Stream, error) {
		return cur.Merge(shard, adjacent, end)
	})
}

// UpdateShardCount reshards to target shards splitting the hash space evenly
// (Kinesis UpdateShardCount, UNIFORM_SCALING).
func (s *Store) UpdateShardCount(ctx context.Context, name string, target int) (store.Stream, error) {
	return s.reshape(ctx, name, "scale", func(cur *store.Stream, end func(int32) int64) (store.Stream, error) {
		return cur.ScaleUniformly(target, end)
	})
}

// GrowPartitions splits shards until the stream has total partitions (Kafka
// CreatePartitions).
func (s *Store) GrowPartitions(ctx context.Context, name string, total int) (store.Stream, error) {
	return s.reshape(ctx, name, "grow", func(cur *store.Stream, end func(int32) int64) (store.Stream, error) {
		return cur.GrowPartitions(total, end)
	})
}

// reshape changes a stream's layout with every partition locked, so each
// closed shard ends exactly at its partition's next offset and no append
// lands on a shard the new layout closes.
func (s *Store) reshape(ctx context.Context, name, op string, change func(*store.Stream, func(int32) int64) (store.Stream, error)) (store.Stream, error) {
	if err := s.enter(); err != nil {
		return store.Stream{}, err
	}
	defer s.exit()
	st, err := s.stream(name)
	if err != nil {
		return store.Stream{}, err
	}
	st.changeMu.Lock()
	defer st.changeMu.Unlock()
	unlock := st.lockAll()
	defer unlock()
	if st.deleted.Load() {
		return store.Stream{}, fmt.Errorf("%w: %s", store.ErrStreamNotFound, name)
	}
	parts := *st.parts.Load()
	end := func(p int32) int64 {
		if int(p) < len(parts) {
			return parts[p].next
		}
		return 0 // created by this very change: still empty
	}
	next, err := change(st.layout.Load(), end)
	if err != nil {
		return store.Stream{}, err
	}
	if err := s.persist(st, &next, nil); err != nil {
		return store.Stream{}, err
	}
	grown := append([]*partition(nil), parts...)
	for i := len(parts); i < len(next.Partitions); i++ {
		p := newPartition(st.id, int32(i))
		p.maxTimestamp = -1
		grown = append(grown, p)
	}
	for i, p := range next.Partitions {
		grown[i].retired = p.Retired // held locked above for i < len(parts)
	}
	st.parts.Store(&grown)
	s.tail.partitions.Add(int64(len(grown) - len(parts)))
	st.publish(&next)
	for _, p := range parts {
		p.wake() // readers waiting on a shard this closed look again
	}
	s.log.Info("stream resharded", "stream", name, "op", op,
		"open_shards", len(next.OpenShards()), "partitions", len(next.Partitions))
	return next.Clone(), nil
}
