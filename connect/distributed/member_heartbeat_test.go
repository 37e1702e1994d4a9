package distributed

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A coordinator that stops answering heartbeats (a stalled broker, a lost
// answer) does not keep a member waiting past its session: the member gives
// the heartbeat up, says so, and joins again, rather than running its work
// for as long as its client's request timeout while the group may already
// have handed that work to others.
func TestMemberGivesUpAHeartbeatAfterASession(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	must(t, err)
	t.Cleanup(c.Close)
	ctx := testCtx(t)

	var mu sync.Mutex
	var logged []string
	gaveUp := make(chan struct{})
	w := &worker{name: "w1"}
	m, err := NewMember(newClient(t, c.ListenAddrs()), MemberConfig{
		GroupID: "connect-cluster", URL: "http://w1:8083",
		SessionTimeout: time.Second, HeartbeatInterval: 100 * time.Millisecond, RebalanceTimeout: 5 * time.Second,
		MaxDelay: 300 * time.Millisecond, Config: staticConfig, OnAssignment: w.heard,
		Logf: func(format string, a ...any) {
			msg := fmt.Sprintf(format, a...)
			mu.Lock()
			defer mu.Unlock()
			logged = append(logged, msg)
			if strings.Contains(msg, "no heartbeat answered") && gaveUp != nil {
				close(gaveUp)
				gaveUp = nil
			}
		},
	})
	must(t, err)
	w.m = m
	t.Cleanup(func() { closeWorker(t, w) })
	waitStable(t, ctx, staticConfig(), w)

	// From now on every heartbeat waits until the test ends.
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	c.ControlKey(kmsg.Heartbeat.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	start := time.Now()
	mu.Lock()
	wait := gaveUp
	mu.Unlock()
	select {
	case <-wait:
		t.Logf("gave the heartbeat up after %v", time.Since(start))
	// The session is 1 s and a heartbeat goes every 100 ms, so the give-up
	// comes after about 1.1 s; without it, after kgo's request timeout
	// (over 10 s).
	case <-time.After(8 * time.Second):
		mu.Lock()
		seen := slices.Clone(logged)
		mu.Unlock()
		t.Fatalf("no give-up in 8 s; logged %q", seen)
	}
}
