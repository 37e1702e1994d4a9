// Fetch (key 1), versions 0-17 (v0-3 down-convert to message sets of
// magic 0/1, see fetch_legacy.go; v13+ name topics by id): returns the stored record batches of each
// requested partition from its fetch offset, as stored (the bytes producers
// sent, base offsets rewritten), never decoded or re-encoded. Batches are
// whole, so the first may start before the fetch offset; clients skip the
// records before it, as with any broker.
//
// Limits follow KIP-74: MaxBytes bounds the response and PartitionMaxBytes
// each partition, except that the first batch of the first partition with
// data is returned even when larger, so a consumer always progresses.
// MaxBytes is capped at maxFetchBytes, as a broker caps it at its
// fetch.max.bytes (KIP-541): a response is built in memory, restored
// offloaded payloads included, and a client must not choose how much.
//
// Long poll: when less than MinBytes is available the fetch waits, up to
// MaxWaitMillis, for any of its partitions to grow (store.Wait: woken by
// appends, no polling), then reads again from where it stopped. A Shutdown
// cuts the wait short. The wait runs in the deferred reply, on the
// connection's writer goroutine, so it blocks nothing but this connection's
// later responses, which must come after it anyway.
//
// Offsets outside [log start, high watermark] get OFFSET_OUT_OF_RANGE. An
// empty partition returns an empty, non-null record set.
//
// Transactions (fetchtxn.go): LastStableOffset is the partition's last
// stable offset at every isolation level. read_committed (IsolationLevel 1)
// reads only below it and gets the AbortedTransactions whose records may be
// in what it got (null for read_uncommitted, as Kafka); its long poll waits
// for the last stable offset to move, not the high watermark.
//
// Fetch sessions (v7+, KIP-227) are kept as Kafka keeps them: see
// fetchsession.go. An incremental fetch reads the session's partitions and
// answers only those with something new. v9+ CurrentLeaderEpoch above 0
// (ours is always 0) gets UNKNOWN_LEADER_EPOCH; v11 rack-aware
// PreferredReadReplica is always -1; v12 LastFetchedEpoch needs no
// divergence check with one epoch. v13+ names topics by id (fetchids.go:
// an unknown id gets UNKNOWN_TOPIC_ID); v15's ReplicaState and v17's
// ReplicaDirectoryId concern followers, which the bridge never has; v16's
// NodeEndpoints go with a leader change, never sent.
package kafka

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/gateway/payloads"
	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

func init() {
	register(API{Key: kmsg.Fetch, MinVersion: 0, MaxVersion: 17, Handle: handleFetch})
}

// fetchPart is one requested partition while a fetch is being answered.
type fetchPart struct {
	topic     string
	partition int32
	rp        *kmsg.FetchResponseTopicPartition
	maxBytes  int       // PartitionMaxBytes
	next      int64     // next offset to read
	bytes     int       // bytes collected so far
	out       *[][]byte // the batches collected: the response's records
	done      bool      // failed or full: read no more
	pointers  bool      // hand offloaded records over as pointers
	committed bool      // read_committed: up to the last stable offset
	restored  bool      // payloads were read from objects into out
	// release collects the store reads the batches in out are slices of
	// (the response's, fetchResponse.release).
	release *[]func()
}

// pointerClientID is what a consumer puts in its client.id to get
// offloaded records as the pointer records stored (the pointer as value,
// an ExtendedPayloadSize header) instead of restored.
const pointerClientID = "offload-pointers"

// maxFetchBytes caps a Fetch's MaxBytes: 55 MiB, a broker's default
// fetch.max.bytes. Without it a consumer asking for 512 MiB made the
// bridge hold over 1 GiB for one response of restored 50 MiB payloads.
const maxFetchBytes = 55 << 20

func handleFetch(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.FetchRequest)
	received := time.Now()
	// The session, opened in request order; req becomes the partitions
	// to read (an incremental fetch's are its session's).
	fc := r.Server.sessions.open(req)
	if fc.errCode != 0 {
		return Respond(fc.errorResponse()), nil
	}
	req = fc.req
	fc.resolve(ctx, r.Server) // v13+: topic ids to names
	// Authorized here, on the reader goroutine, with the request: the
	// fetch itself may long-poll on the writer's.
	var denied map[string]bool
	for _, t := range req.Topics {
		if !denied[t.Topic] && !r.topicAllowed(kmsg.ACLOperationRead, t.Topic) {
			if denied == nil {
				denied = map[string]bool{}
			}
			denied[t.Topic] = true
		}
	}
	pointers := strings.Contains(r.ClientID, pointerClientID)
	if r.Version < 4 {
		return handleLegacyFetch(r, req, received, denied, pointers)
	}
	return RespondLater(func(ctx context.Context) (kmsg.Response, error) {
		resp := r.Server.fetch(ctx, req, received, denied, pointers)
		fc.finish(resp)
		return resp, nil
	}), nil
}

