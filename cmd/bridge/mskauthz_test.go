package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-msk-iam-sasl-signer-go/signer"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	kaws "github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// mskPolicies attaches kafka-cluster policies to the keys of
// sigv4CredentialsFile: AKIDSIGV4TEST may connect, produce to and consume
// topic mine in group g (the cluster id is not known before the start,
// hence the * in its place); ASIASIGV4TEMP may do anything but connect.
const mskPolicies = `AKIDSIGV4TEST:
  - Version: "2012-10-17"
    Statement:
      - Effect: Allow
        Action: ["kafka-cluster:Connect", "kafka-cluster:WriteDataIdempotently"]
        Resource: arn:aws:kafka:eu-west-1:000000000000:cluster/bridge/*
      - Effect: Allow
        Action: ["kafka-cluster:DescribeTopic", "kafka-cluster:CreateTopic", "kafka-cluster:WriteData", "kafka-cluster:ReadData"]
        Resource: arn:aws:kafka:eu-west-1:000000000000:topic/bridge/*/mine
      - Effect: Allow
        Action: ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"]
        Resource: arn:aws:kafka:eu-west-1:000000000000:group/bridge/*/g
ASIASIGV4TEMP:
  - Version: "2012-10-17"
    Statement:
      - Effect: Allow
        NotAction: kafka-cluster:Connect
        Resource: "*"
`

