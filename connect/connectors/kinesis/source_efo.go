package kinesis

// Enhanced fan-out (kinesis.consumer.type=EFO): the task reads its shards
// with SubscribeToShard as the stream consumer kinesis.efo.consumer.name
// (ensureConsumer registers it), instead of GetRecords.
//
// One subscriber goroutine per shard holds the shard's subscription and
// hands each event with records to Poll through one channel; it never
// touches the shard's reading state, which stays Poll's alone, so
// everything the polling path promises holds unchanged:
//
//   - Parent before child: a shard gets a subscriber only once every parent
//     it has in the task is finished (ended and committed), exactly as
//     round() decides for GetRecords. The final event of a closed shard
//     names its ChildShards: a child whose parents the task all holds is
//     adopted at once (read from TRIM_HORIZON, or its stored offset, once
//     they are finished); one with a parent elsewhere is left to the
//     connector's shard discovery, whose reconfiguration assigns the
//     lineage to one task.
//   - Same offsets: records go through convert and record like polled
//     ones (KPL de-aggregation, subsequences, the "closed" mark on the last
//     record of a closed shard), and a subscription starts where
//     GetShardIterator would (startingPosition), so switching between
//     POLLING and EFO resumes in place.
//   - A subscription ends every 5 minutes on AWS, or when the connection
//     drops: the subscriber subscribes again AFTER_SEQUENCE_NUMBER the last
//     ContinuationSequenceNumber it received (every event it received went
//     to Poll first, so nothing is skipped). ResourceInUseException (the
//     previous subscription is still held, for up to 5 seconds),
//     LimitExceededException, throttling and transport failures back the
//     shard off, 100 ms doubling to 10 s. A subscription that sends
//     nothing for 65 s (a dead connection) is made again. A closed shard
//     that is gone (past retention) ends; other refusals fail the task.
//
// kinesalite has no enhanced fan-out: EFO needs AWS or the bridge.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/connect"
)

// efoReader is a task's enhanced fan-out state.
type efoReader struct {
	consumerARN string
	// events carries what the subscribers read to Poll, in each shard's
	// order.
	events chan efoEvent
	// failed is a subscriber's fatal error, returned by the next Poll.
	failed error
	// idle is subscriptionIdleTimeout when the task started.
	idle time.Duration

	mu      sync.Mutex // guards stopped and wg.Add against Stop's wg.Wait
	stopped bool
	wg      sync.WaitGroup
}

// efoEvent is one SubscribeToShardEvent with records, a shard's end, or a
// subscriber's fatal error.
type efoEvent struct {
	shard   *shardReader
	records []types.Record
	// end: the shard was read to its end (children names its ChildShards),
	// or it is gone past retention.
	end      bool
	children []types.ChildShard
	err      error
}

// maxDrainEvents bounds the events one Poll hands out beyond the first.
const maxDrainEvents = 64

// startEFO makes sure the stream consumer exists and is ACTIVE.
func (t *SourceTask) startEFO(ctx context.Context, vals connect.Values, cfg connect.Config) error {
	name := vals.String(ConsumerNameConfig)
	if name == "" {
		name = defaultConsumerName(cfg["name"])
	}
	if !consumerNamePattern.MatchString(name) {
		return fmt.Errorf("%s: the connector name %q is not a valid stream consumer name: set %s", ConsumerTypeConfig, name, ConsumerNameConfig)
	}
	arn, err := ensureConsumer(ctx, t.client, t.stream, name)
	if err != nil {
		return err
	}
	t.efo = &efoReader{consumerARN: arn, events: make(chan efoEvent, maxConcurrentReads), idle: subscriptionIdleTimeout}
	return nil
}

// pollEFO starts the subscribers of shards that became due and waits up to
// maxPollWait for what they read.
func (t *SourceTask) pollEFO(ctx context.Context) ([]connect.Record, error) {
	if err := t.efo.failed; err != nil {
		return nil, err
	}
	deadline := time.Now().Add(maxPollWait)
	for {
		waiting := t.subscribeDue()
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, nil
		}
		if waiting {
			wait = min(wait, parentCheck)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, nil
		case <-t.stopCtx.Done():
			timer.Stop()
			return nil, nil
		case ev := <-t.efo.events:
			timer.Stop()
			return t.drainEFO(ev)
		case <-timer.C:
		}
	}
}

