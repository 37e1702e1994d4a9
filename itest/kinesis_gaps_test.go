package itest

// Kinesis behaviour that AWS added after the Debian clients were packaged, or
// that the bridge used to get wrong, through the AWS CLI and boto3:
// CreateStream without ShardCount, iterators at an empty shard's
// StartingSequenceNumber, a quoted iterator, resource policies, account
// settings, warm throughput and the record distribution strategy, and
// (boto3) that what those operations store survives a SIGKILL.
//
// The Debian AWS CLI (2.9) and boto3 (1.26) predate most of these
// operations; python/models holds a botocore "sdk-extras" file, put on
// AWS_DATA_PATH, that adds them to both clients' Kinesis model, so the
// requests and answers still go through the clients' own serializers,
// parsers and error handling (see python/kinesis_gaps_boto3.py).

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
)

const (
	kinesisGapsDriver = "python/kinesis_gaps_boto3.py"
	// kinesisModels is the botocore data path with the newer operations.
	kinesisModels = "python/models"
)

var kinesisModelFile = filepath.Join(kinesisModels, "kinesis", "2013-12-02", "service-2.sdk-extras.json")

func TestKinesisGaps(t *testing.T) {
	dataDir := t.TempDir()
	k := startKinesisBridgeIn(t, dataDir)
	// The CLI first: the boto3 subtest ends by restarting the bridge.
	t.Run("awscli", func(t *testing.T) { testAWSCLIGaps(t, k) })
	t.Run("boto3", func(t *testing.T) { testBoto3Gaps(t, k, dataDir) })
}

// gapsCLI is k with the AWS CLI seeing the newer operations.
func gapsCLI(t *testing.T, k *kinesisBridge) *kinesisBridge {
	t.Helper()
	readScript(t, kinesisModelFile)
	models, err := filepath.Abs(kinesisModels)
	if err != nil {
		t.Fatal(err)
	}
	kc := *k
	kc.cliEnv = []string{"AWS_DATA_PATH=" + models}
	return &kc
}

// cliFails runs the AWS CLI expecting it to fail with the AWS error code
// code (the CLI's exit status 254).
func cliFails(t *testing.T, k *kinesisBridge, code string, args ...string) {
	t.Helper()
	out, err := runAWSToolEnv(k.cliEnv, nil, awsCLI, append([]string{"--endpoint-url", k.endpoint, "--no-cli-pager",
		"--cli-binary-format", "raw-in-base64-out", "kinesis"}, args...)...)
	if err == nil || !strings.Contains(err.Error(), "exit status 254") || !strings.Contains(err.Error(), code) {
		t.Errorf("aws kinesis %s: %v (stdout %q), want exit status 254 and %s", strings.Join(args, " "), err, out, code)
	}
}

type cliShard struct {
	ShardId             string
	HashKeyRange        struct{ StartingHashKey string }
	SequenceNumberRange struct{ StartingSequenceNumber string }
}

type cliSummary struct {
	StreamDescriptionSummary struct {
		StreamModeDetails          struct{ StreamMode string }
		OpenShardCount             int
		RecordDistributionStrategy string
		WarmThroughput             *struct{ TargetMiBps, CurrentMiBps int }
	}
}

