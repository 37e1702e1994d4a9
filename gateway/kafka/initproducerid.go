// InitProducerId (key 22), versions 0-4: gives an idempotent producer a new
// producer id at epoch 0. Ids come from a counter in the store's state area,
// advanced durably before the id is handed out, so an id is never given
// twice, even across crashes. As on a Kafka broker, a request without a
// transactional id always gets a fresh id: the v3+ ProducerID/ProducerEpoch
// fields (KIP-360 epoch bumps) matter only to transactional producers.
//
// Transactions are not supported (no transaction coordinator, and
// FindCoordinator/AddPartitionsToTxn/EndTxn are not advertised): a request
// with a transactional id gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED, a
// fatal error clients surface at once, rather than a retriable one they
// would loop on.
package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

func init() {
	register(API{Key: kmsg.InitProducerID, MinVersion: 0, MaxVersion: 4, Handle: handleInitProducerID})
}

func handleInitProducerID(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return Respond(resp), nil
	}
	// KIP-679: IDEMPOTENT_WRITE on the cluster, or WRITE on some topic.
	if !r.quietlyAuthorized(kmsg.ACLOperationIdempotentWrite, kmsg.ACLResourceTypeCluster, clusterName) && !r.mayWriteSomeTopic() {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return Respond(resp), nil
	}
	id, err := r.Server.pids.next(ctx)
	if err != nil {
		r.Server.log.Error("kafka: allocating a producer id failed", "err", err)
		resp.ErrorCode = errorCode(err)
		return Respond(resp), nil
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return Respond(resp), nil
}

// pidAllocator hands out producer ids from a durable counter.
type pidAllocator struct {
	s  *Server
	mu sync.Mutex
	n  int64 // the next id; 0 until loaded
}

const (
	pidNamespace = "kafka"
	pidKey       = "producer.id.next"
)

// next allocates an id.
func (a *pidAllocator) next(ctx context.Context) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n <= 0 {
		v, err := a.s.store.Get(ctx, pidNamespace, pidKey)
		switch {
		case errors.Is(err, store.ErrNotFound):
			a.n = 1 // 0 is valid in Kafka, but 1 reads better in logs
		case err != nil:
			return 0, err
		case len(v) != 8:
			return 0, errors.New("kafka: corrupt producer id counter")
		default:
			a.n = int64(binary.BigEndian.Uint64(v))
		}
	}
	id := a.n
	v := binary.BigEndian.AppendUint64(nil, uint64(id+1))
	if err := a.s.store.Update(ctx, store.KV{Namespace: pidNamespace, Key: pidKey, Value: v}); err != nil {
		return 0, err
	}
	a.n = id + 1
	return id, nil
}
