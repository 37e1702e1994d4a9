package itest

// Large payloads between Kafka and SQS, against the real binary, with boto3
// doing on the wire what the AWS SQS extended clients do
// (python/sqs_extended_boto3.py):
//
//   - a 5 MiB record a Kafka producer (franz-go) writes to a queue's topic
//     is received by boto3 in the extended clients' form; boto3 downloads
//     the object the pointer names, byte-exact, and DeleteMessage with the
//     Java-style handle deletes message and object;
//   - a pointer message boto3 sends after writing the object itself (as the
//     Java extended client does) is read restored by a Kafka consumer.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const sqsExtendedDriver = "python/sqs_extended_boto3.py"

// extendedSteps runs a scenario of the driver and fails the test on any
// failed step; it returns the steps' extra fields by step name.
func extendedSteps(t *testing.T, k *kinesisBridge, args ...string) map[string]map[string]any {
	t.Helper()
	readScript(t, sqsExtendedDriver)
	out, err := runAWSToolEnv([]string{"AWS_REGION=" + kinesisRegion, "AWS_DEFAULT_REGION=" + kinesisRegion},
		nil, systemPython, append([]string{sqsExtendedDriver}, append(args, "--endpoint", k.endpoint)...)...)
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]map[string]any{}
	err = parseJSONLines(out, func(line []byte) error {
		var s map[string]any
		if err := json.Unmarshal(line, &s); err != nil {
			return err
		}
		name, _ := s["step"].(string)
		if e, failed := s["error"]; failed {
			t.Errorf("boto3 %s: %v", name, e)
		}
		steps[name] = s
		return nil
	})
	if err != nil || len(steps) == 0 {
		t.Fatalf("boto3 driver: %v (output %q)", err, out)
	}
	return steps
}

func TestSQSExtendedPayloads(t *testing.T) {
	need(t, "boto3", checkBoto3, installBoto3)
	k := startKinesisBridge(t)
	url := createSQSQueue(t, sdkSQS(k), "extended", nil, nil)
	adm := kadm.NewClient(k.kafka())
	maxBytes := strconv.Itoa(16 << 20)
	if _, err := adm.AlterTopicConfigs(kctx(t), []kadm.AlterConfig{{Name: "max.message.bytes", Value: &maxBytes}}, "extended"); err != nil {
		t.Fatal(err)
	}

	// Kafka in, SQS out: the pointer form.
	payload := make([]byte, 5<<20)
	rand.Read(payload)
	sum := sha256.Sum256(payload)
	p := k.kafka(kgo.DefaultProduceTopic("extended"), kgo.ProducerBatchMaxBytes(16<<20))
	if err := p.ProduceSync(kctx(t), &kgo.Record{Value: payload}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	extendedSteps(t, k, "receive", "--queue-url", url, "--size", strconv.Itoa(len(payload)), "--sha256", hex.EncodeToString(sum[:]))

	// SQS in, the object written by the client: Kafka out, restored.
	const sent = 3 << 20
	steps := extendedSteps(t, k, "send", "--queue-url", url, "--bucket", "client-payloads", "--size", strconv.Itoa(sent))
	want, _ := steps["send pointer"]["sha256"].(string)
	c := k.kafka(kgo.ConsumeTopics("extended"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(32<<20))
	deadline := time.Now().Add(30 * time.Second)
	for found := false; !found; {
		if time.Now().After(deadline) {
			t.Fatalf("the Kafka consumer never got the %d-byte payload the pointer message names", sent)
		}
		fs := c.PollFetches(kctx(t))
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset == 0 {
				return // the Kafka-produced record, now a pointer to a deleted object
			}
			got := sha256.Sum256(r.Value)
			if len(r.Value) != sent || hex.EncodeToString(got[:]) != want {
				t.Fatalf("the Kafka consumer got %d bytes %.60q, want the %d-byte payload restored", len(r.Value), r.Value, sent)
			}
			for _, h := range r.Headers {
				if h.Key == "ExtendedPayloadSize" || bytes.Contains(h.Value, []byte("PayloadS3Pointer")) {
					t.Errorf("restored record kept %s", h.Key)
				}
			}
			found = true
		})
	}
}