// fetch answers req; the topics in denied get TOPIC_AUTHORIZATION_FAILED.
func (s *Server) fetch(ctx context.Context, req *kmsg.FetchRequest, received time.Time, denied map[string]bool, pointers bool) *fetchResponse {
	resp := &fetchResponse{FetchResponse: req.ResponseKind().(*kmsg.FetchResponse)}
	resp.SessionID = 0 // fetchContext.finish sets it

	var parts []*fetchPart
	resp.Topics = make([]kmsg.FetchResponseTopic, len(req.Topics))
	resp.records = make([][][][]byte, len(req.Topics))
	for i := range req.Topics {
		rt := &req.Topics[i]
		t := &resp.Topics[i]
		*t = kmsg.NewFetchResponseTopic()
		t.Topic = rt.Topic
		t.TopicID = rt.TopicID
		t.Partitions = make([]kmsg.FetchResponseTopicPartition, len(rt.Partitions))
		resp.records[i] = make([][][]byte, len(rt.Partitions))
		for j := range rt.Partitions {
			p := &rt.Partitions[j]
			rp := &t.Partitions[j]
			*rp = kmsg.NewFetchResponseTopicPartition()
			rp.Partition = p.Partition
			rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = -1, -1, -1
			fp := &fetchPart{topic: rt.Topic, partition: p.Partition, rp: rp, maxBytes: int(p.PartitionMaxBytes), next: p.FetchOffset, out: &resp.records[i][j], pointers: pointers, committed: req.IsolationLevel == 1, release: &resp.release}
			switch {
			case denied[rt.Topic]:
				rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				fp.done = true
			case req.Version >= 9 && p.CurrentLeaderEpoch > 0:
				rp.ErrorCode = kerr.UnknownLeaderEpoch.Code
				fp.done = true
			}
			parts = append(parts, fp)
		}
	}

	var (
		total    int
		budget   = min(int(req.MaxBytes), maxFetchBytes)
		minBytes = int(req.MinBytes)
		deadline = received.Add(time.Duration(req.MaxWaitMillis) * time.Millisecond)
		failed   bool
	)
	for {
		for _, fp := range parts {
			if fp.done {
				continue
			}
			n, err := s.fetchPartition(ctx, fp, budget-total, total == 0)
			total += n
			if err != nil {
				failed = true
			}
		}
		if total >= minBytes || failed || !time.Now().Before(deadline) || !s.waitFetch(ctx, parts, deadline) {
			break
		}
	}
	for _, fp := range parts {
		if fp.restored && s.readahead != nil {
			go s.readAhead(fp.topic, fp.partition, fp.next, fp.committed)
		}
	}
	return resp
}

// readAhead starts reading the payloads of a partition's batch at next, the
// offset a consumer that was just sent restored payloads asks for next:
// they are read while this response is written and the consumer works
// (payloads.Readahead), not when its next fetch arrives.
func (s *Server) readAhead(topic string, partition int32, next int64, committed bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	res, err := s.store.Read(ctx, topic, partition, next, store.ReadLimits{MaxBytes: 1, Committed: committed})
	if res.Release != nil {
		defer res.Release()
	}
	if err == nil && len(res.Batches) > 0 && marked(res.Batches[0].Raw) {
		s.readahead.Ahead(topic, partition, res.Batches[0].Raw, next)
	}
}

