package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/spf13/pflag"

	"github.com/streambridge/bridge/server"
)

// sigv4CredentialsFile is what the SigV4 tests start the bridge with: a
// long-term key and a temporary one with its session token.
const sigv4CredentialsFile = `# keys the bridge accepts
[ops]
aws_access_key_id = AKIDSIGV4TEST
aws_secret_access_key = sigv4/secret+key

[temp]
aws_access_key_id = ASIASIGV4TEMP
aws_secret_access_key = temp-secret
aws_session_token = temp-token
`

// startSigV4Bridge starts `bridge serve` in-process, in memory, on
// loopback ports, with --aws-credentials-file, and returns the AWS
// endpoint.
func startSigV4Bridge(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(path, []byte(sigv4CredentialsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	var so serveOptions
	fs := pflag.NewFlagSet("sigv4", pflag.ContinueOnError)
	so.addFlags(fs)
	if err := fs.Parse([]string{"--in-memory", "--kafka-addr", "127.0.0.1:0", "--aws-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--aws-credentials-file", path}); err != nil {
		t.Fatal(err)
	}
	if err := so.check(); err != nil {
		t.Fatal(err)
	}
	cfg, err := so.serverConfig(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return "http://" + srv.Addrs().AWS
}

// TestSigV4Clients drives the bridge, started with a credentials file,
// with aws-sdk-go-v2's Kinesis and SQS clients: the right secret works
// (with its session token where the key has one); a wrong secret, an
// unknown key, a missing or unexpected token are refused with the error
// code each SDK reports for real AWS, and a refused request creates
// nothing.
func TestSigV4Clients(t *testing.T) {
	endpoint := startSigV4Bridge(t)
	good := credentials.NewStaticCredentialsProvider("AKIDSIGV4TEST", "sigv4/secret+key", "")
	kin := func(c aws.CredentialsProvider) *awskinesis.Client {
		return awskinesis.New(awskinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: c, RetryMaxAttempts: 1})
	}
	sqs := func(c aws.CredentialsProvider) *awssqs.Client {
		return awssqs.New(awssqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: c, RetryMaxAttempts: 1})
	}
	tests := []struct {
		name       string
		creds      aws.CredentialsProvider
		region     string // "" means us-east-1
		wantKin    string // Kinesis ErrorCode; "" means success
		wantSQS    string // SQS ErrorCode
		wantStatus [2]int // HTTP status of the Kinesis and SQS refusals
	}{
		{name: "right secret", creds: good},
		{name: "session token", creds: credentials.NewStaticCredentialsProvider("ASIASIGV4TEMP", "temp-secret", "temp-token")},
		{name: "wrong secret", creds: credentials.NewStaticCredentialsProvider("AKIDSIGV4TEST", "wrong", ""),
			wantKin: "InvalidSignatureException", wantSQS: "SignatureDoesNotMatch", wantStatus: [2]int{400, 403}},
		{name: "unknown key", creds: credentials.NewStaticCredentialsProvider("AKIDNOBODY", "sigv4/secret+key", ""),
			wantKin: "UnrecognizedClientException", wantSQS: "InvalidClientTokenId", wantStatus: [2]int{400, 403}},
		{name: "missing session token", creds: credentials.NewStaticCredentialsProvider("ASIASIGV4TEMP", "temp-secret", ""),
			wantKin: "UnrecognizedClientException", wantSQS: "InvalidClientTokenId", wantStatus: [2]int{400, 403}},
		{name: "wrong session token", creds: credentials.NewStaticCredentialsProvider("ASIASIGV4TEMP", "temp-secret", "other"),
			wantKin: "UnrecognizedClientException", wantSQS: "InvalidClientTokenId", wantStatus: [2]int{400, 403}},
		{name: "token for a key without one", creds: credentials.NewStaticCredentialsProvider("AKIDSIGV4TEST", "sigv4/secret+key", "temp-token"),
			wantKin: "UnrecognizedClientException", wantSQS: "InvalidClientTokenId", wantStatus: [2]int{400, 403}},
		{name: "anonymous", creds: aws.AnonymousCredentials{},
			wantKin: "MissingAuthenticationTokenException", wantSQS: "MissingAuthenticationToken", wantStatus: [2]int{400, 403}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			name := fmt.Sprintf("sigv4-%d", i) // a stream and a queue of its own per case
			_, kerr := kin(tt.creds).CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)})
			_, serr := sqs(tt.creds).CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name)})
			for i, c := range []struct {
				api  string
				err  error
				want string
			}{{"Kinesis", kerr, tt.wantKin}, {"SQS", serr, tt.wantSQS}} {
				if c.want == "" {
					if c.err != nil {
						t.Errorf("%s: %v", c.api, c.err)
					}
					continue
				}
				var ae smithy.APIError
				var re *smithyhttp.ResponseError
				if !errors.As(c.err, &ae) || !errors.As(c.err, &re) {
					t.Errorf("%s: %v; want API error %s", c.api, c.err, c.want)
					continue
				}
				if ae.ErrorCode() != c.want || re.HTTPStatusCode() != tt.wantStatus[i] {
					t.Errorf("%s: %s (HTTP %d): %s; want %s (HTTP %d)", c.api, ae.ErrorCode(), re.HTTPStatusCode(), ae.ErrorMessage(), c.want, tt.wantStatus[i])
				}
			}
			if tt.wantKin == "" {
				// A large body is hashed and signed like a small one.
				recs := make([]kintypes.PutRecordsRequestEntry, 8)
				for i := range recs {
					recs[i] = kintypes.PutRecordsRequestEntry{Data: bytes.Repeat([]byte{byte(i)}, 256<<10), PartitionKey: aws.String(fmt.Sprint(i))}
				}
				out, err := kin(tt.creds).PutRecords(ctx, &awskinesis.PutRecordsInput{StreamName: aws.String(name), Records: recs})
				if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
					t.Errorf("PutRecords of 2 MiB: %v", err)
				}
				return
			}
			// Nothing of the refused requests was created.
			streams, err := kin(good).ListStreams(ctx, &awskinesis.ListStreamsInput{})
			if err != nil {
				t.Fatal(err)
			}
			queues, err := sqs(good).ListQueues(ctx, &awssqs.ListQueuesInput{QueueNamePrefix: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range streams.StreamNames {
				if s == name {
					t.Errorf("refused CreateStream created %s", name)
				}
			}
			if len(queues.QueueUrls) != 0 {
				t.Errorf("refused CreateQueue created %v", queues.QueueUrls)
			}
		})
	}
}

// A credentials file that does not parse stops the start, naming the line.
func TestSigV4BadCredentialsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(path, []byte("[ops]\naws_access_key_id = A\nnot a setting\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var so serveOptions
	fs := pflag.NewFlagSet("sigv4", pflag.ContinueOnError)
	so.addFlags(fs)
	if err := fs.Parse([]string{"--in-memory", "--kafka-addr", "127.0.0.1:0", "--aws-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--aws-credentials-file", path}); err != nil {
		t.Fatal(err)
	}
	cfg, err := so.serverConfig(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(t.Context(), cfg)
	if err == nil {
		_ = srv.Shutdown(context.Background())
		t.Fatal("the bridge started with a bad credentials file")
	}
	if want := path + ":3: want key = value"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}
}
