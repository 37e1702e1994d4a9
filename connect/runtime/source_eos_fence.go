package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// FenceProducers fences the producers of transactional ids, as Kafka's
// Admin.fenceProducers: an InitProducerId for each id bumps its epoch, so a
// producer still using it can neither write nor commit again, and the
// transaction it left open is aborted. Answers that mean "not yet" (the
// coordinator moving or loading, a transaction still ending) are retried
// until ctx is done.
func FenceProducers(ctx context.Context, cl *kgo.Client, ids []string) error {
	for _, id := range ids {
		if err := fenceOne(ctx, cl, id); err != nil {
			return fmt.Errorf("fencing transactional id %s: %w", id, err)
		}
	}
	return nil
}

func fenceOne(ctx context.Context, cl *kgo.Client, id string) error {
	delay := 10 * time.Millisecond
	for {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionalID = &id
		req.TransactionTimeoutMillis = int32(transactionTimeout / time.Millisecond)
		req.ProducerID, req.ProducerEpoch = -1, -1
		resp, err := req.RequestWith(ctx, cl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, kerr.ConcurrentTransactions), errors.Is(err, kerr.CoordinatorLoadInProgress),
			errors.Is(err, kerr.NotCoordinator), errors.Is(err, kerr.CoordinatorNotAvailable):
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}
