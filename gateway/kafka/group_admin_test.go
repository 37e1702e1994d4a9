package kafka

// Group administration as tools see it (kadm: describe, list, lag, fetch,
// delete) and the offset APIs on the wire.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store/embedded"
)

func TestGroupAdminKadm(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	ctx := testContext(t)
	adm := ts.admin(t)
	ts.createTopic(t, "lagt", 6)
	ts.createTopic(t, "other", 1)
	ts.produceNumbered(t, "lagt", 0, 120)
	ends, err := adm.ListEndOffsets(ctx, "lagt")
	if err != nil {
		t.Fatal(err)
	}

	// Two members consume everything and commit it.
	s := newSeen()
	a := ts.startMember(t, "member-a", "ga", "lagt", s)
	b := ts.startMember(t, "member-b", "ga", "lagt", s)
	waitAssigned(t, 6, time.Minute, nil, a, b)
	s.waitFor(t, 0, 120, time.Minute)
	waitFor(t, "commits at the end offsets", func() bool {
		os, err := adm.FetchOffsets(ctx, "ga")
		if err != nil || os.Error() != nil {
			return false
		}
		done := true
		ends.Each(func(o kadm.ListedOffset) {
			c, ok := os.Lookup("lagt", o.Partition)
			done = done && ok && c.At == o.Offset
		})
		return done
	})

	dg, err := adm.DescribeGroups(ctx, "ga")
	if err != nil {
		t.Fatal(err)
	}
	g := dg["ga"]
	if g.Err != nil || g.State != "Stable" || g.ProtocolType != "consumer" || g.Protocol == "" || len(g.Members) != 2 {
		t.Fatalf("described %+v", g)
	}
	clients := []string{}
	for _, m := range g.Members {
		clients = append(clients, m.ClientID)
		if m.ClientHost != "/127.0.0.1" || !strings.HasPrefix(m.MemberID, m.ClientID+"-") {
			t.Errorf("member %+v", m)
		}
		if j, ok := m.Join.AsConsumer(); !ok || len(j.Topics) != 1 || j.Topics[0] != "lagt" {
			t.Errorf("member %s subscription %+v", m.MemberID, m.Join)
		}
	}
	sort.Strings(clients)
	if fmt.Sprint(clients) != "[member-a member-b]" {
		t.Errorf("client ids %v", clients)
	}
	if ap := g.AssignedPartitions(); len(ap["lagt"]) != 6 {
		t.Errorf("assigned partitions %v, want the 6 of lagt", ap)
	}

	lags, err := adm.Lag(ctx, "ga")
	if err != nil || lags.Error() != nil {
		t.Fatalf("lag: %v %v", err, lags.Error())
	}
	l := lags["ga"]
	if total := l.Lag.Total(); total != 0 {
		t.Errorf("lag of a caught-up group: %d", total)
	}
	for p := int32(0); p < 6; p++ {
		ml, ok := l.Lag.Lookup("lagt", p)
		if !ok || ml.Member == nil || ml.Err != nil || ml.Lag != 0 {
			t.Errorf("partition %d lag %+v", p, ml)
		}
	}

	// A simple consumer's commits into another group: exact lag.
	commits := kadm.Offsets{}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		at := o.Offset / 2
		commits.Add(kadm.Offset{Topic: "lagt", Partition: o.Partition, At: at, LeaderEpoch: -1, Metadata: fmt.Sprintf("p%d", o.Partition)})
		want[o.Partition] = o.Offset - at
	})
	cr, err := adm.CommitOffsets(ctx, "simple", commits)
	if err != nil || cr.Error() != nil {
		t.Fatalf("simple commit: %v %v", err, cr.Error())
	}
	lags, err = adm.Lag(ctx, "simple")
	if err != nil || lags.Error() != nil {
		t.Fatalf("lag: %v %v", err, lags.Error())
	}
	if st := lags["simple"].State; st != "Empty" {
		t.Errorf("simple group state %q", st)
	}
	for p, w := range want {
		ml, ok := lags["simple"].Lag.Lookup("lagt", p)
		if !ok || ml.Lag != w || !ml.IsEmpty() || ml.Commit.Metadata != fmt.Sprintf("p%d", p) {
			t.Errorf("simple partition %d: %+v, want lag %d", p, ml, w)
		}
	}

	// ListGroups, with the states filter in any case.
	lg, err := adm.ListGroups(ctx)
	if err != nil || fmt.Sprint(lg.Groups()) != "[ga simple]" {
		t.Fatalf("list groups: %v %v", lg.Groups(), err)
	}
	if lg["simple"].ProtocolType != "" || lg["ga"].ProtocolType != "consumer" || lg["ga"].State != "Stable" {
		t.Errorf("listed %+v", lg)
	}
	lg, err = adm.ListGroups(ctx, "empty")
	if err != nil || fmt.Sprint(lg.Groups()) != "[simple]" {
		t.Fatalf("list empty groups: %v %v", lg.Groups(), err)
	}

	// Refusals while members are there.
	dr, err := adm.DeleteGroups(ctx, "ga", "nosuch")
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(dr["ga"].Err, kerr.NonEmptyGroup) || !errors.Is(dr["nosuch"].Err, kerr.GroupIDNotFound) {
		t.Fatalf("delete groups: %+v", dr)
	}
	od, err := adm.DeleteOffsets(ctx, "ga", kadm.TopicsSet{"lagt": {0: {}}, "other": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(od["lagt"][0], kerr.GroupSubscribedToTopic) || od["other"][0] != nil {
		t.Fatalf("delete offsets: %+v", od)
	}

	// Members leave: the group is Empty, keeps its offsets, and can go.
	a.cl.Close()
	b.cl.Close()
	waitFor(t, "the group to empty", func() bool {
		dg, err := adm.DescribeGroups(ctx, "ga")
		return err == nil && dg["ga"].State == "Empty" && len(dg["ga"].Members) == 0
	})
	os, err := adm.FetchOffsets(ctx, "ga")
	if err != nil || len(os["lagt"]) != 6 {
		t.Fatalf("offsets of the emptied group: %v %v", os, err)
	}
	od, err = adm.DeleteOffsets(ctx, "ga", kadm.TopicsSet{"lagt": {0: {}}})
	if err != nil || od["lagt"][0] != nil {
		t.Fatalf("delete offsets of an empty group: %v %v", od, err)
	}
	if os, _ := adm.FetchOffsets(ctx, "ga"); len(os["lagt"]) != 5 {
		t.Fatalf("after deleting one: %d offsets", len(os["lagt"]))
	}
	dr, err = adm.DeleteGroups(ctx, "ga", "simple")
	if err != nil || dr.Error() != nil {
		t.Fatalf("delete groups: %v %v", err, dr.Error())
	}
	dg, err = adm.DescribeGroups(ctx, "ga")
	if err != nil || dg["ga"].State != "Dead" {
		t.Fatalf("deleted group described as %+v (%v)", dg["ga"], err)
	}
	if os, err := adm.FetchOffsets(ctx, "simple"); err != nil || len(os) != 0 {
		t.Fatalf("offsets of a deleted group: %v %v", os, err)
	}
	if lg, _ := adm.ListGroups(ctx); len(lg) != 0 {
		t.Fatalf("groups left: %v", lg.Groups())
	}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func commitReq(v int16, group, member string, gen int32, topic string, offsets map[int32]int64) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = v
	req.Group, req.MemberID, req.Generation = group, member, gen
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	ps := make([]int32, 0, len(offsets))
	for p := range offsets {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	for _, p := range ps {
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset = p, offsets[p]
		rp.Metadata = kmsg.StringPtr(fmt.Sprintf("m%d", offsets[p]))
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	return req
}

func commitCodes(resp *kmsg.OffsetCommitResponse) []string {
	var out []string
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out = append(out, fmt.Sprintf("%s/%d:%s", t.Topic, p.Partition, codeName(p.ErrorCode)))
		}
	}
	return out
}

func TestGroupOffsetCommitRules(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	ts.createTopic(t, "oc", 2)
	c := dialRaw(t, ts.addr)
	check := func(what string, req *kmsg.OffsetCommitRequest, want string) {
		t.Helper()
		got := strings.Join(commitCodes(c.roundTrip(t, req).(*kmsg.OffsetCommitResponse)), " ")
		if got != want {
			t.Errorf("%s: %s, want %s", what, got, want)
		}
	}
	none := "oc/0:NONE"
	for v := int16(0); v <= 9; v++ {
		check(fmt.Sprintf("v%d simple commit", v), commitReq(v, "simple", "", -1, "oc", map[int32]int64{0: int64(v)}), none)
	}
	check("unknown partition and topic", commitReq(9, "simple", "", -1, "oc", map[int32]int64{1: 1, 2: 2}),
		"oc/1:NONE oc/2:"+kerr.UnknownTopicOrPartition.Error())
	check("unknown topic", commitReq(9, "simple", "", -1, "nosuch", map[int32]int64{0: 1}), "nosuch/0:"+kerr.UnknownTopicOrPartition.Error())
	big := commitReq(9, "simple", "", -1, "oc", map[int32]int64{0: 5})
	big.Topics[0].Partitions[0].Metadata = kmsg.StringPtr(strings.Repeat("x", 4097))
	check("metadata too large", big, "oc/0:"+kerr.OffsetMetadataTooLarge.Error())
	check("empty group id (allowed, as in Kafka)", commitReq(9, "", "", -1, "oc", map[int32]int64{0: 4}), none)
	check("v8 generation of no group", commitReq(8, "nogroup", "m", 3, "oc", map[int32]int64{0: 1}), "oc/0:"+kerr.IllegalGeneration.Error())
	check("v9 generation of no group", commitReq(9, "nogroup", "m", 3, "oc", map[int32]int64{0: 1}), "oc/0:"+kerr.GroupIDNotFound.Error())
	if d := describe(t, c, 5, "nogroup"); d.State != "Dead" {
		t.Fatalf("a refused commit created group nogroup: %s", d.State)
	}

	id, gen := joinOne(t, c, 9, "member")
	check("member commit", commitReq(9, "member", id, gen, "oc", map[int32]int64{0: 7}), none)
	check("wrong generation", commitReq(9, "member", id, gen+1, "oc", map[int32]int64{0: 7}), "oc/0:"+kerr.IllegalGeneration.Error())
	check("unknown member", commitReq(9, "member", "who", gen, "oc", map[int32]int64{0: 7}), "oc/0:"+kerr.UnknownMemberID.Error())
	check("simple commit into a group with members", commitReq(9, "member", "", -1, "oc", map[int32]int64{0: 7}), "oc/0:"+kerr.UnknownMemberID.Error())
	check("v0 commit into a group with members", commitReq(0, "member", "", -1, "oc", map[int32]int64{0: 7}), "oc/0:"+kerr.UnknownMemberID.Error())

	// What was committed last is what OffsetFetch says, at every version.
	for v := int16(1); v <= 9; v++ {
		got := fetchOne(t, c, v, "simple", "oc", 0, 1, 2)
		want := "0@9(m9) 1@1(m1) 2@-1()"
		if got != want {
			t.Errorf("v%d fetch: %s, want %s", v, got, want)
		}
		if v >= 2 {
			if got := fetchOne(t, c, v, "simple", "", -1); got != "oc:0@9(m9) oc:1@1(m1)" {
				t.Errorf("v%d fetch of all: %s", v, got)
			}
		}
		if got := fetchOne(t, c, v, "nosuchgroup", "oc", 0); got != "0@-1()" {
			t.Errorf("v%d fetch of no group: %s", v, got)
		}
	}
	// v8+ batches groups.
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 8
	for _, g := range []string{"simple", "member", ""} {
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = g
		req.Groups = append(req.Groups, rg)
	}
	resp := c.roundTrip(t, req).(*kmsg.OffsetFetchResponse)
	if len(resp.Groups) != 3 || len(resp.Groups[0].Topics) != 1 || resp.Groups[1].Topics[0].Partitions[0].Offset != 7 ||
		resp.Groups[2].Topics[0].Partitions[0].Offset != 4 {
		t.Fatalf("batched fetch %+v", resp.Groups)
	}
}

// fetchOne fetches a group's offsets at version v and renders them
// "p@offset(metadata)"; with topic "" it fetches all, rendered with topics.
func fetchOne(t testing.TB, c *rawConn, v int16, group, topic string, partitions ...int32) string {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = v
	var out []string
	render := func(t string, p int32, o int64, md *string, code int16) {
		m := "<nil>"
		if md != nil {
			m = *md
		}
		s := fmt.Sprintf("%d@%d(%s)", p, o, m)
		if topic == "" {
			s = t + ":" + s
		}
		if code != 0 {
			s += codeName(code)
		}
		out = append(out, s)
	}
	if v >= 8 {
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = group
		if topic != "" {
			rt := kmsg.NewOffsetFetchRequestGroupTopic()
			rt.Topic, rt.Partitions = topic, partitions
			rg.Topics = append(rg.Topics, rt)
		}
		req.Groups = append(req.Groups, rg)
		resp := c.roundTrip(t, req).(*kmsg.OffsetFetchResponse)
		for _, g := range resp.Groups {
			for _, rt := range g.Topics {
				for _, p := range rt.Partitions {
					render(rt.Topic, p.Partition, p.Offset, p.Metadata, p.ErrorCode)
				}
			}
		}
		return strings.Join(out, " ")
	}
	req.Group = group
	if topic != "" {
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = topic, partitions
		req.Topics = append(req.Topics, rt)
	}
	resp := c.roundTrip(t, req).(*kmsg.OffsetFetchResponse)
	if resp.ErrorCode != 0 {
		return codeName(resp.ErrorCode)
	}
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			render(rt.Topic, p.Partition, p.Offset, p.Metadata, p.ErrorCode)
		}
	}
	return strings.Join(out, " ")
}

