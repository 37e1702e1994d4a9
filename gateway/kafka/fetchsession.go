package kafka

// Fetch sessions (KIP-227), as Kafka's FetchManager and FetchSessionCache
// keep them. A full fetch (epoch 0) creates a session when the cache has
// room and answers with its id; the client then sends incremental fetches
// (epoch 1, 2, ...) naming only the partitions whose fetch offset or limits
// changed, plus ForgottenTopics, and the response leaves out every
// partition with nothing new: no records and no change of high watermark,
// last stable offset, log start offset or error. Epoch -1 closes a session
// (the request is then answered sessionless, as a full fetch).
//
// Errors are Kafka's: an incremental fetch naming no known session gets
// FETCH_SESSION_ID_NOT_FOUND, one with the wrong epoch
// INVALID_FETCH_SESSION_EPOCH (the session stays as it was, so a retry
// with the right epoch works), and one switching between topic names
// (v12-) and topic ids (v13+) within a session FETCH_SESSION_TOPIC_ID_ERROR.
// Each answer is the top-level error with session id 0 and no partitions.
//
// The cache holds at most Config.FetchSessionSlots sessions (Kafka's
// max.incremental.fetch.session.cache.slots, default 1000). When it is
// full a new session may take a slot as Kafka's tryEvict decides: the
// least recently used session if it is idle over two minutes
// (min.incremental.fetch.session.eviction.ms); otherwise the least
// valuable evictable session, unprivileged before privileged, then fewest
// partitions, if the new session is worth more. A session counts as
// evictable by everyone only once it was used when older than two
// minutes; unprivileged (consumer) sessions are always evictable by
// privileged (follower) ones, which the bridge never has. Failing that the
// full fetch is answered with session id 0 and the client keeps sending
// full fetches. A session is not tied to its connection (neither is
// Kafka's), so a client may resume it on a new one. Memory is bounded by
// the slots and by maxSessionPartitions, the partitions all sessions may
// hold together (a bound of the bridge's own: a client could otherwise grow
// a session by a request's worth of made-up partitions per fetch).

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	// defaultFetchSessionSlots is Kafka's default
	// max.incremental.fetch.session.cache.slots.
	defaultFetchSessionSlots = 1000
	// fetchSessionEvictionAge is Kafka's
	// min.incremental.fetch.session.eviction.ms.
	fetchSessionEvictionAge = 2 * time.Minute
	// maxSessionPartitions bounds the partitions all sessions hold
	// together (Kafka has no such bound): a full fetch that would pass
	// it gets no session, an incremental one that would grow its
	// session past it closes the session and is answered sessionless,
	// as when it forgets every partition. Either way the client goes on
	// with full fetches. About 100 MiB at most.
	maxSessionPartitions = 250_000
)

// sessionPart is one partition a session holds: what the client last
// asked for it and what the last response said of it.
type sessionPart struct {
	topic     string
	topicID   [16]byte
	partition int32
	req       kmsg.FetchRequestTopicPartition // fetch offset, limits, epochs

	// Last reported, so that an incremental response can leave the
	// partition out when nothing changed. -1 for a partition just
	// added: the first response includes it.
	hw, lso, logStart int64
}

// sessionKey names a session's partition: by topic name in a session of
// v12 and older fetches, by topic id in one of v13+ (a topic deleted and
// created again is then another partition).
type sessionKey struct {
	topic     string
	id        [16]byte
	partition int32
}

func (s *fetchSession) key(topic string, id [16]byte, partition int32) sessionKey {
	if s.usesIDs {
		return sessionKey{id: id, partition: partition}
	}
	return sessionKey{topic: topic, partition: partition}
}

// fetchSession is one cached session. Its fields are guarded by the
// cache's mutex.
type fetchSession struct {
	id         int32
	epoch      int32 // the epoch the next incremental fetch must carry
	privileged bool  // a follower's session: never, on the bridge
	usesIDs    bool  // created by a v13+ fetch
	created    time.Time
	lastUsed   time.Time
	// cachedSize is the partition count at the last touch, and evictAll
	// whether that touch found the session older than the eviction age:
	// Kafka's evictable sets are updated on touch only.
	cachedSize int
	evictAll   bool

	parts []*sessionPart // in fetch order
	index map[sessionKey]*sessionPart
}

