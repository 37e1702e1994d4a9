package kinesis

// SubscribeToShard (enhanced fan-out): records of one shard pushed to a
// registered consumer over one long response, as an event stream
// (eventstream.go) of SubscribeToShardEvent messages.
//
// The first message is the initial-response event, then one
// SubscribeToShardEvent per batch of records, sent as soon as the records
// are acknowledged: the subscription blocks on the store's Wait for the
// shard's partition, so a record put reaches the subscriber without either
// side polling. Each event carries Records, ContinuationSequenceNumber (the
// sequence number to resubscribe AFTER_SEQUENCE_NUMBER with) and
// MillisBehindLatest; at the end of a closed shard the last event has
// ChildShards and no ContinuationSequenceNumber, and the stream ends.
//
// A subscription ends after 5 minutes (AWS's lifetime; clients resubscribe
// from the ContinuationSequenceNumber), when the client goes away, at the
// shard's end, when the server shuts down (a clean end, so clients
// resubscribe to another instance), or with an exception message:
// ResourceNotFoundException when the stream or the consumer goes away,
// ResourceInUseException when a newer subscription of the same consumer to
// the same shard takes over.
//
// As in AWS, a second subscription of one consumer to one shard within 5
// seconds of the first one's start is refused with ResourceInUseException;
// after 5 seconds it takes over and the first one ends with that exception.
//
// Differences from AWS:
//   - An idle subscription sends an empty event every 5 seconds (AWS too
//     keeps ContinuationSequenceNumber moving while no data is written),
//     but only once it can name a record of the shard to continue after:
//     the bridge's sequence numbers are positions of records, so there is
//     no number to offer before the shard's first record, and resubscribing
//     from the original starting position is then right.
//   - A deregistered consumer's subscriptions end (ResourceNotFoundException)
//     at the next 5-second tick, not at once.
//   - A subscription whose predecessor already ended is accepted at once
//     (AWS may still answer ResourceInUseException for 5 seconds).
//   - With --kinesis-enforce-limits a subscription is paced to AWS's 2 MB/s
//     per consumer and shard; without it, it is not limited.

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/store"
)

func init() { registerStreaming("SubscribeToShard", subscribeToShard) }

// Subscription timing and sizes. AWS documents the 5-minute lifetime, the
// 5-second window in which a second subscription is refused and the 2 MB/s
// per consumer and shard.
const (
	subscriptionTakeover  = 5 * time.Second
	subscriptionHeartbeat = 5 * time.Second
	subscriptionRateBytes = 2 << 20 // per second, with EnforceLimits
	// subscriptionEventBytes bounds the data of one event: a second of the
	// enforced rate, small enough that a client decodes events as they come.
	subscriptionEventBytes = 2 << 20
)

// subscriptionLifetime is how long a subscription lasts (a variable for
// tests).
var subscriptionLifetime = 5 * time.Minute

// The ShardIteratorType values SubscribeToShard's StartingPosition takes.
const (
	positionAtSequence    = "AT_SEQUENCE_NUMBER"
	positionAfterSequence = "AFTER_SEQUENCE_NUMBER"
	positionTrimHorizon   = "TRIM_HORIZON"
	positionLatest        = "LATEST"
	positionAtTimestamp   = "AT_TIMESTAMP"
)

type subscribeToShardInput struct {
	ConsumerARN      *string               `json:"ConsumerARN,omitempty"`
	ShardId          *string               `json:"ShardId,omitempty"`
	StartingPosition *subscriptionPosition `json:"StartingPosition,omitempty"`
	DryRun           *bool                 `json:"DryRun,omitempty"`
	StreamId         *string               `json:"StreamId,omitempty"` // reserved by AWS, ignored
}

type subscriptionPosition struct {
	Type           *string    `json:"Type,omitempty"`
	SequenceNumber *string    `json:"SequenceNumber,omitempty"`
	Timestamp      *Timestamp `json:"Timestamp,omitempty"`
}

// subscribeToShardEvent is the payload of a SubscribeToShardEvent message.
type subscribeToShardEvent struct {
	Records []kinesisRecord `json:"Records"`
	// ContinuationSequenceNumber is absent on the final event of a closed
	// shard, which has ChildShards instead (KCL tells shard end by that).
	ContinuationSequenceNumber *string      `json:"ContinuationSequenceNumber,omitempty"`
	MillisBehindLatest         int64        `json:"MillisBehindLatest"`
	ChildShards                []childShard `json:"ChildShards,omitempty"`
}

