package itest

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Every record a PutRecords answer acknowledged survives a SIGKILL of the
// bridge, at the shard and sequence number the answer gave: aws-sdk-go-v2
// producers (retries off, so nothing is sent twice) put to a 4-shard
// stream, the bridge is killed with -9 among their calls and restarted on
// the same data dir, and every shard is read back from TRIM_HORIZON.
// Records whose answer was lost may be there or not, but none is there
// twice and sequence numbers only grow within a shard. Three rounds, each
// on top of the last; the second splits a shard first, so a reshard is
// among what must survive. A shard iterator taken before each kill still
// reads after the restart.
func TestKinesisAckedPutsSurviveSIGKILL(t *testing.T) {
	dataDir := t.TempDir()
	k := startKinesisBridgeIn(t, dataDir)
	const stream = "durable"
	k.createStream(t, stream, 4)

	acked := map[string]krec{} // by record id
	for round := range 3 {
		if round == 1 {
			k.splitFirstShard(t, stream)
		}
		killAfter := 200 + rand.IntN(800) // acknowledged records before the kill
		var mu sync.Mutex
		roundAcks := 0
		enough := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for p := range 2 {
			cl := awskinesis.New(awskinesis.Options{
				Region:       kinesisRegion,
				BaseEndpoint: aws.String(k.endpoint),
				Credentials:  credentials.NewStaticCredentialsProvider("AKIDITEST", "itest-secret", ""),
				Retryer:      aws.NopRetryer{},
			})
			wg.Go(func() {
				for call := 0; ctx.Err() == nil; call++ {
					in := &awskinesis.PutRecordsInput{StreamName: aws.String(stream)}
					for i := range 20 {
						id := fmt.Sprintf("r%d-p%d-c%05d-%02d", round, p, call, i)
						in.Records = append(in.Records, ktypes.PutRecordsRequestEntry{
							PartitionKey: aws.String(fmt.Sprintf("key-%d", rand.IntN(1000))),
							Data:         []byte(id + " " + strings.Repeat("d", rand.IntN(2000))),
						})
					}
					out, err := cl.PutRecords(ctx, in)
					if err != nil {
						continue // not acknowledged: may or may not be stored
					}
					mu.Lock()
					for i, r := range out.Records {
						if r.ErrorCode != nil {
							continue
						}
						e := in.Records[i]
						id, _, _ := strings.Cut(string(e.Data), " ")
						acked[id] = krec{PK: *e.PartitionKey, Data: e.Data, Shard: *r.ShardId, Seq: *r.SequenceNumber}
						if roundAcks++; roundAcks == killAfter {
							close(enough)
						}
					}
					mu.Unlock()
				}
			})
		}
		select {
		case <-enough:
		case <-time.After(kinesisTimeout):
			cancel()
			wg.Wait()
			t.Fatalf("round %d: %d of %d acknowledgements in %v", round, roundAcks, killAfter, kinesisTimeout)
		}
		iter, err := k.client().GetShardIterator(kctx(t), &awskinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: aws.String("shardId-000000000001"), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatal(err)
		}
		k.kill9()
		cancel()
		wg.Wait()
		k = startKinesisBridgeIn(t, dataDir)

		if out, err := k.client().GetRecords(kctx(t), &awskinesis.GetRecordsInput{ShardIterator: iter.ShardIterator, Limit: aws.Int32(1)}); err != nil {
			t.Fatalf("round %d: an iterator from before the kill: %v", round, err)
		} else if len(out.Records) != 1 {
			t.Fatalf("round %d: an iterator from before the kill read %d records, want the shard's first", round, len(out.Records))
		}
		k.checkDurable(t, stream, acked, round)
	}
}

// splitFirstShard splits shardId-000000000000 at its middle hash key and
// waits for the stream to be ACTIVE again.
func (k *kinesisBridge) splitFirstShard(t *testing.T, stream string) {
	t.Helper()
	first := k.shards(t, stream)[0]
	lo, _ := new(big.Int).SetString(*first.HashKeyRange.StartingHashKey, 10)
	hi, _ := new(big.Int).SetString(*first.HashKeyRange.EndingHashKey, 10)
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
	mid.Add(mid, big.NewInt(1))
	if _, err := k.client().SplitShard(kctx(t), &awskinesis.SplitShardInput{
		StreamName: aws.String(stream), ShardToSplit: first.ShardId, NewStartingHashKey: aws.String(mid.String()),
	}); err != nil {
		t.Fatalf("SplitShard: %v", err)
	}
	k.waitActive(t, stream)
}

// checkDurable reads every shard of the stream from TRIM_HORIZON and checks
// that each acknowledged record is where its answer said, that nothing is
// there twice, and that sequence numbers grow within each shard.
func (k *kinesisBridge) checkDurable(t *testing.T, stream string, acked map[string]krec, round int) {
	t.Helper()
	seen := map[string]krec{}
	last := map[string]*big.Int{} // shard -> last sequence number
	for _, got := range sdkRead(t, k, stream, 0) {
		id, _, _ := strings.Cut(string(got.Data), " ")
		if before, dup := seen[id]; dup {
			t.Fatalf("round %d: record %s stored twice: %s/%s and %s/%s", round, id, before.Shard, before.Seq, got.Shard, got.Seq)
		}
		seen[id] = got
		seq, ok := new(big.Int).SetString(got.Seq, 10)
		if !ok || (last[got.Shard] != nil && seq.Cmp(last[got.Shard]) <= 0) {
			t.Fatalf("round %d: %s: sequence number %s after %v", round, got.Shard, got.Seq, last[got.Shard])
		}
		last[got.Shard] = seq
	}
	lost := 0
	for id, want := range acked {
		got, ok := seen[id]
		switch {
		case !ok:
			if lost++; lost <= 5 {
				t.Errorf("round %d: acknowledged record %s (%s/%s) is gone", round, id, want.Shard, want.Seq)
			}
		case got.Shard != want.Shard || got.Seq != want.Seq || got.PK != want.PK || !bytes.Equal(got.Data, want.Data):
			t.Errorf("round %d: record %s acknowledged at %s/%s with key %q, read at %s/%s with key %q (same data: %v)",
				round, id, want.Shard, want.Seq, want.PK, got.Shard, got.Seq, got.PK, bytes.Equal(got.Data, want.Data))
		}
	}
	if lost > 0 || t.Failed() {
		t.Fatalf("round %d: %d of %d acknowledged records lost", round, lost, len(acked))
	}
	t.Logf("round %d: %d acknowledged records all read back (%d stored in all)", round, len(acked), len(seen))
}