// fetchSessions is the server's session cache.
type fetchSessions struct {
	slots int
	now   func() time.Time // time.Now; tests move it

	mu       sync.Mutex
	sessions map[int32]*fetchSession
	held     int // partitions the sessions hold, by their cachedSize
	maxHeld  int // maxSessionPartitions; tests lower it

	active     prometheus.Gauge
	partitions prometheus.Gauge
	evictions  prometheus.Counter
	fetches    *prometheus.CounterVec // kind: full, incremental, sessionless, error

	ids topicNames // v13+ topic ids to names (fetchids.go)
}

func newFetchSessions(slots int, reg prometheus.Registerer) (*fetchSessions, error) {
	switch {
	case slots == 0:
		slots = defaultFetchSessionSlots
	case slots < 0:
		slots = 0
	}
	c := &fetchSessions{
		slots:    slots,
		maxHeld:  maxSessionPartitions,
		now:      time.Now,
		sessions: map[int32]*fetchSession{},
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bridge_kafka_fetch_sessions",
			Help: "Fetch sessions (KIP-227) in the cache (Kafka's NumIncrementalFetchSessions).",
		}),
		partitions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bridge_kafka_fetch_session_partitions",
			Help: "Partitions held by the cached fetch sessions (Kafka's NumIncrementalFetchPartitionsCached).",
		}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_kafka_fetch_session_evictions_total",
			Help: "Fetch sessions evicted to make room for a new one.",
		}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_kafka_fetches_total",
			Help: "Fetch requests by session kind: full (creating or not creating a session), incremental, sessionless (epoch -1, or v4-6), error (a session error answered).",
		}, []string{"kind"}),
	}
	if reg != nil {
		for _, col := range []prometheus.Collector{c.active, c.partitions, c.evictions, c.fetches} {
			if err := reg.Register(col); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// fetchContext is how one fetch uses the cache, between open and finish.
type fetchContext struct {
	c    *fetchSessions
	req  *kmsg.FetchRequest // the partitions to read: the request's, or the session's
	kind string
	// create asks finish to create a session from a full fetch.
	create bool
	// sess is the incremental fetch's session.
	sess *fetchSession
	// errCode is the session error to answer with, when not 0.
	errCode int16
	// unknownIDs are the topic ids of a v13+ fetch that name no topic.
	unknownIDs map[[16]byte]bool
}

// open decides how req uses the cache, as Kafka's FetchManager.newContext:
// it closes the session a full fetch names, and applies an incremental
// fetch's changes to its session, returning the session's partitions as a
// request to read. It runs on the connection's reader goroutine, in
// request order.
func (c *fetchSessions) open(req *kmsg.FetchRequest) *fetchContext {
	fc := &fetchContext{c: c, req: req}
	if req.Version < 7 {
		fc.kind = "sessionless"
		return fc
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.SessionEpoch == 0 || req.SessionEpoch == -1 { // full
		if req.SessionID != 0 {
			c.remove(req.SessionID)
		}
		if req.SessionEpoch == 0 {
			fc.kind, fc.create = "full", true
		} else {
			fc.kind = "sessionless"
		}
		return fc
	}
	s := c.sessions[req.SessionID]
	switch {
	case s == nil:
		fc.errCode = kerr.FetchSessionIDNotFound.Code
	case s.epoch != req.SessionEpoch:
		fc.errCode = kerr.InvalidFetchSessionEpoch.Code
	case s.usesIDs != (req.Version >= 13):
		fc.errCode = kerr.FetchSessionTopicIDError.Code
	}
	if fc.errCode != 0 {
		fc.kind = "error"
		return fc
	}
	s.update(req)
	if len(s.parts) == 0 || c.held-s.cachedSize+len(s.parts) > c.maxHeld {
		// Everything forgotten: Kafka closes the session and answers
		// the request sessionless. The bridge does the same for a
		// session grown past the cache's partition bound.
		c.remove(s.id)
		fc.kind = "sessionless"
		return fc
	}
	c.touch(s)
	s.epoch = nextEpoch(s.epoch)
	fc.kind, fc.sess = "incremental", s
	fc.req = s.request(req)
	return fc
}

// errorResponse is the answer to a session error.
func (fc *fetchContext) errorResponse() *fetchResponse {
	resp := &fetchResponse{FetchResponse: fc.req.ResponseKind().(*kmsg.FetchResponse)}
	resp.ErrorCode = fc.errCode
	resp.SessionID = 0
	fc.c.fetches.WithLabelValues(fc.kind).Inc()
	return resp
}

// finish completes resp, read for fc.req: a full fetch creates its
// session, if the cache has room, and returns its id; an incremental
// fetch drops the partitions with nothing new and remembers what it
// reported. It runs on the writer goroutine once the fetch is read.
func (fc *fetchContext) finish(resp *fetchResponse) {
	c := fc.c
	fc.markUnknownIDs(resp)
	c.fetches.WithLabelValues(fc.kind).Inc()
	resp.SessionID = 0
	switch {
	case fc.create:
		c.mu.Lock()
		defer c.mu.Unlock()
		s := newSession(fc.req, resp)
		if c.held+len(s.parts) <= c.maxHeld && c.makeRoom(s) {
			s.id = c.newID()
			s.created = c.now()
			c.sessions[s.id] = s
			c.touch(s)
			c.active.Set(float64(len(c.sessions)))
			resp.SessionID = s.id
		}
	case fc.sess != nil:
		c.mu.Lock()
		defer c.mu.Unlock()
		resp.SessionID = fc.sess.id
		fc.sess.filter(resp)
	}
}

// newSession builds a session (no id yet) from a full fetch and its
// response.
func newSession(req *kmsg.FetchRequest, resp *fetchResponse) *fetchSession {
	s := &fetchSession{epoch: 1, usesIDs: req.Version >= 13, index: map[sessionKey]*sessionPart{}}
	for i := range req.Topics {
		rt := &req.Topics[i]
		for j := range rt.Partitions {
			p := s.add(rt.Topic, rt.TopicID, rt.Partitions[j])
			if i < len(resp.Topics) && j < len(resp.Topics[i].Partitions) {
				p.remember(&resp.Topics[i].Partitions[j])
			}
		}
	}
	return s
}

// add inserts or updates a partition's request parameters; a new one goes
// last.
func (s *fetchSession) add(topic string, id [16]byte, rp kmsg.FetchRequestTopicPartition) *sessionPart {
	rp.UnknownTags = kmsg.Tags{} // keep nothing the request did not need
	k := s.key(topic, id, rp.Partition)
	if p := s.index[k]; p != nil {
		p.req = rp
		return p
	}
	if s.usesIDs {
		topic = "" // named again on every fetch: see fetchContext.resolve
	}
	p := &sessionPart{topic: topic, topicID: id, partition: rp.Partition, req: rp, hw: -1, lso: -1, logStart: -1}
	s.index[k] = p
	s.parts = append(s.parts, p)
	return p
}

// update applies an incremental request: its partitions are added or
// updated, then its ForgottenTopics removed, as Kafka's FetchSession.update.
func (s *fetchSession) update(req *kmsg.FetchRequest) {
	for i := range req.Topics {
		rt := &req.Topics[i]
		for _, rp := range rt.Partitions {
			s.add(rt.Topic, rt.TopicID, rp)
		}
	}
	forgot := false
	for _, ft := range req.ForgottenTopics {
		for _, p := range ft.Partitions {
			k := s.key(ft.Topic, ft.TopicID, p)
			if s.index[k] != nil {
				delete(s.index, k)
				forgot = true
			}
		}
	}
	if forgot {
		kept := s.parts[:0]
		for _, p := range s.parts {
			if s.index[s.key(p.topic, p.topicID, p.partition)] == p {
				kept = append(kept, p)
			}
		}
		clear(s.parts[len(kept):])
		s.parts = kept
	}
}

// request is the full request an incremental fetch reads: req's limits
// and the session's partitions, consecutive partitions of a topic grouped
// as Kafka groups them in its response.
func (s *fetchSession) request(req *kmsg.FetchRequest) *kmsg.FetchRequest {
	full := *req
	full.Topics = nil
	full.ForgottenTopics = nil
	for _, p := range s.parts {
		if n := len(full.Topics); n == 0 || full.Topics[n-1].Topic != p.topic || full.Topics[n-1].TopicID != p.topicID {
			t := kmsg.NewFetchRequestTopic()
			t.Topic, t.TopicID = p.topic, p.topicID
			full.Topics = append(full.Topics, t)
		}
		t := &full.Topics[len(full.Topics)-1]
		t.Partitions = append(t.Partitions, p.req)
	}
	return &full
}

// remember records what a response said of a partition. An error resets
// the high watermark, so the partition is sent again once the error is
// gone, as Kafka's CachedPartition does.
func (p *sessionPart) remember(rp *kmsg.FetchResponseTopicPartition) {
	p.hw, p.lso, p.logStart = rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset
	if rp.ErrorCode != 0 {
		p.hw = -1
	}
}

// filter drops from resp, read for s.request, the partitions with nothing
// new, and remembers what the rest report. Partitions that returned
// records move to the end of the session's order, so that a later fetch
// whose MaxBytes cannot hold them all starts with the others (Kafka does
// the same for fairness).
func (s *fetchSession) filter(resp *fetchResponse) {
	var moved []*sessionPart
	kept := s.parts[:0:0]
	topics := resp.Topics[:0]
	records := resp.records[:0]
	for i := range resp.Topics {
		t := resp.Topics[i]
		recs := resp.records[i]
		parts := t.Partitions[:0]
		var precs [][][]byte
		for j := range t.Partitions {
			rp := t.Partitions[j]
			p := s.index[s.key(t.Topic, t.TopicID, rp.Partition)]
			hasRecords := len(recs[j]) > 0
			// A partition the fetch did not reach (MaxBytes was used
			// up first) has no bounds and no error: nothing to say.
			unread := !hasRecords && rp.ErrorCode == 0 && rp.HighWatermark == -1
			changed := hasRecords || rp.ErrorCode != 0 || p == nil ||
				rp.HighWatermark != p.hw || rp.LastStableOffset != p.lso || rp.LogStartOffset != p.logStart ||
				rp.PreferredReadReplica >= 0
			changed = changed && !unread
			if p != nil {
				if changed {
					p.remember(&rp)
				}
				if hasRecords {
					moved = append(moved, p)
				} else {
					kept = append(kept, p)
				}
			}
			if changed {
				parts = append(parts, rp)
				precs = append(precs, recs[j])
			}
		}
		if len(parts) > 0 {
			t.Partitions = parts
			topics = append(topics, t)
			records = append(records, precs)
		}
	}
	resp.Topics, resp.records = topics, records
	if len(kept)+len(moved) == len(s.parts) {
		s.parts = append(kept, moved...)
	}
}

// makeRoom reports whether s may be added, evicting a session if the cache
// is full and Kafka's tryEvict allows it.
func (c *fetchSessions) makeRoom(s *fetchSession) bool {
	if len(c.sessions) < c.slots {
		return true
	}
	now := c.now()
	var lru, least *fetchSession
	for _, o := range c.sessions {
		if lru == nil || o.lastUsed.Before(lru.lastUsed) || (o.lastUsed.Equal(lru.lastUsed) && o.id < lru.id) {
			lru = o
		}
		if !(o.evictAll || (s.privileged && !o.privileged)) {
			continue
		}
		if least == nil || evictKeyLess(o, least) {
			least = o
		}
	}
	switch {
	case lru == nil:
		return false
	case now.Sub(lru.lastUsed) > fetchSessionEvictionAge:
		c.remove(lru.id)
	case least == nil:
		return false
	case evictKeyLess(&fetchSession{privileged: s.privileged, cachedSize: len(s.parts)}, least):
		return false // the new session is worth less than any it may evict
	default:
		c.remove(least.id)
	}
	c.evictions.Inc()
	return true
}

// evictKeyLess orders sessions by Kafka's EvictableKey: unprivileged
// first, then fewer partitions, then lower id.
func evictKeyLess(a, b *fetchSession) bool {
	if a.privileged != b.privileged {
		return !a.privileged
	}
	if a.cachedSize != b.cachedSize {
		return a.cachedSize < b.cachedSize
	}
	return a.id < b.id
}

// touch marks s used now, as Kafka's FetchSessionCache.touch.
func (c *fetchSessions) touch(s *fetchSession) {
	now := c.now()
	s.lastUsed = now
	old := s.cachedSize
	s.cachedSize = len(s.parts)
	s.evictAll = now.Sub(s.created) > fetchSessionEvictionAge
	c.held += s.cachedSize - old
	c.partitions.Add(float64(s.cachedSize - old))
}

func (c *fetchSessions) remove(id int32) {
	s := c.sessions[id]
	if s == nil {
		return
	}
	delete(c.sessions, id)
	c.held -= s.cachedSize
	c.partitions.Sub(float64(s.cachedSize))
	c.active.Set(float64(len(c.sessions)))
}

// newID picks an unused positive session id, as Kafka does.
func (c *fetchSessions) newID() int32 {
	for {
		id := rand.Int32N(math.MaxInt32) + 1
		if c.sessions[id] == nil {
			return id
		}
	}
}

// nextEpoch is Kafka's FetchMetadata.nextEpoch: 1 after the last, never 0.
func nextEpoch(e int32) int32 {
	switch {
	case e < 0:
		return -1
	case e == math.MaxInt32:
		return 1
	}
	return e + 1
}