// Why a subscription ended, as causes of its context.
var (
	errSubscriptionExpired  = errors.New("subscription lifetime over")
	errSubscriptionTaken    = errors.New("a newer subscription took over")
	errSubscriptionDraining = errors.New("server shutting down")
)

func subscribeToShard(ctx context.Context, h *Handler, in *subscribeToShardInput, w http.ResponseWriter, r *http.Request) error {
	sub, err := h.prepareSubscription(ctx, in)
	if err != nil {
		return err
	}
	if in.DryRun != nil && *in.DryRun {
		return dryRun()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if err := sub.claim(h, cancel); err != nil {
		return err
	}
	defer sub.release()
	ctx, stop := context.WithTimeoutCause(ctx, subscriptionLifetime, errSubscriptionExpired)
	defer stop()
	go func() {
		select {
		case <-h.draining:
			cancel(errSubscriptionDraining)
		case <-ctx.Done():
		}
	}()

	ew := newEventWriter(w, requestCodec(r))
	if err := ew.start(); err != nil {
		return nil // the client is gone
	}
	if e := sub.run(ctx, ew); e != nil {
		_ = ew.exception(e)
	}
	return nil
}

// requestCodec is the codec of a request the handler accepted.
func requestCodec(r *http.Request) codec {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if c, ok := codecFor(mt); ok {
		return c
	}
	return jsonCodec{}
}

// subscription is one SubscribeToShard being served.
type subscription struct {
	h           *Handler
	consumerARN string
	stream      string
	shard       store.Shard
	next        int64 // offset of the partition to send from
	// continuable: next-1 is a record of the shard (or of its partition
	// before it), so a ContinuationSequenceNumber can name it.
	continuable bool
	started     time.Time
	cancel      context.CancelCauseFunc
	// paceUntil is when the enforced rate allows the next event.
	paceUntil time.Time
}

// prepareSubscription validates the request and resolves the consumer, the
// shard and the starting offset: every error here is an ordinary AWS error
// response.
func (h *Handler) prepareSubscription(ctx context.Context, in *subscribeToShardInput) (*subscription, error) {
	var v validator
	if v.required("consumerARN", in.ConsumerARN != nil) {
		v.str("consumerARN", in.ConsumerARN, 1, 2048, consumerARNPattern)
	}
	if v.required("shardId", in.ShardId != nil) {
		v.str("shardId", in.ShardId, 1, 128, shardIDPattern)
	}
	if v.required("startingPosition", in.StartingPosition != nil) {
		p := in.StartingPosition
		if v.required("startingPosition.type", p.Type != nil) {
			v.oneOf("startingPosition.type", p.Type, positionAtSequence, positionAfterSequence, positionTrimHorizon, positionLatest, positionAtTimestamp)
		}
		v.str("startingPosition.sequenceNumber", p.SequenceNumber, 0, 0, sequencePattern)
	}
	if e := v.err(); e != nil {
		return nil, e
	}

	name, err := h.subscriptionConsumer(ctx, *in.ConsumerARN)
	if err != nil {
		return nil, err
	}
	st, err := h.streamForData(ctx, name)
	if err != nil {
		return nil, err
	}
	sh, err := h.lookupShard(st, *in.ShardId)
	if err != nil {
		return nil, err
	}
	sub := &subscription{h: h, consumerARN: *in.ConsumerARN, stream: name, shard: sh}
	if err := sub.position(ctx, &st, in.StartingPosition); err != nil {
		return nil, err
	}
	return sub, nil
}

// position sets the offset the subscription starts from, as
// GetShardIterator would for the same type.
func (s *subscription) position(ctx context.Context, st *store.Stream, p *subscriptionPosition) error {
	h, sh := s.h, s.shard
	typ := *p.Type
	if p.SequenceNumber != nil && typ != positionAtSequence && typ != positionAfterSequence {
		return invalidArgument("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and SequenceNumber or (2) TRIM_HORIZON, LATEST or AT_TIMESTAMP and no SequenceNumber. Request specified %s and also a SequenceNumber.", typ)
	}
	var err error
	switch typ {
	case positionTrimHorizon:
		s.next = sh.StartOffset // readShardView skips what retention took
	case positionLatest:
		s.next, err = h.shardTip(ctx, st, sh)
	case positionAtTimestamp:
		if p.Timestamp == nil {
			return invalidArgument("Must specify timestampInMillis parameter for StartingPosition of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		s.next, err = h.timestampStart(ctx, st, sh, p.Timestamp.Time)
	case positionAtSequence, positionAfterSequence:
		if p.SequenceNumber == nil {
			return invalidArgument("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and SequenceNumber or (2) TRIM_HORIZON, LATEST or AT_TIMESTAMP and no SequenceNumber. Request specified %s and no SequenceNumber.", typ)
		}
		s.next, err = s.sequenceOffset(ctx, st, *p.SequenceNumber, typ == positionAfterSequence)
	}
	if err != nil {
		return err
	}
	s.continuable = s.next > sh.StartOffset
	return nil
}

// sequenceOffset is the offset a sequence number of one of the shard's
// records positions at: its record's, or the next for
// AFTER_SEQUENCE_NUMBER.
func (s *subscription) sequenceOffset(ctx context.Context, st *store.Stream, seq string, after bool) (int64, error) {
	h, sh := s.h, s.shard
	idx, off, err := mapping.ParseSequenceNumber(seq)
	if err != nil {
		return 0, invalidArgument("StartingSequenceNumber %s used in SubscribeToShard on shard %s in stream %s under account %s is invalid.", seq, sh.ID(), s.stream, h.cfg.Account)
	}
	if idx != sh.Index {
		return 0, invalidArgument("Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s", mapping.ShardID(idx), sh.ID())
	}
	tip, err := h.shardTip(ctx, st, sh)
	if err != nil {
		return 0, err
	}
	start, ok := sequenceStartOffset(sh, off, tip, after)
	if !ok {
		return 0, invalidArgument("StartingSequenceNumber %s used in SubscribeToShard on shard %s in stream %s under account %s is invalid because it did not come from this stream.", seq, sh.ID(), s.stream, h.cfg.Account)
	}
	return start, nil
}

// The registry of active subscriptions: AWS allows one per consumer and
// shard at a time.
type subscriptionKey struct {
	h           *Handler
	consumerARN string
	shard       int
}

var activeSubscriptions = struct {
	sync.Mutex
	m map[subscriptionKey]*subscription
}{m: map[subscriptionKey]*subscription{}}

// claim makes s the consumer's subscription to its shard: refused while
// another one is younger than 5 seconds, taking over from an older one.
func (s *subscription) claim(h *Handler, cancel context.CancelCauseFunc) error {
	key := s.key()
	now := h.now()
	activeSubscriptions.Lock()
	defer activeSubscriptions.Unlock()
	if prev := activeSubscriptions.m[key]; prev != nil {
		if now.Sub(prev.started) < subscriptionTakeover {
			return resourceInUse("Another active subscription exists for this consumer: %s:%s:%s:%s", h.cfg.Account, s.stream, s.shard.ID(), consumerNameOf(s.consumerARN))
		}
		prev.cancel(errSubscriptionTaken)
	}
	s.started, s.cancel = now, cancel
	activeSubscriptions.m[key] = s
	return nil
}

// release forgets s unless a newer subscription has taken its place.
func (s *subscription) release() {
	activeSubscriptions.Lock()
	defer activeSubscriptions.Unlock()
	if activeSubscriptions.m[s.key()] == s {
		delete(activeSubscriptions.m, s.key())
	}
}

func (s *subscription) key() subscriptionKey {
	return subscriptionKey{h: s.h, consumerARN: s.consumerARN, shard: s.shard.Index}
}

// consumerNameOf returns the consumer name inside a consumer ARN
// (.../consumer/NAME:CREATION).
func consumerNameOf(arn string) string {
	_, rest, _ := strings.Cut(arn, "/consumer/")
	name, _, _ := strings.Cut(rest, ":")
	return name
}

// run sends events until the subscription ends. It returns the exception
// to end the stream with, or nil for a clean end.
func (s *subscription) run(ctx context.Context, ew *eventWriter) *Error {
	for {
		ev, last, e := s.nextEvent(ctx)
		if e != nil || ev == nil {
			return e
		}
		if err := ew.event("SubscribeToShardEvent", ev); err != nil {
			return nil // the client is gone
		}
		if last {
			return nil
		}
		if e := s.pace(ctx, ev); e != nil {
			return e
		}
	}
}

// nextEvent waits for records (or the heartbeat) and returns the event to
// send, with last set when it is the shard's final one. A nil event with a
// nil error ends the subscription cleanly.
func (s *subscription) nextEvent(ctx context.Context) (ev *subscribeToShardEvent, last bool, e *Error) {
	h := s.h
	for {
		heartbeat := false
		if s.shard.IsOpen() || s.next < s.shard.EndOffset {
			wctx, cancel := context.WithTimeout(ctx, subscriptionHeartbeat)
			err := h.store.WaitStable(wctx, s.stream, s.shard.Partition, s.next)
			cancel()
			switch {
			case ctx.Err() != nil:
				return s.ended(ctx)
			case errors.Is(err, context.DeadlineExceeded):
				// Nothing arrived: the stream or the consumer may be gone,
				// or the shard closed with no record to wake us.
				if e := s.recheck(ctx); e != nil {
					return nil, false, e
				}
				heartbeat = true
			case err != nil:
				return nil, false, s.storeFailure(err)
			}
		}
		st, err := h.store.DescribeStream(ctx, s.stream)
		if err != nil {
			return nil, false, s.storeFailure(err)
		}
		rd, err := h.readShardView(ctx, st, s.shard, s.next, maxGetRecordsLimit, subscriptionEventBytes)
		if err != nil {
			if ctx.Err() != nil {
				return s.ended(ctx)
			}
			return nil, false, s.storeFailure(err)
		}
		if rd.Next > s.next {
			s.continuable = true
		}
		s.shard, s.next = rd.Shard, rd.Next
		ev := &subscribeToShardEvent{Records: rd.Records, MillisBehindLatest: rd.MillisBehind(h.now())}
		if ev.Records == nil {
			ev.Records = []kinesisRecord{}
		}
		switch {
		case rd.Ended:
			// The shard may have closed during the read, after st was
			// taken: its children are in the layout that closed it.
			if st, err = h.store.DescribeStream(ctx, s.stream); err != nil {
				return nil, false, s.storeFailure(err)
			}
			ev.ChildShards = childShardsOf(&st, s.shard.Index)
			return ev, true, nil
		case len(ev.Records) > 0 || heartbeat && s.continuable:
			seq := mapping.SequenceNumber(s.shard.Index, s.next-1)
			ev.ContinuationSequenceNumber = &seq
			return ev, false, nil
		}
		// Woken for records this shard does not show (a transaction
		// marker): wait again.
	}
}

// recheck runs at each heartbeat: the subscription ends with
// ResourceNotFoundException once its consumer or stream is gone.
func (s *subscription) recheck(ctx context.Context) *Error {
	name, err := s.h.subscriptionConsumer(ctx, s.consumerARN)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		return s.h.storeError(s.stream, err)
	}
	if name != s.stream {
		return s.h.streamNotFound(s.stream)
	}
	if _, err := s.h.streamForData(ctx, s.stream); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		return s.h.storeError(s.stream, err)
	}
	return nil
}

// ended translates the cause of a done context: a clean end, or the
// exception a takeover ends the old subscription with.
func (s *subscription) ended(ctx context.Context) (*subscribeToShardEvent, bool, *Error) {
	if errors.Is(context.Cause(ctx), errSubscriptionTaken) {
		return nil, false, resourceInUse("Another active subscription exists for this consumer: %s:%s:%s:%s", s.h.cfg.Account, s.stream, s.shard.ID(), consumerNameOf(s.consumerARN))
	}
	return nil, false, nil
}

// storeFailure is the exception for a store error during the subscription;
// a closing store ends it cleanly (nil).
func (s *subscription) storeFailure(err error) *Error {
	if errors.Is(err, store.ErrClosed) {
		return nil
	}
	return s.h.storeError(s.stream, err)
}

// pace waits, with EnforceLimits, until the bytes sent so far fit AWS's
// 2 MB/s per consumer and shard.
func (s *subscription) pace(ctx context.Context, ev *subscribeToShardEvent) *Error {
	if !s.h.cfg.EnforceLimits {
		return nil
	}
	n := 0
	for _, r := range ev.Records {
		n += len(r.Data) + len(r.PartitionKey)
	}
	now := time.Now()
	if s.paceUntil.Before(now) {
		s.paceUntil = now
	}
	s.paceUntil = s.paceUntil.Add(time.Duration(n) * time.Second / subscriptionRateBytes)
	wait := s.paceUntil.Sub(now)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		_, _, e := s.ended(ctx)
		return e
	}
}

// subscriptionConsumer returns the stream of an ACTIVE consumer:
// ResourceNotFoundException for an unknown one, ResourceInUseException
// while it is CREATING or DELETING.
func (h *Handler) subscriptionConsumer(ctx context.Context, arn string) (string, error) {
	name, c, err := h.consumerByARN(ctx, arn)
	if err != nil {
		return "", err
	}
	if c.Status != consumerActive {
		return "", resourceInUse("Consumer %s under account %s not ACTIVE, instead in state %s", arn, h.cfg.Account, c.Status)
	}
	return name, nil
}