// TestMSKIAMPolicies starts a bridge with AWS_MSK_IAM, OAUTHBEARER and PLAIN on a
// SASL_PLAINTEXT listener, --authorizer acl with no ACLs and
// --aws-policies-file, and drives franz-go: the MSK IAM key produces to
// and consumes topic mine in group g as its policy allows (with
// AWS_MSK_IAM, and produces with OAUTHBEARER), is refused
// topic theirs with TOPIC_AUTHORIZATION_FAILED, and Kafka ACLs (none,
// which deny all) do not apply to it; a key without kafka-cluster:Connect
// cannot log in; a PLAIN user named like the key is decided by ACLs, not
// by the key's policy. The audit log has the denials.
func TestMSKIAMPolicies(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"credentials":   sigv4CredentialsFile,
		"policies.yaml": mskPolicies,
		"users.yaml":    "users:\n  - name: AKIDSIGV4TEST\n    password: plain-password\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	auditPath := filepath.Join(dir, "audit.log")
	srv := startServe(t, "--kafka-listeners", "SASL_PLAINTEXT://127.0.0.1:0",
		"--sasl-enabled-mechanisms", "AWS_MSK_IAM,OAUTHBEARER,PLAIN", "--sasl-users-file", filepath.Join(dir, "users.yaml"),
		"--aws-credentials-file", filepath.Join(dir, "credentials"), "--aws-policies-file", filepath.Join(dir, "policies.yaml"),
		"--region", "eu-west-1", "--authorizer", "acl", "--audit-log", auditPath)
	seed := srv.Addrs().KafkaListeners[0].Bound
	t.Setenv("AWS_REGION", "eu-west-1") // franz-go's signing region, with no MSK host name
	client := func(m sasl.Mechanism, opts ...kgo.Opt) *kgo.Client {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seed), kgo.RequestRetries(0), kgo.AllowAutoTopicCreation(), kgo.SASL(m)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	iam := func(key, secret, token string) sasl.Mechanism {
		return kaws.Auth{AccessKey: key, SecretKey: secret, SessionToken: token}.AsManagedStreamingIAMMechanism()
	}
	bearer := func(key, secret, token string) sasl.Mechanism {
		return oauth.Oauth(func(ctx context.Context) (oauth.Auth, error) {
			tok, _, err := signer.GenerateAuthTokenFromCredentialsProvider(ctx, "eu-west-1", credentials.NewStaticCredentialsProvider(key, secret, token))
			return oauth.Auth{Token: tok}, err
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	producer := client(iam("AKIDSIGV4TEST", "sigv4/secret+key", ""))
	if err := producer.ProduceSync(ctx, &kgo.Record{Topic: "mine", Value: []byte("hello")}).FirstErr(); err != nil {
		t.Fatalf("produce to mine: %v", err)
	}
	if err := producer.ProduceSync(ctx, &kgo.Record{Topic: "theirs", Value: []byte("no")}).FirstErr(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("produce to theirs: %v; want TOPIC_AUTHORIZATION_FAILED", err)
	}

	// The authorized-operations bits of mine are the policy's: READ,
	// WRITE, CREATE and DESCRIBE (no implied or other operations).
	mreq := kmsg.NewPtrMetadataRequest()
	mreq.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("mine")}}
	mreq.IncludeTopicAuthorizedOperations = true
	mresp, err := mreq.RequestWith(ctx, producer)
	if err != nil {
		t.Fatal(err)
	}
	wantOps := int32(1<<kmsg.ACLOperationRead | 1<<kmsg.ACLOperationWrite | 1<<kmsg.ACLOperationCreate | 1<<kmsg.ACLOperationDescribe)
	if len(mresp.Topics) != 1 || mresp.Topics[0].AuthorizedOperations != wantOps {
		t.Fatalf("Metadata for mine: %+v; want authorized operations %b", mresp.Topics, wantOps)
	}

	consumer := client(iam("AKIDSIGV4TEST", "sigv4/secret+key", ""),
		kgo.ConsumerGroup("g"), kgo.ConsumeTopics("mine"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) == 0 {
		fs := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consume mine in group g: nothing before the deadline (%v)", fs.Errors())
		}
		for _, e := range fs.Errors() {
			t.Fatalf("consume mine in group g: %v", e.Err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit in group g: %v", err)
	}
	if got[0] != "hello" {
		t.Fatalf("consumed %q; want hello", got)
	}

	for _, tc := range []struct {
		name string
		m    sasl.Mechanism
		want error
	}{
		// OAUTHBEARER principals have the same policies.
		{"OAUTHBEARER", bearer("AKIDSIGV4TEST", "sigv4/secret+key", ""), nil},
		{"OAUTHBEARER no Connect", bearer("ASIASIGV4TEMP", "temp-secret", "temp-token"), kerr.SaslAuthenticationFailed},
		// MSK refuses the login of a key without kafka-cluster:Connect.
		{"no Connect", iam("ASIASIGV4TEMP", "temp-secret", "temp-token"), kerr.SaslAuthenticationFailed},
		// A PLAIN user of the key's name gets ACLs, and there are none.
		{"PLAIN user named like the key", plain.Auth{User: "AKIDSIGV4TEST", Pass: "plain-password"}.AsMechanism(), kerr.TopicAuthorizationFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := client(tc.m)
			err := cl.Ping(ctx)
			if err == nil {
				err = cl.ProduceSync(ctx, &kgo.Record{Topic: "mine", Value: []byte("no")}).FirstErr()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v; want %v", err, tc.want)
			}
			if tc.want == nil {
				err := cl.ProduceSync(ctx, &kgo.Record{Topic: "theirs", Value: []byte("no")}).FirstErr()
				if !errors.Is(err, kerr.TopicAuthorizationFailed) {
					t.Fatalf("produce to theirs: %v; want TOPIC_AUTHORIZATION_FAILED", err)
				}
			}
		})
	}

	b, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]string{
		{`"principal":"User:AKIDSIGV4TEST"`, `"resource":"topic:theirs"`, `"outcome":"denied"`},
		{`"eventName":"SaslAuthenticate"`, `"outcome":"failed"`, `ASIASIGV4TEMP`, `kafka-cluster:Connect`},
	} {
		found := false
		for line := range strings.SplitSeq(string(b), "\n") {
			all := true
			for _, w := range want {
				all = all && strings.Contains(line, w)
			}
			found = found || all
		}
		if !found {
			t.Errorf("audit log has no line with all of %q:\n%s", want, b)
		}
	}
}
