package kafka

import (
	"context"
	"errors"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streambridge/bridge/store"
)

// offloadJobs keeps the records of checked jobs that are over their
// topic's threshold as objects (gateway/payloads), before any append
// starts: objects first, then the records pointing to them. A request
// carrying several partitions' large records (a producer's batches for
// every partition it leads) writes their objects side by side, each
// waiting for its own fsync, rather than one after another; the appends
// then start in request order all the same.
func (s *Server) offloadJobs(ctx context.Context, jobs []produceJob) {
	var large []*produceJob
	for i := range jobs {
		if j := &jobs[i]; j.err == nil && s.cfg.Offload.MayOffload(j.st, j.records) {
			large = append(large, j)
		}
	}
	if len(large) == 1 {
		s.offloadJob(ctx, large[0])
		return
	}
	var wg sync.WaitGroup
	for _, j := range large {
		wg.Go(func() { s.offloadJob(ctx, j) })
	}
	wg.Wait()
}

func (s *Server) offloadJob(ctx context.Context, j *produceJob) {
	batch, refs, err := s.cfg.Offload.Batch(ctx, j.st, j.rp.Partition, j.records)
	switch {
	case err == nil:
		j.records, j.refs = batch, refs
	case errors.Is(err, store.ErrInvalidArgument):
		j.err = refuse(kerr.CorruptMessage, "%v", err)
	default:
		s.log.Warn("produce: offloading a large record failed", "topic", j.st.Name, "partition", j.rp.Partition, "err", err)
		j.err = refuse(kerr.KafkaStorageError, "offloading a large record failed: %v", err)
	}
}
