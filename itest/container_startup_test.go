package itest

// The reference for the container's start-to-healthy figure (README,
// "Containers"): franz-go's kfake, the fastest Kafka-compatible server to
// start, in this process. Run with
//
//	go test ./itest -run '^$' -bench StartKfake -benchtime 20x

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkStartKfake times a kfake cluster from nothing to its first
// Metadata answer, and closes it.
func BenchmarkStartKfake(b *testing.B) {
	for b.Loop() {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			b.Fatal(err)
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := kadm.NewClient(cl).BrokerMetadata(context.Background()); err != nil {
			b.Fatal(err)
		}
		cl.Close()
		c.Close()
	}
}
