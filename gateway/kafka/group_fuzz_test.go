package kafka

// Fuzz targets for the group APIs and for what groups leave in the store:
// no input may panic a handler or the loader, and every answer must encode.

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupKeys are the APIs of the group coordinator.
var groupKeys = map[int16]bool{8: true, 9: true, 10: true, 11: true, 12: true, 13: true, 14: true, 15: true, 16: true, 42: true, 47: true, 68: true, 69: true}

// FuzzGroupRequest runs every group API's handler on fuzzed requests
// against one long-lived coordinator, so fuzzed requests meet the groups
// earlier ones made. A JoinGroup or SyncGroup that parks gives up after
// 20ms (its connection "closes"), which the coordinator must survive.
func FuzzGroupRequest(f *testing.F) {
	fm := kmsg.NewRequestFormatter(kmsg.FormatterClientID("seed"))
	add := func(req kmsg.Request) {
		frame := fm.AppendRequest(nil, req, 7)
		f.Add(frame[4:])
	}
	for key := range groupKeys {
		api, _ := lookup(key)
		for v := api.MinVersion; v <= api.MaxVersion; v++ {
			req := kmsg.RequestForKey(key)
			req.SetVersion(v)
			add(req)
		}
	}
	for _, v := range []int16{0, 3, 5, 9} {
		add(joinReq(v, "g", "", nil))
		add(joinReq(v, "g", "", kmsg.StringPtr("i")))
		add(syncReq(min(v, 5), "g", "m", 1, map[string][]byte{"m": consumerMeta("t")}))
		add(heartbeatReq(min(v, 4), "g", "m", 1))
		add(commitReq(v, "g", "", -1, "t", map[int32]int64{0: 1}))
	}
	// KIP-848 consumer groups: joins by name and regex, a heartbeat
	// owning partitions, leaves, a describe.
	add(cgJoin("g8", "m1", "t"))
	rx := cgJoin("g8", "m2")
	rx.SubscribedTopicNames, rx.SubscribedTopicRegex, rx.ServerAssignor = nil, kmsg.StringPtr("^t.*"), kmsg.StringPtr("range")
	add(rx)
	st := cgJoin("g8", "m3", "t")
	st.InstanceID = kmsg.StringPtr("i")
	add(st)
	add(cgBeat("g8", "m1", 1, [16]byte{1}, []int32{0, 1}))
	add(cgBeat("g8", "m1", -1, [16]byte{}, nil))
	leave := cgBeat("g8", "m3", -2, [16]byte{}, nil)
	leave.InstanceID = kmsg.StringPtr("i")
	add(leave)
	cd := kmsg.NewPtrConsumerGroupDescribeRequest()
	cd.Version, cd.Groups = 1, []string{"g8", "g"}
	add(cd)
	// Mixed groups (cgroup_classic.go): a classic member joining,
	// syncing, heartbeating in and leaving a consumer group, owned
	// partitions in its metadata; a consumer join upgrading group g.
	add(mixJoin("g8", "", "t"))
	add(mixJoin("g8", "c1", "t", 0, 1))
	add(syncReq(5, "g8", "c1", 2, nil))
	add(heartbeatReq(4, "g8", "c1", 2))
	lv := kmsg.NewPtrLeaveGroupRequest()
	lv.Version, lv.Group = 5, "g8"
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = "c1"
	lv.Members = append(lv.Members, lm)
	add(lv)
	add(cgJoin("g", "u1", "t"))
	ts := startGroupServer(f, "", fastGroups)
	ts.createTopic(f, "t", 2)
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}

	f.Fuzz(func(t *testing.T, frame []byte) {
		key, version, corr, h, err := decodeRequest(frame)
		if err != nil || !groupKeys[key] {
			return
		}
		api, _ := lookup(key)
		if version < api.MinVersion || version > api.MaxVersion || h.req.ReadFrom(h.rest) != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		r := &Request{Server: ts.Server, Key: key, Version: version, CorrelationID: corr, ClientID: h.clientID, Remote: remote, Listener: &ts.cfg.Listeners[0], Principal: "User:" + anonymous, Body: h.req}
		rep, err := api.Handle(ctx, r)
		if err != nil {
			t.Fatalf("%s handler failed: %v", api.Key.Name(), err)
		}
		resp := rep.resp
		if rep.later != nil {
			if resp, err = rep.later(ctx); err != nil {
				return // a parked request whose connection went away
			}
		}
		if resp == nil || resp.Key() != key {
			t.Fatalf("%s handler answered %v", api.Key.Name(), resp)
		}
		out := encodeResponse(nil, &inflight{key: key, version: version, corr: corr}, resp)
		back := kmsg.ResponseForKey(key)
		back.SetVersion(version)
		skip := 8
		if back.IsFlexible() {
			skip++
		}
		if err := back.ReadFrom(out[skip:]); err != nil {
			t.Fatalf("%s v%d response does not decode: %v", api.Key.Name(), version, err)
		}
	})
}

// FuzzGroupStoredValues feeds the decoders of stored offsets and keys.
func FuzzGroupStoredValues(f *testing.F) {
	f.Add([]byte(offsetKey("g", "t", 3)[1:]), committedOffset{offset: 5, leaderEpoch: -1, metadata: "m"}.encode())
	f.Add([]byte{}, []byte{0})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		if g, topic, p, ok := parseOffsetKey(string(key)); ok {
			if again := offsetKey(g, topic, p)[1:]; again != string(key) {
				t.Fatalf("key %x parses to (%q, %q, %d), which encodes as %x", key, g, topic, p, again)
			}
		}
		if o, err := decodeCommittedOffset(value); err == nil {
			if string(o.encode()) != string(value) {
				t.Fatalf("value %x decodes to %+v, which encodes differently", value, o)
			}
		}
	})
}
