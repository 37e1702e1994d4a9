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

	// Drain: after the visibility timeout everything not deleted is visible.
	time.Sleep(visibility * time.Second)
	cl := sdkSQS(k)
	seen := map[string]bool{}
	for _, m := range receiveAll(t, cl, url, 2) {
		id, _, _ := strings.Cut(*m.Body, " ")
		if deleted[id] {
			t.Errorf("message %s came back after its delete was acknowledged", id)
		}
		if seen[id] {
			t.Errorf("message %s received twice in one drain", id)
		}
		seen[id] = true
	}
	lost := 0
	for id := range sent {
		if !deleted[id] && !maybeGone[id] && !seen[id] {
			if lost++; lost <= 10 {
				t.Errorf("message %s: send acknowledged, never deleted, not in the queue", id)
			}
		}
	}
	t.Logf("%d sends and %d deletes acknowledged over 3 kills; %d messages left, %d lost", len(sent), len(deleted), len(seen), lost)
}
