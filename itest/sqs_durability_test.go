package itest

// SQS durability: SIGKILL the bridge while aws-sdk-go-v2 clients send,
// receive and delete, then restart it on the same data dir and drain the
// queue. Every message whose send was acknowledged and whose delete was not
// must come back (the ones in flight at the kill once their visibility
// timeout ends); no message whose delete was acknowledged may.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestSQSAckedSurviveSIGKILL(t *testing.T) {
	dataDir := t.TempDir()
	k := startKinesisBridgeIn(t, dataDir)
	// Visibility short enough to drain in seconds after the restart, long
	// enough that a receiver deletes well before a message comes back (a
	// delete with an outdated receipt handle succeeds without deleting).
	const visibility = 4
	url := createSQSQueue(t, sdkSQS(k), "durable-queue", map[string]string{"VisibilityTimeout": fmt.Sprint(visibility)}, nil)

	sent := map[string]bool{}      // acknowledged sends, by body id
	deleted := map[string]bool{}   // acknowledged deletes, by body id
	maybeGone := map[string]bool{} // deletes sent and not acknowledged: may have happened
	for round := range 3 {
		killAfter := 300 + rand.IntN(700) // acknowledged sends before the kill
		var mu sync.Mutex
		roundAcks := 0
		enough := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		noRetry := func(o *awssqs.Options) { o.Retryer = aws.NopRetryer{} }
		for s := range 2 {
			cl := sdkSQS(k, noRetry)
			wg.Go(func() {
				for call := 0; ctx.Err() == nil; call++ {
					in := &awssqs.SendMessageBatchInput{QueueUrl: aws.String(url)}
					for i := range 10 {
						id := fmt.Sprintf("r%d-s%d-c%05d-%d", round, s, call, i)
						in.Entries = append(in.Entries, sqstypes.SendMessageBatchRequestEntry{
							Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(id + " " + strings.Repeat("b", rand.IntN(1500))),
						})
					}
					out, err := cl.SendMessageBatch(ctx, in)
					if err != nil {
						continue // not acknowledged: may or may not be stored
					}
					mu.Lock()
					for _, ok := range out.Successful {
						var i int
						fmt.Sscan(*ok.Id, &i)
						id, _, _ := strings.Cut(*in.Entries[i].MessageBody, " ")
						sent[id] = true
						if roundAcks++; roundAcks == killAfter {
							close(enough)
						}
					}
					mu.Unlock()
				}
			})
		}
		cl := sdkSQS(k, noRetry)
		wg.Go(func() {
			for ctx.Err() == nil {
				out, err := cl.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
				if err != nil || len(out.Messages) == 0 {
					continue
				}
				del := &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(url)}
				for i, m := range out.Messages {
					if rand.IntN(4) == 0 {
						continue // left in flight: comes back after the visibility timeout
					}
					del.Entries = append(del.Entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
				}
				if len(del.Entries) == 0 {
					continue
				}
				mu.Lock()
				for _, e := range del.Entries {
					var i int
					fmt.Sscan(*e.Id, &i)
					id, _, _ := strings.Cut(*out.Messages[i].Body, " ")
					maybeGone[id] = true
				}
				mu.Unlock()
				dout, err := cl.DeleteMessageBatch(ctx, del)
				if err != nil {
					continue // the kill may have cut the answer to a delete that happened
				}
				mu.Lock()
				for _, ok := range dout.Successful {
					var i int
					fmt.Sscan(*ok.Id, &i)
					id, _, _ := strings.Cut(*out.Messages[i].Body, " ")
					deleted[id] = true
				}
				mu.Unlock()
			}
		})
		select {
		case <-enough:
		case <-time.After(kinesisTimeout):
			cancel()
			wg.Wait()
			t.Fatalf("round %d: %d of %d acknowledgements in %v", round, roundAcks, killAfter, kinesisTimeout)
		}
		k.kill9()
		cancel()
		wg.Wait()
		k = startKinesisBridgeIn(t, dataDir)
	}

	// Drain: after the visibility timeout everything not deleted is
	// visible. The drain deletes what it receives and looks twice, a
	// visibility timeout apart: a receive whose answer the client lost (a
	// connection cut under load, which the SDK retries as a new receive)
	// left its messages in flight, as SQS does, and they come back in the
	// second look. (The bridge had stored and served them: the state area
	// showed them received once, by the drain.)
	time.Sleep(visibility * time.Second)
	cl := sdkSQS(k)
	seen := map[string]bool{}
	drained := map[string]bool{} // the drain's acknowledged deletes
	look := func() {
		for {
			out, err := cl.ReceiveMessage(kctx(t), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: visibility})
			if err != nil {
				t.Fatalf("drain: ReceiveMessage: %v", err)
			}
			if len(out.Messages) == 0 {
				return
			}
			del := &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(url)}
			for i, m := range out.Messages {
				id, _, _ := strings.Cut(*m.Body, " ")
				if deleted[id] || drained[id] {
					t.Errorf("message %s came back after its delete was acknowledged", id)
				}
				seen[id] = true
				del.Entries = append(del.Entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
			}
			dout, err := cl.DeleteMessageBatch(kctx(t), del)
			if err != nil {
				continue // they come back in the next look
			}
			for _, ok := range dout.Successful {
				var i int
				fmt.Sscan(*ok.Id, &i)
				id, _, _ := strings.Cut(*out.Messages[i].Body, " ")
				drained[id] = true
			}
		}
	}
	look()
	time.Sleep((visibility + 1) * time.Second)
	look()
	lost := 0
	var where map[string]int64 // lost message id -> its offset in the log, read through Kafka
	for id := range sent {
		if !deleted[id] && !maybeGone[id] && !seen[id] {
			if where == nil {
				where = logOffsets(t, k, "durable-queue")
			}
			if lost++; lost <= 10 {
				off, inLog := where[id]
				t.Errorf("message %s: send acknowledged, never deleted, not in the queue (in the log: %v, offset %d)", id, inLog, off)
			}
		}
	}
	t.Logf("%d sends and %d deletes acknowledged over 3 kills; %d messages left, %d lost", len(sent), len(deleted), len(seen), lost)
}

// logOffsets reads a queue's stream from the start through Kafka and
// returns each message id's offset: tells a message lost from the log
// from one the queue's index no longer serves.
func logOffsets(t *testing.T, k *kinesisBridge, topic string) map[string]int64 {
	t.Helper()
	cl := k.kafka(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	out := map[string]int64{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			id, _, _ := strings.Cut(string(r.Value), " ")
			out[id] = r.Offset
		})
		if len(fs.Records()) == 0 {
			break
		}
	}
	return out
}
