package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	kaws "github.com/twmb/franz-go/pkg/sasl/aws"

	"github.com/streambridge/bridge/security/sasl"
)

// The MSK IAM mechanisms need the keys of --aws-credentials-file, checked
// before anything starts; the default mechanisms do not.
func TestMSKIAMFlagChecks(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the error; "" for none
	}{
		{args: nil},
		{args: []string{"--sasl-enabled-mechanisms", "AWS_MSK_IAM"}, want: "--sasl-enabled-mechanisms has AWS_MSK_IAM, which checks AWS signatures: set --aws-credentials-file"},
		{args: []string{"--sasl-enabled-mechanisms", "SCRAM-SHA-512,OAUTHBEARER"}, want: "--sasl-enabled-mechanisms has OAUTHBEARER"},
		{args: []string{"--sasl-enabled-mechanisms", "AWS_MSK_IAM,OAUTHBEARER", "--aws-credentials-file", "creds"}},
		{args: []string{"--sasl-enabled-mechanisms", "aws_msk_iam", "--aws-credentials-file", "creds"}, want: `SASL mechanism "aws_msk_iam" is not supported`},
		{args: []string{"--msk-cluster-name", "orders"}},
		{args: []string{"--msk-cluster-name", "a/b"}, want: `--msk-cluster-name "a/b": want a name without /`},
		{args: []string{"--msk-cluster-name", ""}, want: `--msk-cluster-name "": want a name`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := resolve(t, tc.args, nil, "")
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v; want one with %q", err, tc.want)
			}
		})
	}
	o := saslOptions{mechanisms: strings.Join(sasl.Default, ",")}
	if err := o.check(); err != nil || o.needsAWSCredentials() != "" {
		t.Fatalf("the default mechanisms %v need AWS credentials (%v)", o.enabled, err)
	}
}

// TestMSKIAMSharesAWSKeys starts a bridge whose SASL_PLAINTEXT listener
// takes AWS_MSK_IAM and checks that the keys of --aws-credentials-file
// open both ports: franz-go's AWS_MSK_IAM client produces with the key
// the Kinesis client signs with, and is refused with
// SASL_AUTHENTICATION_FAILED for a wrong secret or a region other than
// --region.
func TestMSKIAMSharesAWSKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(path, []byte(sigv4CredentialsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, "--kafka-listeners", "SASL_PLAINTEXT://127.0.0.1:0",
		"--sasl-enabled-mechanisms", "AWS_MSK_IAM,OAUTHBEARER", "--aws-credentials-file", path, "--region", "eu-west-1")
	addrs := srv.Addrs()
	kin := awskinesis.New(awskinesis.Options{Region: "eu-west-1", BaseEndpoint: aws.String("http://" + addrs.AWS), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIGV4TEST", "sigv4/secret+key", "")})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := kin.ListStreams(ctx, &awskinesis.ListStreamsInput{}); err != nil {
		t.Fatalf("Kinesis with the key: %v", err)
	}
	// franz-go takes the region from an MSK host name, or else from
	// AWS_REGION: 127.0.0.1 names none.
	for _, tc := range []struct {
		name, key, secret, token, region string
		ok                               bool
	}{
		{"right key", "AKIDSIGV4TEST", "sigv4/secret+key", "", "eu-west-1", true},
		{"session token", "ASIASIGV4TEMP", "temp-secret", "temp-token", "eu-west-1", true},
		{"wrong secret", "AKIDSIGV4TEST", "wrong", "", "eu-west-1", false},
		{"other region", "AKIDSIGV4TEST", "sigv4/secret+key", "", "us-east-1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", tc.region)
			cl, err := kgo.NewClient(kgo.SeedBrokers(addrs.KafkaListeners[0].Bound), kgo.RequestRetries(0), kgo.AllowAutoTopicCreation(),
				kgo.SASL(kaws.Auth{AccessKey: tc.key, SecretKey: tc.secret, SessionToken: tc.token}.AsManagedStreamingIAMMechanism()))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			// Ping reports the refusal; a produce would retry it.
			if err = cl.Ping(ctx); err == nil {
				err = cl.ProduceSync(ctx, &kgo.Record{Topic: "mskiam-" + strings.ReplaceAll(tc.name, " ", "-"), Value: []byte("v")}).FirstErr()
			}
			switch {
			case tc.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tc.ok && !errors.Is(err, kerr.SaslAuthenticationFailed):
				t.Fatalf("got %v; want SASL_AUTHENTICATION_FAILED", err)
			}
		})
	}
}
