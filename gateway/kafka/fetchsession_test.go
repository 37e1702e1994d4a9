package kafka

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// sessReq is a v12 fetch of the given partitions of topic (offsets by
// partition) in session id at epoch; no MinBytes wait.
func sessReq(id, epoch int32, topic string, offsets map[int32]int64) *kmsg.FetchRequest {
	req := fetchReq(12, topic, 0, 0, 0, 0, 1<<20, 1<<20)
	req.SessionID, req.SessionEpoch = id, epoch
	req.Topics[0].Partitions = nil
	for p := range int32(8) {
		off, ok := offsets[p]
		if !ok {
			continue
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = p, off, 1<<20, -1
		req.Topics[0].Partitions = append(req.Topics[0].Partitions, rp)
	}
	if len(req.Topics[0].Partitions) == 0 {
		req.Topics = nil
	}
	return req
}

// answered lists the partitions in a response as "topic/partition", with
// the records each returned.
func answered(resp *kmsg.FetchResponse) map[int32]int {
	out := map[int32]int{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out[p.Partition] = len(p.RecordBatches)
		}
	}
	return out
}

// The life of a session over raw requests: created by a full fetch,
// incremental fetches answer only what changed, forgotten partitions
// stay out, errors 70 and 71 as Kafka returns them, epoch -1 and a full
// fetch naming the session close it.
func TestFetchSessionLifecycle(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "s", 2)
	appendN(t, ts, "s", 0, 3, 10)
	c := dialRaw(t, ts.addr)
	fetch := func(req *kmsg.FetchRequest) *kmsg.FetchResponse {
		t.Helper()
		return c.roundTrip(t, req).(*kmsg.FetchResponse)
	}

	full := fetch(sessReq(0, 0, "s", map[int32]int64{0: 0, 1: 0}))
	id := full.SessionID
	if full.ErrorCode != 0 || id <= 0 {
		t.Fatalf("full fetch: error %d session %d, want a new session", full.ErrorCode, id)
	}
	if got := answered(full); len(got) != 2 || got[0] == 0 {
		t.Fatalf("full fetch answered %v, want both partitions, records in 0", got)
	}

	steps := []struct {
		name   string
		req    *kmsg.FetchRequest
		before func()
		err    *kerr.Error
		sessID int32 // -1: the session's
		want   map[int32]int
	}{
		{"caught up, nothing new", sessReq(id, 1, "s", map[int32]int64{0: 3}), nil, nil, -1, map[int32]int{}},
		{"new records in an unnamed partition", sessReq(id, 2, "s", nil), func() { appendN(t, ts, "s", 1, 1, 10) }, nil, -1, map[int32]int{1: 1}},
		{"wrong epoch", sessReq(id, 2, "s", nil), nil, kerr.InvalidFetchSessionEpoch, 0, nil},
		{"the right epoch still works", sessReq(id, 3, "s", map[int32]int64{1: 1}), nil, nil, -1, map[int32]int{}},
		{"unknown session", sessReq(id+1, 1, "s", nil), nil, kerr.FetchSessionIDNotFound, 0, nil},
		{"offset moved back: records again", sessReq(id, 4, "s", map[int32]int64{0: 1}), nil, nil, -1, map[int32]int{0: 1}},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		resp := fetch(st.req)
		if resp.ErrorCode != code(st.err) {
			t.Fatalf("%s: error %v, want %v", st.name, kerr.ErrorForCode(resp.ErrorCode), st.err)
		}
		want := st.sessID
		if want == -1 {
			want = id
		}
		if resp.SessionID != want {
			t.Fatalf("%s: session id %d, want %d", st.name, resp.SessionID, want)
		}
		if st.want == nil {
			if len(resp.Topics) != 0 {
				t.Fatalf("%s: error answer with %d topics", st.name, len(resp.Topics))
			}
			continue
		}
		got := answered(resp)
		if len(got) != len(st.want) {
			t.Fatalf("%s: answered %v, want %v", st.name, got, st.want)
		}
		for p, n := range st.want {
			if g, ok := got[p]; !ok || (n > 0) != (g > 0) {
				t.Fatalf("%s: answered %v, want %v", st.name, got, st.want)
			}
		}
	}

	// Forget partition 1: new records there are no longer answered.
	forget := sessReq(id, 5, "s", map[int32]int64{0: 3})
	forget.ForgottenTopics = []kmsg.FetchRequestForgottenTopic{{Topic: "s", Partitions: []int32{1}}}
	if resp := fetch(forget); resp.SessionID != id || len(answered(resp)) != 0 {
		t.Fatalf("forget: session %d answered %v", resp.SessionID, answered(resp))
	}
	appendN(t, ts, "s", 1, 1, 10)
	if resp := fetch(sessReq(id, 6, "s", nil)); len(answered(resp)) != 0 {
		t.Fatalf("forgotten partition answered: %v", answered(resp))
	}

	// Forgetting every partition closes the session; the request is
	// answered sessionless.
	all := sessReq(id, 7, "s", nil)
	all.ForgottenTopics = []kmsg.FetchRequestForgottenTopic{{Topic: "s", Partitions: []int32{0}}}
	if resp := fetch(all); resp.ErrorCode != 0 || resp.SessionID != 0 {
		t.Fatalf("forget all: error %d session %d, want sessionless", resp.ErrorCode, resp.SessionID)
	}
	if resp := fetch(sessReq(id, 8, "s", nil)); resp.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("after forget all: %v, want FETCH_SESSION_ID_NOT_FOUND", kerr.ErrorForCode(resp.ErrorCode))
	}

	// A full fetch naming a session closes it and opens another; epoch
	// -1 closes it and answers sessionless.
	a := fetch(sessReq(0, 0, "s", map[int32]int64{0: 0})).SessionID
	b := fetch(sessReq(a, 0, "s", map[int32]int64{0: 0})).SessionID
	if a == 0 || b == 0 || a == b {
		t.Fatalf("sessions %d then %d, want two", a, b)
	}
	if resp := fetch(sessReq(a, 1, "s", nil)); resp.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("replaced session: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	closing := fetch(sessReq(b, -1, "s", map[int32]int64{0: 0}))
	if closing.ErrorCode != 0 || closing.SessionID != 0 || answered(closing)[0] == 0 {
		t.Fatalf("epoch -1: error %d session %d answered %v", closing.ErrorCode, closing.SessionID, answered(closing))
	}
	if resp := fetch(sessReq(b, 1, "s", nil)); resp.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("closed session: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
}

// A session on an unknown partition answers its error every time, so a
// client waiting for the topic hears of it.
func TestFetchSessionErrorsAlwaysAnswered(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.AutoCreateTopics = false })
	c := dialRaw(t, ts.addr)
	full := c.roundTrip(t, sessReq(0, 0, "missing", map[int32]int64{0: 0})).(*kmsg.FetchResponse)
	if full.SessionID == 0 {
		t.Fatal("no session")
	}
	for epoch := int32(1); epoch <= 2; epoch++ {
		resp := c.roundTrip(t, sessReq(full.SessionID, epoch, "missing", nil)).(*kmsg.FetchResponse)
		if len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("epoch %d: %+v, want UNKNOWN_TOPIC_OR_PARTITION again", epoch, resp.Topics)
		}
	}
}

