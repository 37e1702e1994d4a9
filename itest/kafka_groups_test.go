package itest

// Consumer groups of real client programs against the bridge binary: kcat
// -G, kafka-python's KafkaConsumer, confluent-kafka's Consumer and kafkajs's
// consumer.run, each as separate processes (drivers in python/groups_*.py
// and node/groups_kafkajs.js). Three members share a 6-partition topic, one
// is SIGKILLed and its partitions move once its session (6s) ends, the rest
// leave cleanly and a new member resumes from the commits; a cooperative
// group grows without revoking everything; the bridge is SIGKILLed and
// restarted under a running group. No record may be skipped (at-least-once)
// and kadm must describe the groups, their members and lag as they are.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupClient is a client program that can run as a group member.
type groupClient struct {
	name    string
	check   func() error
	install string
	// argv is the command line of one member; strategy "" is the
	// client's default assignor.
	argv func(addr, topic, group, clientID, strategy string) []string
	// quitsWithoutBrokers is set for a client that exits by design once
	// every broker connection is down (kcat: "All broker connections are
	// down: ... terminating"), whatever the server does.
	quitsWithoutBrokers bool
}

var groupClients = []groupClient{
	{"kcat", checkKcat, installKcat, func(addr, topic, group, id, strategy string) []string {
		argv := []string{"kcat", "-b", addr, "-J", "-q", "-u",
			"-X", "client.id=" + id, "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=1000",
			"-X", "auto.offset.reset=earliest", "-X", "auto.commit.interval.ms=200", "-X", "fetch.wait.max.ms=200"}
		if strategy != "" {
			argv = append(argv, "-X", "partition.assignment.strategy="+strategy)
		}
		return append(argv, "-G", group, topic)
	}, true},
	{"kafka-python", checkKafkaPython, installKafkaPython, func(addr, topic, group, id, _ string) []string {
		return []string{systemPython, "python/groups_kafkapython.py", "--bootstrap", addr, "--topic", topic, "--group", group, "--client-id", id}
	}, false},
	{"confluent-kafka", checkConfluent, installConfluent, func(addr, topic, group, id, strategy string) []string {
		if strategy == "" {
			strategy = "range"
		}
		return []string{systemPython, "python/groups_confluent.py", "--bootstrap", addr, "--topic", topic, "--group", group, "--client-id", id, "--strategy", strategy}
	}, false},
	{"kafkajs", checkKafkajs, installKafkajs, func(addr, topic, group, id, _ string) []string {
		return []string{"node", "node/groups_kafkajs.js", "--bootstrap", addr, "--topic", topic, "--group", group, "--client-id", id}
	}, false},
}

// tally counts the records every member of a test read, by value.
type tally struct {
	mu     sync.Mutex
	counts map[string]int
	wake   chan struct{}
}

func newTally() *tally { return &tally{counts: map[string]int{}, wake: make(chan struct{}, 1)} }

func (ta *tally) add(v string) {
	ta.mu.Lock()
	ta.counts[v]++
	ta.mu.Unlock()
	select {
	case ta.wake <- struct{}{}:
	default:
	}
}

func (ta *tally) missing(from, to int) []string {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	var out []string
	for i := from; i < to; i++ {
		if ta.counts["v"+strconv.Itoa(i)] == 0 {
			out = append(out, "v"+strconv.Itoa(i))
		}
	}
	return out
}

// waitAll waits until records v<from>..v<to-1> were all read by someone.
func (ta *tally) waitAll(t *testing.T, from, to int, ms ...*memberProc) {
	t.Helper()
	deadline := time.Now().Add(kafkaTimeout)
	for {
		miss := ta.missing(from, to)
		if len(miss) == 0 {
			return
		}
		for _, m := range ms {
			select {
			case <-m.done:
				t.Fatalf("member %s exited while records were still missing: %s", m.name, m.describe())
			default:
			}
		}
		if time.Now().After(deadline) {
			if len(miss) > 10 {
				miss = append(miss[:10], fmt.Sprintf("... (%d in all)", len(miss)))
			}
			for _, m := range ms {
				t.Logf("%s: %s", m.name, m.describe())
			}
			t.Fatalf("records never consumed: %v", miss)
		}
		select {
		case <-ta.wake:
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// memberProc is one running member program.
type memberProc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}

	mu      sync.Mutex
	values  []string // what it read, in order
	events  []string // assignment changes it reported
	stderr  bytes.Buffer
	exitErr error
}

func (m *memberProc) describe() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprintf("read %d records; events %v; stderr:\n%s", len(m.values), m.events, tail(m.stderr.String(), 3000))
}

