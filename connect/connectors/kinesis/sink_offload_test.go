package kinesis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
	"github.com/streambridge/bridge/gateway/awsapi"
	gwkinesis "github.com/streambridge/bridge/gateway/kinesis"
	"github.com/streambridge/bridge/gateway/payloads"
	gateways3 "github.com/streambridge/bridge/gateway/s3"
	"github.com/streambridge/bridge/internal/awsbody"
	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// startBridgeWithS3 serves the bridge's Kinesis and S3 APIs behind the AWS
// port's router on one 127.0.0.1 address, as `bridge serve` does, over an
// in-memory store, and returns the target and an S3 client of it. With
// restores, the Kinesis API has the offloader `bridge serve` gives it, and
// reads pointer records restored; without, it hands them out as they are,
// as AWS does.
func startBridgeWithS3(t *testing.T, restores bool) (*target, *awss3.Client) {
	tg, s3, _ := startBridgeWithS3Hook(t, restores)
	return tg, s3
}

// requestHook, when its func is set, answers requests in the bridge's
// place: it returns true when it did.
type requestHook struct {
	mu sync.Mutex
	f  func(w http.ResponseWriter, r *http.Request) bool
}

func (h *requestHook) set(f func(w http.ResponseWriter, r *http.Request) bool) {
	h.mu.Lock()
	h.f = f
	h.mu.Unlock()
}

func startBridgeWithS3Hook(t *testing.T, restores bool) (*target, *awss3.Client, *requestHook) {
	t.Helper()
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	kcfg := gwkinesis.Config{Store: st}
	if restores {
		kcfg.Offload = payloads.New(st, payloads.Policy{Threshold: payloads.DefaultThreshold}, nil)
	}
	kin, err := gwkinesis.New(kcfg)
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
	hook := &requestHook{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hook.mu.Lock()
		f := hook.f
		hook.mu.Unlock()
		if f != nil && f(w, r) {
			return
		}
		rt.ServeHTTP(w, r)
	})}
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
	return &target{name: "bridge", url: url, client: adminClient(url), store: st}, s3, hook
}