// fakeFull opens and finishes a full fetch of n partitions on c without a
// server, returning the session id (0: none).
func fakeFull(c *fetchSessions, n int) int32 {
	offsets := map[int32]int64{}
	for p := range int32(n) {
		offsets[p] = 0
	}
	fc := c.open(sessReq(0, 0, "t", offsets))
	resp := &fetchResponse{FetchResponse: fc.req.ResponseKind().(*kmsg.FetchResponse)}
	fc.finish(resp)
	return resp.SessionID
}

func fakeIncremental(c *fetchSessions, id, epoch int32) int16 {
	fc := c.open(sessReq(id, epoch, "t", nil))
	return fc.errCode
}

// Eviction follows Kafka's FetchSessionCache.tryEvict; the clock is the
// cache's own, moved by the test.
func TestFetchSessionEviction(t *testing.T) {
	type step struct {
		name    string
		advance time.Duration
		touch   []int // indexes of earlier sessions used (incremental) now
		create  int   // partitions of a new session; 0: none
		want    bool  // the new session gets an id
		evicted int   // index of the session it evicts, -1 none
	}
	tests := []struct {
		name  string
		slots int
		steps []step
	}{
		{"room", 2, []step{
			{name: "first", create: 1, want: true, evicted: -1},
			{name: "second", create: 1, want: true, evicted: -1},
		}},
		{"full, all young: refused however large", 2, []step{
			{name: "a", create: 1, want: true, evicted: -1},
			{name: "b", create: 1, want: true, evicted: -1},
			{name: "c", advance: time.Minute, touch: []int{0, 1}, create: 50, want: false, evicted: -1},
		}},
		{"idle over two minutes: least recently used evicted", 2, []step{
			{name: "a", create: 5, want: true, evicted: -1},
			{name: "b", create: 5, want: true, evicted: -1},
			{name: "c", advance: 121 * time.Second, touch: []int{1}, create: 1, want: true, evicted: 0},
		}},
		{"old but used: evicted only by a larger session", 2, []step{
			{name: "a", create: 2, want: true, evicted: -1},
			{name: "b", create: 3, want: true, evicted: -1},
			{name: "same size", advance: 3 * time.Minute, touch: []int{0, 1}, create: 2, want: false, evicted: -1},
			{name: "larger", create: 3, want: true, evicted: 0},
		}},
		{"used while young: not evictable until used again when old", 2, []step{
			{name: "a", create: 1, want: true, evicted: -1},
			{name: "b", create: 1, want: true, evicted: -1},
			{name: "touched at 1m", advance: time.Minute, touch: []int{0, 1}},
			{name: "at 2m30 both used 90s ago", advance: 90 * time.Second, create: 9, want: false, evicted: -1},
		}},
		{"no slots", -1, []step{
			{name: "none", create: 1, want: false, evicted: -1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := newFetchSessions(tt.slots, nil)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Unix(1e9, 0)
			c.now = func() time.Time { return now }
			var ids []int32
			epochs := map[int32]int32{}
			for _, st := range tt.steps {
				now = now.Add(st.advance)
				for _, i := range st.touch {
					code := fakeIncremental(c, ids[i], epochs[ids[i]])
					epochs[ids[i]]++
					if code != 0 {
						t.Fatalf("%s: touch %d: %v", st.name, i, kerr.ErrorForCode(code))
					}
				}
				if st.create == 0 {
					continue
				}
				before := counterValue(c.evictions)
				id := fakeFull(c, st.create)
				if (id != 0) != st.want {
					t.Fatalf("%s: session id %d, want one: %v", st.name, id, st.want)
				}
				if id != 0 {
					epochs[id] = 1
				}
				ids = append(ids, id)
				evicted := counterValue(c.evictions) - before
				if (st.evicted >= 0) != (evicted == 1) {
					t.Fatalf("%s: %v evictions, want session %d evicted", st.name, evicted, st.evicted)
				}
				if st.evicted >= 0 && c.sessions[ids[st.evicted]] != nil {
					t.Fatalf("%s: session %d still cached", st.name, st.evicted)
				}
			}
			if n := len(c.sessions); n > max(tt.slots, 0) {
				t.Fatalf("%d sessions cached, slots %d", n, tt.slots)
			}
		})
	}
}

// franz-go consumers use sessions: after the first full fetch they fetch
// incrementally, and still get every record.
func TestFetchSessionKgo(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, func(c *Config) { c.Registerer = reg })
	ts.createTopic(t, "k", 3)
	cl := ts.client(t, kgo.DefaultProduceTopic("k"))
	ctx := testContext(t)
	for i := range 30 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	consumer := ts.client(t, kgo.ConsumeTopics("k"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	for round, want := range []int{30, 60} {
		if round == 1 {
			// The consumer has sessions now: these come by incremental fetches.
			for i := range 30 {
				if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte{byte(i)}}).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
		}
		for got < want {
			fs := consumer.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("consumed %d of %d records", got, want)
			}
			fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
			got += fs.NumRecords()
		}
	}
	if got != 60 {
		t.Fatalf("%d records, want 60", got)
	}
	full := counterValue(ts.sessions.fetches.WithLabelValues("full"))
	inc := counterValue(ts.sessions.fetches.WithLabelValues("incremental"))
	if full < 1 || inc < 1 {
		t.Fatalf("%v full and %v incremental fetches, want both", full, inc)
	}
}