// fetchPartition reads what fits of one partition into fp, within room
// bytes of the response; first says no batch is in the response yet (so
// one may exceed the limits). It returns the bytes added and the error that
// ended the partition, if any.
func (s *Server) fetchPartition(ctx context.Context, fp *fetchPart, room int, first bool) (int, error) {
	limit := min(room, fp.maxBytes-fp.bytes)
	if limit <= 0 && !first {
		return 0, nil
	}
	res, err := s.store.Read(ctx, fp.topic, fp.partition, fp.next, store.ReadLimits{MaxBytes: max(limit, 1), Committed: fp.committed})
	rp := fp.rp
	if err != nil && !(res.HighWatermark > 0 || res.LogStartOffset > 0) {
		// Unknown topic or partition: no bounds to report.
		rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = -1, -1, -1
	} else {
		rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = res.HighWatermark, res.LastStableOffset, res.LogStartOffset
	}
	if err != nil {
		fp.done = true
		if store.IsKeyError(err) {
			s.log.Warn("fetch: records cannot be decrypted", "topic", fp.topic, "partition", fp.partition, "err", err)
		}
		if fp.bytes > 0 {
			// Keep what was collected (a trim raced the long poll, say);
			// the next fetch reports the error.
			return 0, nil
		}
		rp.ErrorCode = errorCode(err)
		return 0, err
	}
	added, n := 0, 0
	var rewritten [][][]byte // batches changed on the way out, as pieces, by index; nil when none
	for i, b := range res.Batches {
		size := len(b.Raw)
		var pieces [][]byte
		release := func() {}
		if marked(b.Raw) {
			var ok bool
			pieces, size, release, ok, err = s.unoffload(ctx, fp, b.Raw, limit-added, first && added == 0)
			if err != nil {
				fp.done = true
				if added == 0 && fp.bytes == 0 {
					rp.ErrorCode = errorCode(err)
					return 0, err
				}
				break // what was collected goes; the next fetch reports it
			}
			if !ok {
				fp.done = true
				break
			}
		}
		if !(first && added == 0) && (added+size > limit) {
			// Full: the rest waits for the next fetch, and nothing
			// refers to the buffers of a batch that is not sent.
			release()
			fp.done = true
			break
		}
		if pieces != nil {
			fp.restored = fp.restored || !fp.pointers
			*fp.release = append(*fp.release, release)
			if rewritten == nil {
				rewritten = make([][][]byte, len(res.Batches))
			}
			rewritten[i] = pieces
		}
		fp.next = b.LastOffset + 1
		added += size
		n++
	}
	switch {
	case added == 0:
	case rewritten == nil && len(res.Bytes) >= added:
		// The batches are back to back in one buffer: send its prefix.
		*fp.out = append(*fp.out, res.Bytes[:added])
	default:
		for i, b := range res.Batches[:n] {
			if rewritten != nil && rewritten[i] != nil {
				*fp.out = append(*fp.out, rewritten[i]...)
			} else {
				*fp.out = append(*fp.out, b.Raw)
			}
		}
	}
	if res.Release != nil {
		if added == 0 {
			res.Release() // nothing of it is in the response
		} else {
			*fp.release = append(*fp.release, res.Release)
		}
	}
	fp.bytes += added
	if fp.committed {
		fp.addAborted(res.Aborted)
	}
	return added, nil
}

// marked reports whether a stored batch holds offloaded records.
func marked(raw []byte) bool {
	info, err := recordbatch.Parse(raw)
	return err == nil && payloads.Marked(info)
}

// unoffload returns a batch holding offloaded records as the consumer
// gets it, in pieces of size bytes in all: restored within room (ok is
// false when it would not fit and force is not set), or, for a consumer
// that asked for pointers, the stored pointer records without the
// bridge's mark. The payloads are read into pooled frames: release gives
// them back, once the pieces are written or dropped.
func (s *Server) unoffload(ctx context.Context, fp *fetchPart, raw []byte, room int, force bool) (pieces [][]byte, size int, release func(), ok bool, err error) {
	if fp.pointers || s.cfg.Offload == nil {
		out := bytes.Clone(raw) // raw may be shared with other readers
		recordbatch.ClearMarks(out)
		return [][]byte{out}, len(out), func() {}, true, nil
	}
	var bufs [][]byte
	release = func() {
		for _, b := range bufs {
			putFrame(b)
		}
	}
	pieces, size, ok, err = s.cfg.Offload.RestoreBatch(ctx, fp.topic, fp.partition, raw, fp.next, room, force, payloads.RestoreOptions{
		Alloc: func(n int) []byte {
			b := getFrame(n)
			bufs = append(bufs, b)
			return b
		},
		Ahead: func(p offload.Pointer, size int64) []byte {
			b := s.readahead.Take(p, size)
			if b != nil {
				bufs = append(bufs, b)
			}
			return b
		},
	})
	if err != nil || !ok {
		release()
	}
	if err != nil {
		s.log.Warn("fetch: offloaded records cannot be restored", "topic", fp.topic, "partition", fp.partition, "err", err)
		return nil, 0, nil, false, refuse(kerr.KafkaStorageError, "offloaded records cannot be restored: %v", err)
	}
	return pieces, size, release, ok, nil
}

// waitFetch blocks until one of the partitions still open for reading may
// have grown past what was read, the deadline passes, ctx ends or a
// Shutdown starts. It reports whether reading again is worthwhile.
func (s *Server) waitFetch(ctx context.Context, parts []*fetchPart, deadline time.Time) bool {
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	woke := make(chan struct{}, 1)
	waiting := 0
	for _, fp := range parts {
		if fp.done {
			continue
		}
		waiting++
		go func(topic string, partition int32, next int64, committed bool) {
			// Any return but our own cancellation means "look again":
			// new records, or the topic went away (the read reports it).
			wait := s.store.Wait
			if committed {
				wait = s.store.WaitStable
			}
			if err := wait(wctx, topic, partition, next); err == nil || wctx.Err() == nil {
				select {
				case woke <- struct{}{}:
				default:
				}
			}
		}(fp.topic, fp.partition, fp.next, fp.committed)
	}
	if waiting == 0 {
		return false
	}
	select {
	case <-woke:
		return true
	case <-wctx.Done():
		return false
	case <-s.draining:
		return false
	}
}
