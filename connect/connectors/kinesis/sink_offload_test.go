package kinesis

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
	"github.com/streambridge/bridge/gateway/awsapi"
	gwkinesis "github.com/streambridge/bridge/gateway/kinesis"
	gateways3 "github.com/streambridge/bridge/gateway/s3"
	"github.com/streambridge/bridge/internal/awsbody"
	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/store/embedded"
)

// startBridgeWithS3 serves the bridge's Kinesis and S3 APIs behind the AWS
// port's router on one 127.0.0.1 address, as `bridge serve` does, over an
// in-memory store, and returns the target and an S3 client of it.
func startBridgeWithS3(t *testing.T) (*target, *awss3.Client) {
	t.Helper()
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	kin, err := gwkinesis.New(gwkinesis.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := gateways3.New(gateways3.Config{Objects: st})
	if err != nil {
		t.Fatal(err)
	}
	rt := awsapi.NewRouter(nil)
	for _, api := range []awsapi.API{
		{Name: "Kinesis", Handler: kin, TargetPrefixes: []string{"Kinesis_20131202."}},
		{Name: "S3", Handler: objs, PathPrefixes: []string{"/"}, StreamedBody: true},
	} {
		if err := rt.Register(api); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rt}
	go srv.Serve(ln)
	t.Cleanup(func() {
		_ = kin.Shutdown(context.Background())
		_ = srv.Close()
		_ = st.Close()
	})
	url := "http://" + ln.Addr().String()
	s3 := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:  awsbody.OwnBody{Next: http.DefaultClient}})
	return &target{name: "bridge", url: url, client: adminClient(url), store: st}, s3
}

// TestSinkOffloadsLargeRecords: with kinesis.offload.s3.bucket, a 3 MiB
// Kafka record reaches the stream as a PayloadS3Pointer record (its
// partition key kept) and its payload is the object it names, byte for
// byte; records within the threshold stay inline. The threshold is the
// stream's record limit unless set lower, and follows a limit raised with
// UpdateMaxRecordSize. A bucket that does not exist sends the record to the
// error handling.
func TestSinkOffloadsLargeRecords(t *testing.T) {
	big := make([]byte, 3<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	mid := bytes.Repeat([]byte("m"), 200)
	for _, tc := range []struct {
		name       string
		extra      connect.Config
		maxKiB     int32 // UpdateMaxRecordSize before the sink starts; 0: the default 1 MiB
		offloaded  []bool
		reported   int
		wantPrefix string
	}{
		{"default threshold", connect.Config{OffloadPrefixConfig: "kafka/in/"}, 0, []bool{false, true, false}, 0, "kafka/in/"},
		{"threshold 100 bytes", connect.Config{OffloadThresholdConfig: "100"}, 0, []bool{false, true, true}, 0, ""},
		{"raised record limit", nil, 4096, []bool{false, false, false}, 0, ""},
		{"missing bucket", connect.Config{OffloadBucketConfig: "no-such-bucket"}, 0, []bool{false, false}, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg, s3 := startBridgeWithS3(t)
			tg.createStream(t, "large", 1)
			if tc.maxKiB > 0 {
				if _, err := tg.client.UpdateMaxRecordSize(t.Context(), &awskinesis.UpdateMaxRecordSizeInput{
					StreamARN: streamARN(t, tg, "large"), MaxRecordSizeInKiB: aws.Int32(tc.maxKiB)}); err != nil {
					t.Fatal(err)
				}
				tg.waitActive(t, "large")
			}
			if _, err := s3.CreateBucket(t.Context(), &awss3.CreateBucketInput{Bucket: aws.String("payloads")}); err != nil {
				t.Fatal(err)
			}
			cfg := tg.config(connect.Config{StreamConfig: "large", "topics": "in", OffloadBucketConfig: "payloads"})
			for k, v := range tc.extra {
				cfg[k] = v
			}
			sc := &connecttest.SinkContext{Tolerate: true}
			tp := connect.TopicPartition{Topic: "in", Partition: 0}
			task := startSink(t, cfg, sc, tp)
			values := [][]byte{[]byte("small"), big, mid}
			var recs []connect.Record
			for i, v := range values {
				recs = append(recs, connect.Record{Topic: "in", Partition: 0, Offset: int64(i), Key: "key-" + string(rune('a'+i)), Value: v})
			}
			if err := task.Put(t.Context(), recs); err != nil {
				t.Fatal(err)
			}
			if len(sc.Reported) != tc.reported {
				t.Fatalf("%d records reported, want %d: %v", len(sc.Reported), tc.reported, sc.Reported)
			}
			if tc.reported > 0 && !strings.Contains(sc.Reported[0].Err.Error(), "NoSuchBucket") {
				t.Errorf("reported for %v, want NoSuchBucket", sc.Reported[0].Err)
			}
			stored := tg.readAll(t, "large")["shardId-000000000000"]
			if len(stored) != len(tc.offloaded) {
				t.Fatalf("%d records in the stream, want %d", len(stored), len(tc.offloaded))
			}
			for i, r := range stored {
				want := values[i]
				if tc.reported > 0 && i == 1 {
					want = values[2] // the big one went to the error handling
				}
				if aws.ToString(r.PartitionKey) != "key-"+string(rune('a'+i+min(i, tc.reported))) {
					t.Errorf("record %d: partition key %s", i, aws.ToString(r.PartitionKey))
				}
				p, isPointer := offload.Decode(r.Data)
				if isPointer != tc.offloaded[i] {
					t.Fatalf("record %d: pointer %v, want %v (%d bytes)", i, isPointer, tc.offloaded[i], len(r.Data))
				}
				if !isPointer {
					if !bytes.Equal(r.Data, want) {
						t.Errorf("record %d: %d bytes inline, want %d", i, len(r.Data), len(want))
					}
					continue
				}
				if !bytes.HasPrefix(r.Data, []byte(`["software.amazon.payloadoffloading.PayloadS3Pointer",{`)) {
					t.Errorf("record %d: pointer %s is not in the extended clients' class form", i, r.Data)
				}
				if p.Bucket != "payloads" || !strings.HasPrefix(p.Key, tc.wantPrefix) || len(p.Key) != len(tc.wantPrefix)+36 {
					t.Errorf("record %d: pointer %+v", i, p)
				}
				obj, err := s3.GetObject(t.Context(), &awss3.GetObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)})
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(obj.Body)
				obj.Body.Close()
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("record %d: object holds %d bytes (%v), want the %d-byte payload", i, len(got), err, len(want))
				}
			}
		})
	}
}
