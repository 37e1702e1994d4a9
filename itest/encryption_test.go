package itest

// Encryption at rest against the real binary: the AWS CLI turns it on for
// a Kinesis stream and manages KMS keys, kadm creates an encrypted Kafka
// topic, kcat and franz-go produce and consume, aws-sdk-go-v2 rotates a key.
// The bridge is killed with -9 and restarted: acknowledged records are all
// there, none of the encrypted ones is anywhere in the data dir in the
// clear, and a different keyring gets the protocols' errors, never garbage.

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestEncryptionAtRest(t *testing.T) {
	need(t, "AWS CLI", checkAWSCLI, installAWSCLI)
	need(t, "kcat", checkKcat, installKcat)
	dataDir := t.TempDir()
	keyring := filepath.Join(t.TempDir(), "keyring.json")
	k := startKinesisBridgeIn(t, dataDir, "--kms-keyring-file", keyring)
	ctx := kctx(t)

	// A customer key and an alias, made with the AWS CLI.
	var created struct{ KeyMetadata struct{ KeyId, Arn string } }
	kmsCLIJSON(t, k, &created, "create-key", "--description", "itest")
	keyID := created.KeyMetadata.KeyId
	kmsCLI(t, k, "create-alias", "--alias-name", "alias/itest", "--target-key-id", keyID)

	// Kinesis: records before, under the AWS-managed key, and under ours.
	const stream = "enc-stream"
	cli(t, k, "create-stream", "--stream-name", stream, "--shard-count", "1")
	k.waitActive(t, stream)
	put := func(data string) {
		t.Helper()
		cli(t, k, "put-record", "--stream-name", stream, "--partition-key", "pk", "--data", data)
	}
	put("KINESIS-CLEAR-MARKER")
	cli(t, k, "start-stream-encryption", "--stream-name", stream, "--encryption-type", "KMS", "--key-id", "alias/aws/kinesis")
	k.waitActive(t, stream)
	put("KINESIS-SECRET-AWS-MANAGED")
	cli(t, k, "start-stream-encryption", "--stream-name", stream, "--encryption-type", "KMS", "--key-id", "alias/itest")
	k.waitActive(t, stream)
	put("KINESIS-SECRET-CUSTOMER")
	var desc struct {
		StreamDescriptionSummary struct{ EncryptionType, KeyId string }
	}
	cliJSON(t, k, &desc, "describe-stream-summary", "--stream-name", stream)
	if s := desc.StreamDescriptionSummary; s.EncryptionType != "KMS" || s.KeyId != "alias/itest" {
		t.Fatalf("describe-stream-summary: %+v", s)
	}

	// Kafka: a topic encrypted from its first record, written by kcat and
	// franz-go; a clear topic as the control.
	kc := &kafkaCluster{t: t, addr: k.bridge.kafka}
	key := "alias/aws/kafka"
	kc.createTopic("enc-topic", 2, map[string]*string{"encryption.kms.key.id": &key})
	kc.createTopic("clear-topic", 1, nil)
	kcatLines(t, k.bridge.kafka, "enc-topic", "k1:KAFKA-SECRET-KCAT-1", "k2:KAFKA-SECRET-KCAT-2")
	kcatLines(t, k.bridge.kafka, "clear-topic", "k:KAFKA-CLEAR-CONTROL")
	cl := k.kafka(kgo.DefaultProduceTopic("enc-topic"))
	if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte("k3"), Value: []byte("KAFKA-SECRET-FRANZ")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	configs, err := k.kadm().DescribeTopicConfigs(ctx, "enc-topic")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := configs.On("enc-topic", nil); err != nil || !slices.ContainsFunc(c.Configs, func(c kadm.Config) bool {
		return c.Key == "encryption.kms.key.id" && c.MaybeValue() == key
	}) {
		t.Fatalf("DescribeConfigs of enc-topic lacks encryption.kms.key.id=%s: %v", key, err)
	}

	// Rotate our key with aws-sdk-go-v2 (the Debian AWS CLI predates
	// RotateKeyOnDemand); records after it are wrapped by new material.
	kms := awskms.New(awskms.Options{Region: kinesisRegion, BaseEndpoint: aws.String(k.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDITEST", "itest-secret", "")})
	if _, err := kms.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: aws.String(keyID)}); err != nil {
		t.Fatal(err)
	}
	put("KINESIS-SECRET-ROTATED")

	// kill -9, then look at every byte the bridge left on disk.
	k.kill9()
	for _, secret := range []string{"KINESIS-SECRET", "KAFKA-SECRET"} {
		if path := fileHolding(t, dataDir, secret); path != "" {
			t.Errorf("%s is in the clear in %s", secret, path)
		}
	}
	for _, clear := range []string{"KINESIS-CLEAR-MARKER", "KAFKA-CLEAR-CONTROL"} {
		if fileHolding(t, dataDir, clear) == "" {
			t.Errorf("%s (written in the clear) is not found on disk: the search proves nothing", clear)
		}
	}

	// Restarted on the same keyring: everything reads back, the Kinesis
	// records with their EncryptionType.
	k = startKinesisBridgeIn(t, dataDir, "--kms-keyring-file", keyring)
	got := cliRecordsWithEncryption(t, k, stream, 4)
	want := []string{"KINESIS-CLEAR-MARKER/", "KINESIS-SECRET-AWS-MANAGED/KMS", "KINESIS-SECRET-CUSTOMER/KMS", "KINESIS-SECRET-ROTATED/KMS"}
	if !slices.Equal(got, want) {
		t.Fatalf("aws kinesis get-records after the restart: %v, want %v", got, want)
	}
	kc = &kafkaCluster{t: t, addr: k.bridge.kafka}
	var values []string
	for _, r := range kcatConsume(t, k.bridge.kafka, "enc-topic", kc.endOffsets("enc-topic")) {
		values = append(values, string(r.Value))
	}
	slices.Sort(values)
	if want := []string{"KAFKA-SECRET-FRANZ", "KAFKA-SECRET-KCAT-1", "KAFKA-SECRET-KCAT-2"}; !slices.Equal(values, want) {
		t.Fatalf("kcat after the restart: %v, want %v", values, want)
	}

	// A disabled key stops Kinesis reads of what it encrypted (AWS CLI).
	kmsCLI(t, k, "disable-key", "--key-id", keyID)
	cliFails(t, k, "KMSDisabledException", "put-record", "--stream-name", stream, "--partition-key", "pk", "--data", "refused")
	kmsCLI(t, k, "enable-key", "--key-id", keyID)
	put("KINESIS-SECRET-AFTER-ENABLE")

	// Another keyring: the same records are refused with each protocol's
	// error; nothing is returned undecrypted.
	k.kill9()
	k = startKinesisBridgeIn(t, dataDir, "--kms-keyring-file", filepath.Join(t.TempDir(), "other.json"))
	it := struct{ ShardIterator string }{}
	cliJSON(t, k, &it, "get-shard-iterator", "--stream-name", stream, "--shard-id", "shardId-000000000000", "--shard-iterator-type", "TRIM_HORIZON")
	cliFails(t, k, "KMSNotFoundException", "get-records", "--shard-iterator", it.ShardIterator)
	// Clients retry KAFKA_STORAGE_ERROR quietly, so ask the protocol itself.
	kc = &kafkaCluster{t: t, addr: k.bridge.kafka}
	for p, end := range kc.endOffsets("enc-topic") {
		if end == 0 {
			continue
		}
		if code := rawFetchError(t, kc, "enc-topic", p, 0); code != kerr.KafkaStorageError.Code {
			t.Errorf("fetch of enc-topic/%d with another keyring: error code %d, want KAFKA_STORAGE_ERROR", p, code)
		}
	}
	if !k.logged(func(l logLine) bool { return strings.Contains(l.str("msg"), "cannot be decrypted") }) {
		t.Error("the bridge did not log the refused fetch")
	}
	// The clear topic is untouched by the keyring.
	if vs := kcatConsume(t, k.bridge.kafka, "clear-topic", map[int32]int64{0: 1}); len(vs) != 1 || string(vs[0].Value) != "KAFKA-CLEAR-CONTROL" {
		t.Errorf("clear-topic with another keyring: %v", vs)
	}
}

func kmsCLI(t *testing.T, k *kinesisBridge, args ...string) []byte {
	t.Helper()
	return mustAWSTool(t, k.cliEnv, nil, awsCLI, append([]string{"--endpoint-url", k.endpoint, "--no-cli-pager", "--output", "json", "kms"}, args...)...)
}

func kmsCLIJSON(t *testing.T, k *kinesisBridge, out any, args ...string) {
	t.Helper()
	if b := kmsCLI(t, k, args...); json.Unmarshal(b, out) != nil {
		t.Fatalf("aws kms %s: output %q", strings.Join(args, " "), b)
	}
}

// kcatLines produces "key:value" lines to topic with acks=all.
func kcatLines(t *testing.T, addr, topic string, lines ...string) {
	t.Helper()
	runTool(t, []byte(strings.Join(lines, "\n")+"\n"), "kcat", "-b", addr, "-P", "-t", topic, "-K", ":", "-X", "acks=all")
}

// cliRecordsWithEncryption reads the stream's one shard with the AWS CLI
// and returns each record as "data/EncryptionType".
func cliRecordsWithEncryption(t *testing.T, k *kinesisBridge, stream string, n int) []string {
	t.Helper()
	var it struct{ ShardIterator string }
	cliJSON(t, k, &it, "get-shard-iterator", "--stream-name", stream, "--shard-id", "shardId-000000000000", "--shard-iterator-type", "TRIM_HORIZON")
	var page struct {
		Records []struct {
			Data           []byte
			EncryptionType string
		}
	}
	cliJSON(t, k, &page, "get-records", "--shard-iterator", it.ShardIterator, "--limit", strconv.Itoa(n))
	var out []string
	for _, r := range page.Records {
		out = append(out, string(r.Data)+"/"+r.EncryptionType)
	}
	return out
}

// fileHolding returns a file under dir that holds b, or "".
func fileHolding(t *testing.T, dir, b string) string {
	t.Helper()
	found := ""
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && bytes.Contains(data, []byte(b)) {
			found = path
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// logged reports whether the process has logged a line that matches.
func (p *proc) logged(match func(logLine) bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.ContainsFunc(p.lines, match)
}