// A deleted topic's offsets are gone, also for a topic of the same name
// created again.
func TestGroupOffsetsOfDeletedTopic(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	ctx := testContext(t)
	adm := ts.admin(t)
	ts.createTopic(t, "gone", 2)
	if _, err := adm.CommitOffsets(ctx, "g", kadm.OffsetsFromRecords(kgo.Record{Topic: "gone", Partition: 1, Offset: 41})); err != nil {
		t.Fatal(err)
	}
	if os, _ := adm.FetchOffsets(ctx, "g"); os["gone"][1].At != 42 {
		t.Fatalf("committed %+v", os)
	}
	if _, err := adm.DeleteTopics(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if os, err := adm.FetchOffsets(ctx, "g"); err != nil || len(os) != 0 {
		t.Fatalf("offsets of a deleted topic: %+v %v", os, err)
	}
	ts.createTopic(t, "gone", 2)
	if os, err := adm.FetchOffsetsForTopics(ctx, "g", "gone"); err != nil || os["gone"][1].At != -1 {
		t.Fatalf("offsets of a topic created again: %+v %v", os, err)
	}
}

func TestGroupMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServerOn(t, st, func(c *Config) { c.Registerer = reg })
	groupConfigOverrides.Store(ts.Server, fastGroups)
	ts.createTopic(t, "m", 1)
	c := dialRaw(t, ts.addr)
	id, gen := joinOne(t, c, 9, "mg")
	c.roundTrip(t, commitReq(9, "mg", id, gen, "m", map[int32]int64{0: 3}))
	c.roundTrip(t, commitReq(9, "simple", "", -1, "m", map[int32]int64{0: 1}))
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			name := mf.GetName()
			for _, l := range m.Label {
				name += "{" + l.GetValue() + "}"
			}
			switch {
			case m.Gauge != nil:
				got[name] = m.Gauge.GetValue()
			case m.Counter != nil:
				got[name] = m.Counter.GetValue()
			}
		}
	}
	want := map[string]float64{
		"bridge_kafka_consumer_groups{Stable}":         1,
		"bridge_kafka_consumer_groups{Empty}":          1,
		"bridge_kafka_consumer_group_members":          1,
		"bridge_kafka_consumer_group_rebalances_total": 1,
		"bridge_kafka_offset_commits_total":            2,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// forgetTopicOffsets (for DeleteTopics) removes the offsets at once, and a
// simple group left with nothing goes.
func TestGroupForgetTopicOffsets(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	ts.createTopic(t, "f1", 1)
	ts.createTopic(t, "f2", 1)
	c := dialRaw(t, ts.addr)
	c.roundTrip(t, commitReq(9, "both", "", -1, "f1", map[int32]int64{0: 1}))
	c.roundTrip(t, commitReq(9, "both", "", -1, "f2", map[int32]int64{0: 2}))
	c.roundTrip(t, commitReq(9, "one", "", -1, "f1", map[int32]int64{0: 3}))
	if err := ts.forgetTopicOffsets(context.Background(), "f1"); err != nil {
		t.Fatal(err)
	}
	if got := fetchOne(t, c, 9, "both", "", -1); got != "f2:0@2(m2)" {
		t.Errorf("both: %s", got)
	}
	if d := describe(t, c, 5, "one"); d.State != "Dead" {
		t.Errorf("a simple group with no offsets left is %s", d.State)
	}
	n := 0
	if err := ts.store.Scan(context.Background(), groupNamespace, "o", func(string, []byte) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("%d offsets stored (%v), want 1", n, err)
	}
}

// DeleteTopics drops the topic's committed offsets: a topic created again
// under the same name starts with none.
func TestDeleteTopicsForgetsOffsets(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	ts.createTopic(t, "gone", 1)
	c := dialRaw(t, ts.addr)
	c.roundTrip(t, commitReq(9, "g", "", -1, "gone", map[int32]int64{0: 5}))
	if got := fetchOne(t, c, 9, "g", "", -1); got == "" {
		t.Fatal("the commit did not take")
	}
	del := kmsg.NewPtrDeleteTopicsRequest()
	del.TopicNames = []string{"gone"}
	del.Topics = []kmsg.DeleteTopicsRequestTopic{{Topic: kmsg.StringPtr("gone")}}
	del.Version = 4
	c.roundTrip(t, del)
	ts.createTopic(t, "gone", 1)
	if got := fetchOne(t, c, 9, "g", "", -1); got != "" {
		t.Errorf("offsets after delete and re-create: %q", got)
	}
	n := 0
	if err := ts.store.Scan(context.Background(), groupNamespace, "o", func(string, []byte) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("%d offsets stored (%v), want 0", n, err)
	}
}