func (m *memberProc) read() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.values...)
}

func (m *memberProc) eventList() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.events...)
}

type lockedBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// startMember starts one member of gc in group, reporting its records to ta.
func startMember(t *testing.T, gc groupClient, addr, topic, group, clientID, strategy string, ta *tally) *memberProc {
	t.Helper()
	argv := gc.argv(addr, topic, group, clientID, strategy)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(cleanEnv(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONPATH=")
	m := &memberProc{name: clientID, cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = lockedBuffer{&m.mu, &m.stderr}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", strings.Join(argv, " "), err)
	}
	go func() {
		defer close(m.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var j struct {
				Event      string  `json:"event"`
				Partitions []int32 `json:"partitions"`
				Value      *string `json:"value"`
				Payload    *string `json:"payload"` // kcat -J
				Partition  int32   `json:"partition"`
				Offset     int64   `json:"offset"`
			}
			if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
				m.mu.Lock()
				fmt.Fprintf(&m.stderr, "[test] stdout line not JSON: %q\n", sc.Text())
				m.mu.Unlock()
				continue
			}
			v := j.Value
			if v == nil {
				v = j.Payload
			}
			m.mu.Lock()
			switch {
			case j.Event != "":
				m.events = append(m.events, fmt.Sprintf("%s%v", j.Event, j.Partitions))
			case v != nil:
				m.values = append(m.values, *v)
			}
			m.mu.Unlock()
			if j.Event == "" && v != nil {
				ta.add(*v)
			}
		}
		err := cmd.Wait()
		m.mu.Lock()
		m.exitErr = err
		m.mu.Unlock()
	}()
	t.Cleanup(func() {
		select {
		case <-m.done:
		default:
			_ = cmd.Process.Kill()
			<-m.done
		}
		if t.Failed() {
			t.Logf("member %s: %s", m.name, m.describe())
		}
	})
	return m
}

// kill9 crashes the member: it leaves no LeaveGroup behind.
func (m *memberProc) kill9(t *testing.T) {
	t.Helper()
	_ = m.cmd.Process.Kill()
	m.wait(t)
}

// stop asks the member to commit, leave and exit, and checks it did.
func (m *memberProc) stop(t *testing.T) {
	t.Helper()
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	m.wait(t)
	m.mu.Lock()
	err := m.exitErr
	m.mu.Unlock()
	if err != nil {
		t.Errorf("member %s exited with %v after SIGTERM", m.name, err)
	}
}

func (m *memberProc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-m.done:
	case <-time.After(kafkaTimeout):
		t.Fatalf("member %s did not exit", m.name)
	}
}

// produceValues writes records v<from>..v<to-1> with franz-go, keyed so
// they spread over the partitions.
func (k *kafkaCluster) produceValues(topic string, from, to int) {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	cl := k.client(kgo.DefaultProduceTopic(topic))
	var recs []*kgo.Record
	for i := from; i < to; i++ {
		recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte("v" + strconv.Itoa(i))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		k.t.Fatalf("produce to %s: %v", topic, err)
	}
	cl.Close()
}