func testAWSCLIGaps(t *testing.T, k *kinesisBridge) {
	need(t, "AWS CLI", checkAWSCLI, installAWSCLI)
	k = gapsCLI(t, k)
	const od, prov = "cli-gaps-od", "cli-gaps-prov"
	arn := k.streamARN(od)

	// CreateStream without --shard-count: ON_DEMAND, 4 shards.
	cli(t, k, "create-stream", "--stream-name", od)
	cli(t, k, "create-stream", "--stream-name", prov, "--shard-count", "1")
	k.waitActive(t, od)
	var sum cliSummary
	cliJSON(t, k, &sum, "describe-stream-summary", "--stream-name", od)
	if s := sum.StreamDescriptionSummary; s.StreamModeDetails.StreamMode != "ON_DEMAND" || s.OpenShardCount != 4 || s.RecordDistributionStrategy != "USER_PARTITION_KEY" {
		t.Errorf("create-stream without --shard-count: %+v", s)
	}

	// AT_SEQUENCE_NUMBER at an empty shard's StartingSequenceNumber, read
	// with the iterator exactly as `--query ShardIterator` prints it: in
	// double quotes.
	var shards struct{ Shards []cliShard }
	cliJSON(t, k, &shards, "list-shards", "--stream-name", od)
	if len(shards.Shards) != 4 {
		t.Fatalf("list-shards: %+v", shards)
	}
	sh := shards.Shards[2]
	quoted := strings.TrimSpace(string(cli(t, k, "get-shard-iterator", "--stream-name", od, "--shard-id", sh.ShardId,
		"--shard-iterator-type", "AT_SEQUENCE_NUMBER", "--starting-sequence-number", sh.SequenceNumberRange.StartingSequenceNumber,
		"--query", "ShardIterator")))
	if len(quoted) < 3 || quoted[0] != '"' || quoted[len(quoted)-1] != '"' {
		t.Fatalf("get-shard-iterator --query ShardIterator printed %q, want a quoted string", quoted)
	}
	var ack struct{ ShardId, SequenceNumber string }
	cliJSON(t, k, &ack, "put-record", "--stream-name", od, "--partition-key", "k", "--explicit-hash-key", sh.HashKeyRange.StartingHashKey,
		"--data", "first record")
	var page struct{ Records []cliRecord }
	cliJSON(t, k, &page, "get-records", "--shard-iterator", quoted)
	if len(page.Records) != 1 || string(page.Records[0].Data) != "first record" || page.Records[0].SequenceNumber != ack.SequenceNumber {
		t.Errorf("get-records with the quoted iterator: %+v, want the record put as %+v", page.Records, ack)
	}

	// Resource policies on the stream and on a consumer.
	var reg struct{ Consumer struct{ ConsumerARN string } }
	cliJSON(t, k, &reg, "register-stream-consumer", "--stream-arn", arn, "--consumer-name", "cli")
	const policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kinesis:DescribeStreamSummary","Resource":"*"}]}`
	for _, res := range []string{arn, reg.Consumer.ConsumerARN} {
		var got struct{ Policy string }
		cliJSON(t, k, &got, "get-resource-policy", "--resource-arn", res)
		if got.Policy != "{}" {
			t.Errorf("%s: policy before any %q, want {}", res, got.Policy)
		}
		cli(t, k, "put-resource-policy", "--resource-arn", res, "--policy", policy)
		cliJSON(t, k, &got, "get-resource-policy", "--resource-arn", res)
		if got.Policy != policy {
			t.Errorf("%s: policy %q, want %q", res, got.Policy, policy)
		}
		cli(t, k, "delete-resource-policy", "--resource-arn", res)
		cliFails(t, k, "ResourceNotFoundException", "delete-resource-policy", "--resource-arn", res)
	}
	cliFails(t, k, "InvalidArgumentException", "put-resource-policy", "--resource-arn", arn, "--policy", "not json")
	cliFails(t, k, "ResourceNotFoundException", "get-resource-policy", "--resource-arn", k.streamARN("cli-gaps-missing"))

	// Account settings and warm throughput.
	var acct struct{ MinimumThroughputBillingCommitment struct{ Status string } }
	cliJSON(t, k, &acct, "describe-account-settings")
	if acct.MinimumThroughputBillingCommitment.Status != "DISABLED" {
		t.Errorf("describe-account-settings of a new bridge: %+v", acct)
	}
	cliFails(t, k, "InvalidArgumentException", "update-stream-warm-throughput", "--stream-name", od, "--warm-throughput-mi-bps", "32")
	cliJSON(t, k, &acct, "update-account-settings", "--minimum-throughput-billing-commitment", "Status=ENABLED")
	if acct.MinimumThroughputBillingCommitment.Status != "ENABLED" {
		t.Errorf("update-account-settings: %+v", acct)
	}
	var warm struct {
		StreamName     string
		WarmThroughput struct{ TargetMiBps int }
	}
	cliJSON(t, k, &warm, "update-stream-warm-throughput", "--stream-name", od, "--warm-throughput-mi-bps", "32")
	cliJSON(t, k, &sum, "describe-stream-summary", "--stream-name", od)
	if w := sum.StreamDescriptionSummary.WarmThroughput; warm.StreamName != od || warm.WarmThroughput.TargetMiBps != 32 || w == nil || w.TargetMiBps != 32 {
		t.Errorf("update-stream-warm-throughput answered %+v, summary says %+v", warm, w)
	}
	cliFails(t, k, "InvalidArgumentException", "update-stream-warm-throughput", "--stream-name", prov, "--warm-throughput-mi-bps", "32")

	// AUTO record distribution: a record without a partition key.
	cli(t, k, "update-stream-record-distribution-strategy", "--stream-arn", arn, "--record-distribution-strategy", "AUTO")
	cliJSON(t, k, &sum, "describe-stream-summary", "--stream-name", od)
	if sum.StreamDescriptionSummary.RecordDistributionStrategy != "AUTO" {
		t.Errorf("after update-stream-record-distribution-strategy: %+v", sum.StreamDescriptionSummary)
	}
	cliJSON(t, k, &ack, "put-record", "--stream-name", od, "--data", "no partition key")
	if ack.ShardId == "" || ack.SequenceNumber == "" {
		t.Errorf("put-record without --partition-key to an AUTO stream: %+v", ack)
	}
	cliFails(t, k, "ValidationException", "put-record", "--stream-name", prov, "--data", "no partition key")
	cliFails(t, k, "InvalidArgumentException", "update-stream-record-distribution-strategy", "--stream-arn", k.streamARN(prov),
		"--record-distribution-strategy", "AUTO")
}

// testBoto3Gaps runs the boto3 scenario (its checks are in the script),
// SIGKILLs the bridge, restarts it on its data dir and has boto3 check that
// the policies, the account's commitment, the warm throughput and the AUTO
// strategy are still there.
func testBoto3Gaps(t *testing.T, k *kinesisBridge, dataDir string) {
	need(t, "boto3", checkBoto3, installBoto3)
	readScript(t, kinesisPythonDriver) // imported by the gaps driver
	readScript(t, kinesisModelFile)
	args := func(mode string) []string {
		return []string{mode, "--endpoint", k.endpoint, "--stream", "boto3-gaps", "--region", kinesisRegion, "--account", kinesisAccount}
	}
	runDriver(t, nil, kinesisGapsDriver, args("scenario")...)
	k.kill9()
	*k = *startKinesisBridgeIn(t, dataDir)
	runDriver(t, nil, kinesisGapsDriver, args("durable")...)

	// aws-sdk-go-v2 reads the policy boto3 put, from after the restart.
	got, err := k.client().GetResourcePolicy(kctx(t), &awskinesis.GetResourcePolicyInput{ResourceARN: aws.String(k.streamARN("boto3-gaps-od"))})
	if err != nil || !json.Valid([]byte(aws.ToString(got.Policy))) || !strings.Contains(aws.ToString(got.Policy), "kinesis:GetRecords") {
		t.Fatalf("GetResourcePolicy after the restart: %+v, %v", got, err)
	}
}
