// Stream status: ACTIVE, CREATING, UPDATING or DELETING.
//
// AWS takes seconds to minutes to create, reshard or delete a stream and
// reports the state meanwhile; clients poll DescribeStream (the SDK waiters
// StreamExists and StreamNotExists do) until it settles. The bridge does the
// work at once, and with Config.StateDelay (--kinesis-state-delay) above zero
// it reports the transitional status for that long, so waiters and the
// "ResourceInUseException ... not ACTIVE" paths of clients get exercised.
//
// The status lives in the stream's Config (cfgStatus, and cfgStatusUntil in
// Unix milliseconds) and is evaluated against the handler's clock on every
// read, so it survives a restart and needs no timer to end. The one timer is
// for DELETING: the stream goes from the store once its delay is over (also
// done lazily by any lookup or ListStreams that finds it overdue).
//
// Differences from AWS: the change itself (a split, a merge, new shards) is
// visible at once, while the status still says UPDATING; AWS shows the new
// shards when the stream is ACTIVE again. Records keep flowing either way.
package kinesis

import (
	"context"
	"strconv"
	"time"

	"github.com/streambridge/bridge/store"
)

// The stream statuses of the API.
const (
	statusCreating = "CREATING"
	statusDeleting = "DELETING"
	statusActive   = "ACTIVE"
	statusUpdating = "UPDATING"
)

// recordedStatus returns the transitional status recorded on st and whether
// its delay is still running at now. An empty status means none recorded.
func (h *Handler) recordedStatus(st store.Stream) (status string, running bool) {
	status = st.Config[cfgStatus]
	if status == "" {
		return "", false
	}
	until, err := strconv.ParseInt(st.Config[cfgStatusUntil], 10, 64)
	if err != nil {
		return status, false
	}
	return status, h.now().UnixMilli() < until
}

// lookupStream returns a stream and its current status. A stream whose
// DELETING delay is over is deleted now and reported as not found.
func (h *Handler) lookupStream(ctx context.Context, name string) (store.Stream, string, error) {
	st, err := h.store.DescribeStream(ctx, name)
	if err != nil {
		return store.Stream{}, "", h.storeError(name, err)
	}
	status, running := h.recordedStatus(st)
	switch {
	case status == statusDeleting && !running:
		h.finishDelete(ctx, name)
		return store.Stream{}, "", h.streamNotFound(name)
	case status == "" || !running:
		return st, statusActive, nil
	}
	return st, status, nil
}

// requireActive returns the stream when it is ACTIVE, and AWS's
// ResourceInUseException otherwise: what control operations (resharding,
// retention, encryption, consumers) answer while a stream is changing.
func (h *Handler) requireActive(ctx context.Context, name string) (store.Stream, error) {
	st, status, err := h.lookupStream(ctx, name)
	if err != nil {
		return store.Stream{}, err
	}
	if status != statusActive {
		return store.Stream{}, h.notActive(name, status)
	}
	return st, nil
}

// notActive is AWS's message for an operation on a stream that is changing.
func (h *Handler) notActive(name, status string) *Error {
	return resourceInUse("Stream %s under account %s not ACTIVE, instead in state %s", name, h.cfg.Account, status)
}

// streamForData returns the stream for the data plane (PutRecord(s),
// GetShardIterator, GetRecords, SubscribeToShard): AWS answers
// ResourceNotFoundException while a stream is CREATING or DELETING and
// serves it while UPDATING.
func (h *Handler) streamForData(ctx context.Context, name string) (store.Stream, error) {
	st, status, err := h.lookupStream(ctx, name)
	if err != nil {
		return store.Stream{}, err
	}
	if status == statusCreating || status == statusDeleting {
		return store.Stream{}, h.streamNotFound(name)
	}
	return st, nil
}

// markStatus records status on st (a copy being changed) for the state
// delay; with no delay it clears any recorded status.
func (h *Handler) markStatus(st *store.Stream, status string) {
	if h.cfg.StateDelay <= 0 || status == statusActive {
		delete(st.Config, cfgStatus)
		delete(st.Config, cfgStatusUntil)
		return
	}
	if st.Config == nil {
		st.Config = map[string]string{}
	}
	st.Config[cfgStatus] = status
	st.Config[cfgStatusUntil] = strconv.FormatInt(h.now().Add(h.cfg.StateDelay).UnixMilli(), 10)
}

// scheduleDelete deletes a DELETING stream once its delay is over.
func (h *Handler) scheduleDelete(name string, after time.Duration) {
	time.AfterFunc(after, func() { h.finishDelete(context.Background(), name) })
}

// finishDelete deletes a stream whose DELETING delay is over, with its
// consumers. A stream re-created meanwhile (not DELETING) stays; a delay
// not yet over (a clock behind the timer) is waited for again.
func (h *Handler) finishDelete(ctx context.Context, name string) {
	st, err := h.store.DescribeStream(ctx, name)
	if err != nil {
		return
	}
	status, running := h.recordedStatus(st)
	if status != statusDeleting {
		return
	}
	if running {
		until, _ := strconv.ParseInt(st.Config[cfgStatusUntil], 10, 64)
		h.scheduleDelete(name, time.Duration(until-h.now().UnixMilli())*time.Millisecond)
		return
	}
	_ = h.deleteNow(ctx, name)
}

// deleteNow removes a stream and everything this API keeps about it.
func (h *Handler) deleteNow(ctx context.Context, name string) error {
	if err := h.store.DeleteStream(ctx, name); err != nil {
		return err
	}
	if err := h.store.DeletePrefix(ctx, consumerNamespace, consumerKeyPrefix(name)); err != nil {
		h.log.Error("kinesis: dropping consumers of a deleted stream", "stream", name, "err", err)
	}
	return nil
}