// drainEFO turns ev and the events already waiting into records.
func (t *SourceTask) drainEFO(ev efoEvent) ([]connect.Record, error) {
	var out []connect.Record
	for n := 0; ; n++ {
		if ev.err != nil {
			if len(out) == 0 {
				return nil, ev.err
			}
			t.efo.failed = ev.err // after the records read before it
			return out, nil
		}
		out = t.handleEFO(ev, out)
		if n == maxDrainEvents {
			return out, nil
		}
		select {
		case ev = <-t.efo.events:
		default:
			return out, nil
		}
	}
}

// handleEFO appends the records of one event and, at a shard's end, marks
// it ended and adopts its children.
func (t *SourceTask) handleEFO(ev efoEvent, out []connect.Record) []connect.Record {
	s := ev.shard
	first := len(out)
	refs := make([]sourceRef, 0, len(ev.records))
	var last position
	for _, r := range ev.records {
		out, refs = t.convert(s, r, out, refs, &last)
	}
	t.handOut(s, out[first:], refs, last, nil, ev.end)
	if ev.end {
		t.adoptChildren(ev.children)
	}
	return out
}

// subscribeDue starts a subscriber for every shard that is due: not ended,
// not subscribed, its parents finished. It reports whether a shard waits
// for its parents.
func (t *SourceTask) subscribeDue() (waiting bool) {
	for _, s := range t.shards {
		if s.subscribed {
			continue
		}
		ended, ready := t.readable(s)
		switch {
		case ended:
		case !ready:
			waiting = true
		default:
			t.efo.mu.Lock()
			if !t.efo.stopped {
				s.subscribed = true
				t.efo.wg.Add(1)
				go t.subscriber(s, t.startingPosition(s))
			}
			t.efo.mu.Unlock()
		}
	}
	return waiting
}

// adoptChildren starts reading the children of a shard that ended whose
// parents the task all holds: it alone can order them after those
// parents. Others are left to the connector's discovery.
func (t *SourceTask) adoptChildren(children []types.ChildShard) {
	for _, c := range children {
		id := aws.ToString(c.ShardId)
		if _, held := t.byID[id]; held || id == "" || len(c.ParentShards) == 0 {
			continue
		}
		info := shardInfo{ID: id, Parent: c.ParentShards[0]}
		if len(c.ParentShards) > 1 {
			info.AdjacentParent = c.ParentShards[1]
		}
		var parents []*shardReader
		for _, p := range info.parents() {
			if ps, held := t.byID[p]; held {
				parents = append(parents, ps)
			}
		}
		if len(parents) != len(info.parents()) {
			t.log.Info("kinesis source: a child shard has a parent in another task; left to shard discovery", "shard", id, "parents", c.ParentShards)
			continue
		}
		s, err := t.newShardReader(info)
		if err != nil {
			t.log.Warn("kinesis source: child shard left to shard discovery", "shard", id, "err", err)
			continue
		}
		s.parents = parents
		t.shards = append(t.shards, s)
		t.mu.Lock() // CommitRecord reads byID
		t.byID[id] = s
		t.mu.Unlock()
		t.log.Debug("kinesis source: following child shard", "shard", id, "parents", c.ParentShards)
	}
}