// Fetch v13+ names topics by id: a known id reads its topic, an unknown one
// gets UNKNOWN_TOPIC_ID; a session keeps to names or to ids, and switching
// gets FETCH_SESSION_TOPIC_ID_ERROR.
func TestFetchTopicIDs(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "ids", 1)
	appendN(t, ts, "ids", 0, 2, 10)
	st, err := ts.store.DescribeStream(testContext(t), "ids")
	if err != nil {
		t.Fatal(err)
	}
	id := topicID(st)
	c := dialRaw(t, ts.addr)
	byID := func(v int16, sid, epoch int32, tid [16]byte, offsets map[int32]int64) *kmsg.FetchRequest {
		req := sessReq(sid, epoch, "", offsets)
		req.Version = v
		if len(req.Topics) > 0 {
			req.Topics[0].TopicID = tid
		}
		return req
	}
	fetch := func(req *kmsg.FetchRequest) *kmsg.FetchResponse {
		t.Helper()
		return c.roundTrip(t, req).(*kmsg.FetchResponse)
	}

	for v := int16(13); v <= 17; v++ {
		resp := fetch(byID(v, 0, -1, id, map[int32]int64{0: 0}))
		if len(resp.Topics) != 1 || resp.Topics[0].TopicID != id || resp.Topics[0].Partitions[0].ErrorCode != 0 ||
			resp.Topics[0].Partitions[0].HighWatermark != 2 || len(resp.Topics[0].Partitions[0].RecordBatches) == 0 {
			t.Fatalf("v%d by id: %+v", v, resp.Topics)
		}
		unknown := fetch(byID(v, 0, -1, [16]byte{1, 2, 3}, map[int32]int64{0: 0}))
		if p := unknown.Topics[0].Partitions[0]; p.ErrorCode != kerr.UnknownTopicID.Code || p.HighWatermark != -1 {
			t.Fatalf("v%d unknown id: %v hw %d", v, kerr.ErrorForCode(p.ErrorCode), p.HighWatermark)
		}
	}

	// An id session, then a v12 (names) fetch in it, and the reverse.
	idSess := fetch(byID(13, 0, 0, id, map[int32]int64{0: 2})).SessionID
	nameSess := fetch(sessReq(0, 0, "ids", map[int32]int64{0: 2})).SessionID
	if idSess == 0 || nameSess == 0 {
		t.Fatalf("sessions %d %d", idSess, nameSess)
	}
	if resp := fetch(sessReq(idSess, 1, "ids", nil)); resp.ErrorCode != kerr.FetchSessionTopicIDError.Code {
		t.Fatalf("names in an id session: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	if resp := fetch(byID(13, nameSess, 1, id, nil)); resp.ErrorCode != kerr.FetchSessionTopicIDError.Code {
		t.Fatalf("ids in a name session: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	// Both still work as they began.
	appendN(t, ts, "ids", 0, 1, 10)
	if resp := fetch(byID(13, idSess, 1, id, nil)); resp.ErrorCode != 0 || answered(resp)[0] == 0 || resp.Topics[0].TopicID != id {
		t.Fatalf("id session: %v %v", kerr.ErrorForCode(resp.ErrorCode), answered(resp))
	}
	if resp := fetch(sessReq(nameSess, 1, "ids", nil)); resp.ErrorCode != 0 || answered(resp)[0] == 0 {
		t.Fatalf("name session: %v %v", kerr.ErrorForCode(resp.ErrorCode), answered(resp))
	}
	// Forgetting by id.
	forget := byID(13, idSess, 2, id, nil)
	forget.ForgottenTopics = []kmsg.FetchRequestForgottenTopic{{TopicID: id, Partitions: []int32{0}}}
	if resp := fetch(forget); resp.SessionID != 0 {
		t.Fatalf("forgetting the only partition by id left session %d", resp.SessionID)
	}
}

// The partitions all sessions hold are bounded: past the bound a full
// fetch gets no session and an incremental one closes its session.
func TestFetchSessionPartitionBound(t *testing.T) {
	c, err := newFetchSessions(10, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.maxHeld = 3
	a := fakeFull(c, 2)
	if a == 0 {
		t.Fatal("no session for 2 partitions")
	}
	if b := fakeFull(c, 2); b != 0 {
		t.Fatalf("session %d past the bound", b)
	}
	fc := c.open(sessReq(a, 1, "t", map[int32]int64{0: 0, 5: 0, 6: 0}))
	if fc.errCode != 0 || fc.sess != nil || fc.kind != "sessionless" || c.sessions[a] != nil {
		t.Fatalf("growing past the bound: error %d kind %s, session kept %v", fc.errCode, fc.kind, c.sessions[a] != nil)
	}
	if c.held != 0 {
		t.Fatalf("%d partitions held with no session", c.held)
	}
	if b := fakeFull(c, 3); b == 0 {
		t.Fatal("no session after the space was freed")
	}
}

// When MaxBytes stops an incremental fetch early, the partitions it did not
// reach are left out (not reported with no bounds), and the next fetch
// starts with them: partitions that returned records move to the end.
func TestFetchSessionRoundRobin(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "rr", 2)
	appendN(t, ts, "rr", 0, 1, 500)
	appendN(t, ts, "rr", 1, 1, 500)
	c := dialRaw(t, ts.addr)
	fetch := func(req *kmsg.FetchRequest) *kmsg.FetchResponse {
		t.Helper()
		req.MaxBytes = 1 // the first batch goes anyway
		return c.roundTrip(t, req).(*kmsg.FetchResponse)
	}
	id := fetch(sessReq(0, 0, "rr", map[int32]int64{0: 1, 1: 1})).SessionID
	if id == 0 {
		t.Fatal("no session")
	}
	appendN(t, ts, "rr", 0, 1, 500)
	appendN(t, ts, "rr", 1, 1, 500)
	for i, want := range []int32{0, 1} {
		offsets := map[int32]int64{}
		if i == 1 {
			offsets[0] = 2 // partition 0's record was read
		}
		resp := fetch(sessReq(id, int32(i+1), "rr", offsets))
		got := answered(resp)
		if len(got) != 1 || got[want] == 0 {
			t.Fatalf("fetch %d answered %v, want only partition %d with records", i+1, got, want)
		}
		if hw := resp.Topics[0].Partitions[0].HighWatermark; hw != 2 {
			t.Fatalf("fetch %d: high watermark %d", i+1, hw)
		}
	}
}