// TestSinkOffloadsLargeRecords: with kinesis.offload.s3.bucket, a 3 MiB
// Kafka record reaches the stream as a PayloadS3Pointer record (its
// partition key kept), its payload is the object it names, byte for byte,
// and GetRecords through the bridge returns it restored, byte for byte;
// records within the threshold stay inline. The threshold is the stream's
// record limit unless set lower, and follows a limit raised with
// UpdateMaxRecordSize.
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
		wantPrefix string
		// bridgeRestores: the bridge as `bridge serve` runs it, which
		// would also offload the 3 MiB record of a raised limit itself.
		bridgeRestores bool
	}{
		{"default threshold", connect.Config{OffloadPrefixConfig: "kafka/in/"}, 0, []bool{false, true, false}, "kafka/in/", true},
		{"threshold 100 bytes", connect.Config{OffloadThresholdConfig: "100"}, 0, []bool{false, true, true}, "", true},
		{"raised record limit", nil, 4096, []bool{false, false, false}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg, s3 := startBridgeWithS3(t, tc.bridgeRestores)
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
			sc := &connecttest.SinkContext{}
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
			if len(sc.Reported) != 0 {
				t.Fatalf("records reported: %v", sc.Reported)
			}
			read := tg.readAll(t, "large")["shardId-000000000000"]
			if len(read) != len(values) {
				t.Fatalf("GetRecords read %d records, want %d", len(read), len(values))
			}
			for i, r := range read {
				if aws.ToString(r.PartitionKey) != "key-"+string(rune('a'+i)) || !bytes.Equal(r.Data, values[i]) {
					t.Errorf("GetRecords record %d: key %s, %d bytes; want the %d bytes put, byte for byte", i, aws.ToString(r.PartitionKey), len(r.Data), len(values[i]))
				}
			}
			stored := storedValues(t, tg, "large")
			if len(stored) != len(tc.offloaded) {
				t.Fatalf("%d records in the stream, want %d", len(stored), len(tc.offloaded))
			}
			for i, data := range stored {
				want := values[i]
				p, isPointer := offload.Decode(data)
				if isPointer != tc.offloaded[i] {
					t.Fatalf("record %d: pointer %v, want %v (%d bytes)", i, isPointer, tc.offloaded[i], len(data))
				}
				if !isPointer {
					if !bytes.Equal(data, want) {
						t.Errorf("record %d: %d bytes inline, want %d", i, len(data), len(want))
					}
					continue
				}
				if !bytes.HasPrefix(data, []byte(`["software.amazon.payloadoffloading.PayloadS3Pointer",{`)) {
					t.Errorf("record %d: pointer %s is not in the extended clients' class form", i, data)
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

// TestOffloadRoundTrip copies Kafka records through the sink (3 MiB ones
// offloaded to S3) and back through the source, by polling and by
// enhanced fan-out. Against an endpoint that hands pointer records out as
// they are (AWS; here the bridge without its offloader), the source hands
// out the payloads byte for byte with kinesis.resolve.s3.pointers, the
// pointers without it; the bridge itself restores them either way. A
// pointer whose object was deleted is copied as the pointer it is.
func TestOffloadRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16)
	for _, tc := range []struct {
		consumer       string
		resolve        string
		bridgeRestores bool
	}{
		{consumerPolling, "true", false},
		{consumerEFO, "true", false},
		{consumerPolling, "false", false},
		{consumerPolling, "false", true},
		{consumerEFO, "false", true},
	} {
		t.Run(fmt.Sprintf("%s/resolve=%s/bridge-restores=%v", tc.consumer, tc.resolve, tc.bridgeRestores), func(t *testing.T) {
			tg, s3 := startBridgeWithS3(t, tc.bridgeRestores)
			tg.createStream(t, "trip", 1)
			if _, err := s3.CreateBucket(t.Context(), &awss3.CreateBucketInput{Bucket: aws.String("payloads")}); err != nil {
				t.Fatal(err)
			}
			sc := &connecttest.SinkContext{}
			tp := connect.TopicPartition{Topic: "in", Partition: 0}
			sink := startSink(t, tg.config(connect.Config{StreamConfig: "trip", "topics": "in", OffloadBucketConfig: "payloads"}), sc, tp)
			values := [][]byte{[]byte("before"), big, big, []byte("after")}
			var recs []connect.Record
			for i, v := range values {
				recs = append(recs, connect.Record{Topic: "in", Partition: 0, Offset: int64(i), Key: "k", Value: v})
			}
			if err := sink.Put(t.Context(), recs); err != nil {
				t.Fatal(err)
			}
			// The second big record's object goes away.
			stored := storedValues(t, tg, "trip")
			gone, ok := offload.Decode(stored[2])
			if !ok {
				t.Fatalf("record 2 is not a pointer: %.80q", stored[2])
			}
			if _, err := s3.DeleteObject(t.Context(), &awss3.DeleteObjectInput{Bucket: aws.String(gone.Bucket), Key: aws.String(gone.Key)}); err != nil {
				t.Fatal(err)
			}

			run := startSource(t, tg.config(connect.Config{StreamConfig: "trip", TopicConfig: "out",
				ConsumerTypeConfig: tc.consumer, ResolvePointersConfig: tc.resolve}), 1, nil)
			got := run.pollUntil(len(values))
			want := [][]byte{values[0], stored[1], stored[2], values[3]}
			if tc.resolve == "true" || tc.bridgeRestores {
				want[1] = big
			}
			for i, r := range got {
				if v := r.Value.([]byte); !bytes.Equal(v, want[i]) {
					t.Errorf("record %d: %d bytes (%.60q), want %d (%.60q)", i, len(v), v, len(want[i]), want[i])
				}
			}
		})
	}
}

// TestSinkOffloadBucketMissing: a bucket that does not exist fails the
// task's Start, naming the setting.
func TestSinkOffloadBucketMissing(t *testing.T) {
	tg, _ := startBridgeWithS3(t, false)
	tg.createStream(t, "large", 1)
	task := &SinkTask{}
	err := task.Start(t.Context(), &connecttest.SinkContext{},
		tg.config(connect.Config{StreamConfig: "large", "topics": "in", OffloadBucketConfig: "no-such-bucket"}))
	if err == nil || !strings.Contains(err.Error(), OffloadBucketConfig) {
		t.Fatalf("Start = %v, want an error naming %s", err, OffloadBucketConfig)
	}
}

// TestSinkOffloadRetriesS3Failures: S3 answering SlowDown to the payload's
// PutObject makes Put fail retriably before any record of it is put; the
// runtime's second hand of the same records writes each once, in order.
func TestSinkOffloadRetriesS3Failures(t *testing.T) {
	tg, s3, hook := startBridgeWithS3Hook(t, false)
	tg.createStream(t, "slow", 1)
	if _, err := s3.CreateBucket(t.Context(), &awss3.CreateBucketInput{Bucket: aws.String("payloads")}); err != nil {
		t.Fatal(err)
	}
	tp := connect.TopicPartition{Topic: "in", Partition: 0}
	task := startSink(t, tg.config(connect.Config{StreamConfig: "slow", "topics": "in", OffloadBucketConfig: "payloads"}), &connecttest.SinkContext{}, tp)
	big := bytes.Repeat([]byte{7}, 2<<20)
	recs := []connect.Record{
		{Topic: "in", Partition: 0, Offset: 0, Key: "k", Value: []byte("first")},
		{Topic: "in", Partition: 0, Offset: 1, Key: "k", Value: big},
		{Topic: "in", Partition: 0, Offset: 2, Key: "k", Value: []byte("last")},
	}
	hook.set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut || !strings.HasPrefix(r.URL.Path, "/payloads/") {
			return false
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>")
		return true
	})
	err := task.Put(t.Context(), recs)
	if !errors.Is(err, connect.ErrRetriable) {
		t.Fatalf("Put = %v, want a retriable error", err)
	}
	hook.set(nil)
	if err := task.Put(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	stored := tg.readAll(t, "slow")["shardId-000000000000"]
	if len(stored) != 3 || string(stored[0].Data) != "first" || string(stored[2].Data) != "last" {
		t.Fatalf("stream holds %d records", len(stored))
	}
	if _, ok := offload.Decode(stored[1].Data); !ok {
		t.Fatalf("record 1 is not a pointer: %.60q", stored[1].Data)
	}
}

// storedValues returns the values of a one-shard stream's records as the
// bridge's store keeps them: pointer records as pointers.
func storedValues(t *testing.T, tg *target, stream string) [][]byte {
	t.Helper()
	res, err := tg.store.Read(t.Context(), stream, 0, 0, store.ReadLimits{MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, b := range res.Batches {
		_, recs, err := recordbatch.Decode(b.Raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			out = append(out, r.Value)
		}
	}
	return out
}

// TestSinkOffloadConfigErrors: each offload setting is checked on its own.
func TestSinkOffloadConfigErrors(t *testing.T) {
	def := SinkDef()
	for _, tc := range []struct {
		key, value string
		ok         bool
	}{
		{OffloadBucketConfig, "big-records", true},
		{OffloadBucketConfig, "Legacy_Bucket", true},
		{OffloadBucketConfig, "ab", false},
		{OffloadBucketConfig, "a/b/c", false},
		{OffloadBucketConfig, "-starts-with-dash", false},
		{OffloadPrefixConfig, "kafka/in/", true},
		{OffloadPrefixConfig, strings.Repeat("p", 989), false},
		{OffloadThresholdConfig, "0", true},
		{OffloadThresholdConfig, "10485760", true},
		{OffloadThresholdConfig, "10485761", false},
		{OffloadThresholdConfig, "-1", false},
		{OffloadThresholdConfig, "1MB", false},
	} {
		_, errs := def.Parse(connect.Config{StreamConfig: "s", tc.key: tc.value})
		if got := len(errs[tc.key]) == 0; got != tc.ok {
			t.Errorf("%s=%.20q: accepted %v, want %v (%v)", tc.key, tc.value, got, tc.ok, errs[tc.key])
		}
	}
}