// subscriber holds s's subscription until the shard ends, the task stops,
// or a refusal that will not pass (sent to Poll).
func (t *SourceTask) subscriber(s *shardReader, start types.StartingPosition) {
	defer t.efo.wg.Done()
	ctx := t.stopCtx
	var backoff time.Duration
	for {
		if backoff > 0 {
			timer := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
		}
		end, events, err := t.subscription(ctx, s, &start)
		switch {
		case ctx.Err() != nil || end:
			return
		case err == nil && events > 0:
			backoff = 0 // the subscription's lifetime ended: resubscribe
		case err == nil:
			// Ended before its first event: do not hammer the endpoint.
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
		case s.info.Closed && errorCode(err) == codeNotFound:
			t.log.Warn("kinesis source: closed shard expired before it was read to its end", "shard", s.info.ID, "err", err)
			t.sendEFO(ctx, efoEvent{shard: s, end: true})
			return
		case errors.Is(err, errSubscriptionIdle):
			t.log.Debug("kinesis source: subscription silent; subscribing again", "shard", s.info.ID)
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
		case subscriptionRetriable(err):
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			t.log.Debug("kinesis source: subscription backing off", "shard", s.info.ID, "wait", backoff, "err", err)
		default:
			t.sendEFO(ctx, efoEvent{shard: s, err: fmt.Errorf("shard %s: SubscribeToShard: %w", s.info.ID, err)})
			return
		}
	}
}

// subscriptionRetriable reports whether a subscription refused or ended
// with err may be made again after a wait.
func subscriptionRetriable(err error) bool {
	switch errorCode(err) {
	case codeInUse, codeLimitExceeded:
		return true
	}
	return transient(err)
}

// subscription makes one SubscribeToShard call from start and hands its
// events on until it ends; start follows each ContinuationSequenceNumber.
// end reports the shard's final event.
func (t *SourceTask) subscription(ctx context.Context, s *shardReader, start *types.StartingPosition) (end bool, events int, err error) {
	// A client of its own: aws-sdk-go-v2's Kinesis client (smithy-go
	// 1.28) decodes every event stream with one codec and one payload
	// buffer per client, so two subscriptions read at the same time on
	// one client race and may hand out each other's bytes. New makes a
	// new codec.
	client := awskinesis.New(t.client.Options())
	// A connection that went silent (a peer gone without a reset) would
	// hold the shard forever: with no event for t.efo.idle the
	// subscription is given up and made again, as KCL does. The time
	// spent handing an event to Poll does not count.
	subCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := time.AfterFunc(t.efo.idle, func() { cancel(errSubscriptionIdle) })
	defer idle.Stop()
	out, err := client.SubscribeToShard(subCtx, &awskinesis.SubscribeToShardInput{
		ConsumerARN: aws.String(t.efo.consumerARN), ShardId: aws.String(s.info.ID), StartingPosition: start})
	if err != nil {
		return false, 0, idleCause(subCtx, err)
	}
	es := out.GetStream()
	defer es.Close()
	for msg := range es.Events() {
		ev, ok := msg.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
		if !ok {
			continue
		}
		if !idle.Stop() {
			break // timed out meanwhile: the event comes again
		}
		events++
		last := ev.Value.ContinuationSequenceNumber == nil
		if len(ev.Value.Records) > 0 || last {
			if !t.sendEFO(ctx, efoEvent{shard: s, records: ev.Value.Records, end: last, children: ev.Value.ChildShards}) {
				return false, events, ctx.Err()
			}
		}
		if last {
			return true, events, nil
		}
		*start = types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: ev.Value.ContinuationSequenceNumber}
		idle.Reset(t.efo.idle)
	}
	if err := es.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return false, events, idleCause(subCtx, err)
	}
	return false, events, idleCause(subCtx, nil)
}

// errSubscriptionIdle ends a subscription that sent nothing for too long.
var errSubscriptionIdle = errors.New("no event from the subscription for too long")

// subscriptionIdleTimeout is how long a subscription may send nothing:
// AWS sends an event at least every few seconds (the bridge every 5 s once
// the shard has a record), so a minute of silence is a dead connection.
// A variable for tests.
var subscriptionIdleTimeout = 65 * time.Second

// idleCause returns errSubscriptionIdle when the watchdog ended the
// subscription, else err.
func idleCause(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errSubscriptionIdle) {
		return errSubscriptionIdle
	}
	return err
}

// sendEFO hands ev to Poll; false when the task stopped first.
func (t *SourceTask) sendEFO(ctx context.Context, ev efoEvent) bool {
	select {
	case t.efo.events <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// stopEFO ends the subscribers and waits for them.
func (t *SourceTask) stopEFO() {
	t.efo.mu.Lock()
	t.efo.stopped = true
	t.efo.mu.Unlock()
	t.efo.wg.Wait()
}