// waitGroup waits until kadm describes group as Stable with exactly the
// members of clientIDs sharing all n partitions of topic, per (if > 0)
// partitions each.
func (k *kafkaCluster) waitGroup(group, topic string, n, per int, clientIDs ...string) kadm.DescribedGroup {
	k.t.Helper()
	want := append([]string(nil), clientIDs...)
	sort.Strings(want)
	deadline := time.Now().Add(kafkaTimeout)
	var last string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		dg, err := k.admin().DescribeGroups(ctx, group)
		cancel()
		g := dg[group]
		var ids []string
		owners := map[int32]int{}
		perOK := true
		for _, m := range g.Members {
			ids = append(ids, m.ClientID)
			c, ok := m.Assigned.AsConsumer()
			mine := 0
			if ok {
				for _, at := range c.Topics {
					if at.Topic == topic {
						for _, p := range at.Partitions {
							owners[p]++
							mine++
						}
					}
				}
			}
			perOK = perOK && (per == 0 || mine == per)
			if !useKfake() && m.ClientHost != "/127.0.0.1" {
				k.t.Fatalf("member %s described with host %q, want /127.0.0.1", m.ClientID, m.ClientHost)
			}
		}
		sort.Strings(ids)
		ok := err == nil && g.Err == nil && g.State == "Stable" && g.ProtocolType == "consumer" &&
			fmt.Sprint(ids) == fmt.Sprint(want) && len(owners) == n && perOK
		for _, c := range owners {
			ok = ok && c == 1
		}
		if ok {
			return g
		}
		last = fmt.Sprintf("state %q, members %v, partition owners %v, err %v %v", g.State, ids, owners, err, g.Err)
		if time.Now().After(deadline) {
			k.t.Fatalf("group %s never had members %v sharing %d partitions; last: %s", group, want, n, last)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// commits returns the group's committed offsets of topic.
func (k *kafkaCluster) commits(group, topic string) map[int32]int64 {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	os, err := k.admin().FetchOffsets(ctx, group)
	if err == nil {
		err = os.Error()
	}
	if err != nil {
		k.t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	out := map[int32]int64{}
	for p, o := range os[topic] {
		out[p] = o.At
	}
	return out
}

// waitCommitted waits until the group's commits are the end offsets.
func (k *kafkaCluster) waitCommitted(group, topic string) {
	k.t.Helper()
	ends := k.endOffsets(topic)
	deadline := time.Now().Add(kafkaTimeout)
	for {
		got := k.commits(group, topic)
		if fmt.Sprint(got) == fmt.Sprint(ends) {
			return
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("group %s committed %v, want the end offsets %v", group, got, ends)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lag returns the group's state and per-partition lag of topic as kadm
// computes it.
func (k *kafkaCluster) lag(group, topic string) (string, map[int32]int64) {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	lags, err := k.admin().Lag(ctx, group)
	if err == nil {
		err = lags.Error()
	}
	if err != nil {
		k.t.Fatalf("lag of %s: %v", group, err)
	}
	out := map[int32]int64{}
	for p, l := range lags[group].Lag[topic] {
		if l.Err != nil {
			k.t.Fatalf("lag of %s %s/%d: %v", group, topic, p, l.Err)
		}
		out[p] = l.Lag
	}
	return lags[group].State, out
}

func TestKafkaGroups(t *testing.T) {
	k := startKafka(t)
	parent := k.t
	for _, gc := range groupClients {
		t.Run(gc.name, func(t *testing.T) {
			need(t, gc.name, gc.check, gc.install)
			// The cluster's helpers fail the subtest they run in.
			k.t = t
			defer func() { k.t = parent }()
			groupScenario(t, k, gc)
		})
	}
}

// groupScenario: three members, one crashes, the others leave, a new one
// resumes; kadm checked at each step.
func groupScenario(t *testing.T, k *kafkaCluster, gc groupClient) {
	topic, group := "groups-"+gc.name, "group-"+gc.name
	k.createTopic(topic, 6, nil)
	k.produceValues(topic, 0, 600)
	ta := newTally()
	var ms []*memberProc
	var ids []string
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("%s-%d", gc.name, i)
		ids = append(ids, id)
		ms = append(ms, startMember(t, gc, k.addr, topic, group, id, "", ta))
	}
	ta.waitAll(t, 0, 600, ms...)
	k.waitGroup(group, topic, 6, 2, ids...)

	// A member crashes: once its session ends its partitions move.
	ms[2].kill9(t)
	k.produceValues(topic, 600, 1200)
	ta.waitAll(t, 0, 1200, ms[:2]...)
	k.waitGroup(group, topic, 6, 3, ids[:2]...)

	// The others leave cleanly, committing everything.
	ms[0].stop(t)
	ms[1].stop(t)
	k.waitCommitted(group, topic)
	state, lag := k.lag(group, topic)
	if state != "Empty" || len(lag) != 6 {
		t.Fatalf("after the members left: state %q, lag %v", state, lag)
	}
	for p, l := range lag {
		if l != 0 {
			t.Errorf("partition %d lag %d after everything was committed", p, l)
		}
	}

	// New records: the lag is exactly theirs, and a new member reads
	// them and nothing before (it resumes from the commits).
	k.produceValues(topic, 1200, 1300)
	ends := k.endOffsets(topic)
	commits := k.commits(group, topic)
	_, lag = k.lag(group, topic)
	total := int64(0)
	for p, l := range lag {
		if l != ends[p]-commits[p] {
			t.Errorf("partition %d lag %d, want end %d - commit %d", p, l, ends[p], commits[p])
		}
		total += l
	}
	if total != 100 {
		t.Errorf("total lag %d, want 100", total)
	}
	fresh := startMember(t, gc, k.addr, topic, group, gc.name+"-4", "", ta)
	ta.waitAll(t, 1200, 1300, fresh)
	for _, v := range fresh.read() {
		if n, _ := strconv.Atoi(strings.TrimPrefix(v, "v")); n < 1200 {
			t.Fatalf("the resumed member read %s, committed before it started", v)
		}
	}
	fresh.stop(t)
	k.waitCommitted(group, topic)
}

// A cooperative-sticky group (librdkafka through confluent-kafka) grows from
// two members to three: the two give up one partition each, incrementally,
// and keep the others throughout.
func TestKafkaGroupCooperative(t *testing.T) {
	gc := groupClients[2]
	need(t, gc.name, gc.check, gc.install)
	k := startKafka(t)
	topic, group := "coop", "coop-group"
	k.createTopic(topic, 6, nil)
	k.produceValues(topic, 0, 300)
	ta := newTally()
	a := startMember(t, gc, k.addr, topic, group, "coop-a", "cooperative-sticky", ta)
	b := startMember(t, gc, k.addr, topic, group, "coop-b", "cooperative-sticky", ta)
	ta.waitAll(t, 0, 300, a, b)
	k.waitGroup(group, topic, 6, 3, "coop-a", "coop-b")
	aBefore, bBefore := len(a.eventList()), len(b.eventList())

	c := startMember(t, gc, k.addr, topic, group, "coop-c", "cooperative-sticky", ta)
	k.waitGroup(group, topic, 6, 2, "coop-a", "coop-b", "coop-c")
	k.produceValues(topic, 300, 600)
	ta.waitAll(t, 0, 600, a, b, c)
	for _, x := range []struct {
		m    *memberProc
		from int
	}{{a, aBefore}, {b, bBefore}} {
		revoked := 0
		for _, e := range x.m.eventList()[x.from:] {
			if strings.HasPrefix(e, "revoke") {
				var ps []int32
				_ = json.Unmarshal([]byte(strings.TrimPrefix(strings.ReplaceAll(e, " ", ","), "revoke")), &ps)
				revoked += len(ps)
			}
		}
		t.Logf("%s: assignment changes after the third member came: %v", x.m.name, x.m.eventList()[x.from:])
		if revoked != 1 {
			t.Errorf("%s: events %v after the third member came; want one partition revoked", x.m.name, x.m.eventList()[x.from:])
		}
	}
	for _, m := range []*memberProc{a, b, c} {
		m.stop(t)
	}
	k.waitCommitted(group, topic)
}

// freePort returns a 127.0.0.1 port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// The bridge is SIGKILLed under a running group and started again on the
// same port, for each client: the members carry on (the group comes back
// Stable with them), no acknowledged commit is lost and no record is
// skipped. kcat members exit when their only broker goes away; they are
// started again, as a supervisor would, and resume from the commits.
func TestKafkaGroupSurvivesBridgeKill(t *testing.T) {
	needsBridge(t)
	for _, gc := range groupClients {
		t.Run(gc.name, func(t *testing.T) {
			need(t, gc.name, gc.check, gc.install)
			survivesBridgeKill(t, gc)
		})
	}
}

func survivesBridgeKill(t *testing.T, gc groupClient) {
	k := startKafka(t, "--kafka-addr", "127.0.0.1:"+freePort(t))
	topic, group := "survive", "survive-group"
	k.createTopic(topic, 4, nil)
	k.produceValues(topic, 0, 400)
	ta := newTally()
	var ids []string
	var ms []*memberProc
	for _, x := range []string{"a", "b", "c"} {
		id := gc.name + "-survive-" + x
		ids = append(ids, id)
		ms = append(ms, startMember(t, gc, k.addr, topic, group, id, "", ta))
	}
	ta.waitAll(t, 0, 400, ms...)
	k.waitGroup(group, topic, 4, 0, ids...)
	k.waitCommitted(group, topic)
	before := k.commits(group, topic)

	k.kill9()
	addr := k.addr
	k.restart()
	if k.addr != addr {
		t.Fatalf("restarted bridge listens on %s, not %s", k.addr, addr)
	}
	after := k.commits(group, topic)
	for p, o := range before {
		if after[p] < o {
			t.Errorf("partition %d: committed %d before the kill, %d after", p, o, after[p])
		}
	}
	if gc.quitsWithoutBrokers {
		for i, m := range ms {
			select {
			case <-m.done:
				ms[i] = startMember(t, gc, k.addr, topic, group, ids[i], "", ta)
			case <-time.After(15 * time.Second):
				// It reconnected before giving up: it carries on.
			}
		}
	}
	k.produceValues(topic, 400, 800)
	ta.waitAll(t, 0, 800, ms...)
	k.waitGroup(group, topic, 4, 0, ids...)
	for _, m := range ms {
		m.stop(t)
	}
	k.waitCommitted(group, topic)
}
