// Package kafkatest runs the bridge's Kafka front end in-process for tests of
// packages that are Kafka clients (connect/...): the real server over an
// in-memory embedded store on 127.0.0.1, on a port picked at run time.
package kafkatest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/streambridge/bridge/gateway/kafka"
	"github.com/streambridge/bridge/store/embedded"
)

// Start runs a one-node bridge whose topics are created on first use with
// partitions partitions, and returns its address. It stops at the end of
// the test.
func Start(t testing.TB, partitions int) string {
	t.Helper()
	return start(t, partitions, kafka.GroupSettings{})
}

// StartForGroups is Start with a group coordinator for tests of group
// members: sessions down to 100 ms and no initial rebalance delay, so a
// member that vanishes is noticed quickly.
func StartForGroups(t testing.TB, partitions int) string {
	t.Helper()
	return start(t, partitions, kafka.GroupSettings{MinSessionTimeout: 100 * time.Millisecond, InitialRebalanceDelay: -1})
}

func start(t testing.TB, partitions int, groups kafka.GroupSettings) string {
	t.Helper()
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := kafka.New(kafka.Config{Store: st, AdvertisedAddr: ln.Addr().String(), AutoCreateTopics: true, DefaultPartitions: partitions, Groups: groups})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("kafka shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("kafka serve: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("store close: %v", err)
		}
	})
	return ln.Addr().String()
}
