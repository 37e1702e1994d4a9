package kafka

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/mapping/recordbatch"
)

// fuzzHandled are the keys whose handlers the fuzz target runs, not only
// decodes: the data path, which must never panic on any input. The admin
// APIs are decoded only: a fuzzed CreateTopics may legitimately ask for
// millions of partitions.
var fuzzHandled = map[int16]bool{0: true, 1: true, 2: true, 3: true, 18: true, 22: true, 23: true, 61: true}

// FuzzRequest drives the request path: frame -> header -> kmsg body ->
// handler -> deferred reply -> encoded response. A frame that cannot be
// decoded must be refused with an error (closing the connection in
// production), never a panic; one that decodes must be answered with a
// response that encodes. Handlers run without the connection's recover, so
// a panic fails the fuzzer.
func FuzzRequest(f *testing.F) {
	for _, seed := range seedFrames(f) {
		f.Add(seed)
	}
	ts := startServer(f, func(c *Config) { c.AutoCreateTopics = false })
	ts.createTopic(f, "t", 2)
	c := &conn{s: ts.Server, listener: &ts.cfg.Listeners[0], remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, auth: connAuth{user: anonymous, authenticated: true}}

	f.Fuzz(func(t *testing.T, frame []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		c.ctx = ctx
		key, version, corr, h, err := decodeRequest(frame)
		if err != nil {
			return
		}
		api, ok := lookup(key)
		if !ok || version < api.MinVersion || version > api.MaxVersion {
			return
		}
		if err := h.req.ReadFrom(h.rest); err != nil {
			return
		}
		if !fuzzHandled[key] {
			return
		}
		r := &Request{Server: c.s, Key: key, Version: version, CorrelationID: corr, ClientID: h.clientID, Remote: c.remote, Listener: c.listener, Principal: c.auth.principal(), Body: h.req, conn: c}
		rep, err := api.Handle(ctx, r)
		if err != nil {
			return
		}
		resp := rep.resp
		if rep.later != nil {
			// Always run: it completes pending appends (acks=0 too).
			if resp, err = rep.later(ctx); err != nil {
				return
			}
		}
		if rep.none {
			return
		}
		if resp == nil || resp.Key() != key {
			t.Fatalf("%s handler answered %v", api.Key.Name(), resp)
		}
		out := encodeResponse(nil, &inflight{key: key, version: version, corr: corr}, resp)
		back := req2resp(key)
		back.SetVersion(version)
		skip := 8
		if back.IsFlexible() && key != 18 {
			skip++
		}
		if err := back.ReadFrom(out[skip:]); err != nil {
			t.Fatalf("%s v%d response does not decode: %v", api.Key.Name(), version, err)
		}
	})
}

func req2resp(key int16) kmsg.Response { return kmsg.ResponseForKey(key) }

// seedFrames are valid requests of every registered API at its lowest and
// highest versions, plus filled-in data-path requests.
func seedFrames(tb testing.TB) [][]byte {
	fm := kmsg.NewRequestFormatter(kmsg.FormatterClientID("seed"))
	var out [][]byte
	add := func(req kmsg.Request) {
		frame := fm.AppendRequest(nil, req, 7)
		out = append(out, frame[4:]) // without the size prefix
	}
	for _, api := range registeredAPIs() {
		for _, v := range []int16{api.MinVersion, api.MaxVersion} {
			req := kmsg.RequestForKey(int16(api.Key))
			req.SetVersion(v)
			add(req)
		}
	}
	batch := encodeBatch(tb, recordbatch.EncodeOptions{Codec: recordbatch.LZ4}, "a", "b")
	idem := encodeBatch(tb, recordbatch.EncodeOptions{Idempotent: true, ProducerID: 1, BaseSequence: 0}, "i")
	for _, v := range []int16{3, 9, 11} {
		add(produceReq(v, -1, "t", 0, batch))
		add(produceReq(v, 1, "t", 1, idem))
		add(produceReq(v, 0, "t", 0, batch))
	}
	for _, v := range []int16{4, 7, 12} {
		add(fetchReq(v, "t", 0, 0, 5, 1, 1<<20, 1<<20))
	}
	addLegacySeeds(tb, add, batch)
	// Fetch sessions: create, incremental with a forgotten topic, close;
	// v13+ by topic id.
	add(sessReq(0, 0, "t", map[int32]int64{0: 0, 1: 0}))
	inc := sessReq(1, 1, "t", map[int32]int64{1: 0})
	inc.ForgottenTopics = []kmsg.FetchRequestForgottenTopic{{Topic: "t", Partitions: []int32{0}}}
	add(inc)
	add(sessReq(1, -1, "t", nil))
	byID := sessReq(0, 0, "", map[int32]int64{0: 0})
	byID.Version, byID.Topics[0].TopicID = 17, [16]byte{1}
	add(byID)
	add(metadataReq(12, true, "t", "u"))
	add(metadataReq(0, false))
	lo := kmsg.NewPtrListOffsetsRequest()
	lo.Version = 7
	lo.Topics = []kmsg.ListOffsetsRequestTopic{{Topic: "t", Partitions: []kmsg.ListOffsetsRequestTopicPartition{{Partition: 0, Timestamp: -3}}}}
	add(lo)
	// Transactions: read_committed fetches and ListOffsets, a client's
	// control batch (refused), DescribeProducers.
	for _, v := range []int16{4, 12} {
		rc := fetchReq(v, "t", 0, 0, 5, 1, 1<<20, 1<<20)
		rc.IsolationLevel = 1
		add(rc)
	}
	lo = kmsg.NewPtrListOffsetsRequest()
	lo.Version = 7
	lo.IsolationLevel = 1
	lo.Topics = []kmsg.ListOffsetsRequestTopic{{Topic: "t", Partitions: []kmsg.ListOffsetsRequestTopicPartition{{Partition: 0, Timestamp: -1}}}}
	add(lo)
	ctl, err := recordbatch.EncodeControl(1, 0, recordbatch.Control{Type: recordbatch.ControlAbort}, time.UnixMilli(0))
	if err != nil {
		tb.Fatal(err)
	}
	add(produceReq(9, -1, "t", 0, ctl))
	dp := kmsg.NewPtrDescribeProducersRequest()
	dp.Topics = []kmsg.DescribeProducersRequestTopic{{Topic: "t", Partitions: []int32{0, 1, 9}}, {Topic: "nope", Partitions: []int32{0}}}
	add(dp)
	return out
}
