package itest

// SigV4 on the AWS port, seen from third-party clients: the real bridge
// binary started with --aws-credentials-file, driven by boto3 and the AWS
// CLI with the right and the wrong keys.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
)

const (
	sigv4Script     = "python/sigv4_boto3.py"
	sigv4NodeScript = "node/sigv4.js"
)

// The keys the bridge accepts in these tests.
const sigv4Credentials = `# itest keys
[itest]
aws_access_key_id = AKIDSIGV4ITEST
aws_secret_access_key = itest/sigv4+secret

[itest-temp]
aws_access_key_id = ASIASIGV4ITEST
aws_secret_access_key = itest-temp-secret
aws_session_token = itest-session-token
`

// TestSigV4ThirdPartyClients: boto3 (SQS over Query in 1.26, and Kinesis),
// the AWS CLI (2.9) and the AWS SDK for JavaScript v3 (SQS over JSON 1.0,
// Kinesis over HTTP/2) against a bridge that checks signatures. The right
// key works; a wrong secret, an unknown key and a missing session token
// are refused with the code each client reports for real AWS, and the
// refused calls create nothing.
func TestSigV4ThirdPartyClients(t *testing.T) {
	need(t, "boto3", checkBoto3, installBoto3)
	need(t, "awscli", checkAWSCLI, installAWSCLI)
	need(t, "node kinesis clients", checkNodeKinesis, installNodeKinesis)
	need(t, "node sqs clients", checkNodeSQS, installNodeSQS)
	readScript(t, sigv4Script)
	readScript(t, sigv4NodeScript)
	path := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(path, []byte(sigv4Credentials), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startBridge(t, nil, append(loopbackArgs(t.TempDir()), "--aws-credentials-file", path)...)
	endpoint := "http://" + b.aws

	right := []string{"AWS_ACCESS_KEY_ID=AKIDSIGV4ITEST", "AWS_SECRET_ACCESS_KEY=itest/sigv4+secret"}
	wrong := []string{"AWS_ACCESS_KEY_ID=AKIDSIGV4ITEST", "AWS_SECRET_ACCESS_KEY=not-the-secret"}
	unknown := []string{"AWS_ACCESS_KEY_ID=AKIDNOBODY", "AWS_SECRET_ACCESS_KEY=itest/sigv4+secret"}
	temp := []string{"AWS_ACCESS_KEY_ID=ASIASIGV4ITEST", "AWS_SECRET_ACCESS_KEY=itest-temp-secret", "AWS_SESSION_TOKEN=itest-session-token"}
	tempNoToken := []string{"AWS_ACCESS_KEY_ID=ASIASIGV4ITEST", "AWS_SECRET_ACCESS_KEY=itest-temp-secret"}

	tests := []struct {
		client     string // boto3, cli or node
		service    string // sqs or kinesis
		keys       string
		env        []string
		wantCode   string // "" means success
		wantStatus int    // checked for boto3 and node, which report it
	}{
		{"boto3", "sqs", "right", right, "", 0},
		{"boto3", "sqs", "wrong secret", wrong, "SignatureDoesNotMatch", 403},
		{"boto3", "sqs", "unknown key", unknown, "InvalidClientTokenId", 403},
		{"boto3", "sqs", "session token", temp, "", 0},
		{"boto3", "sqs", "missing session token", tempNoToken, "InvalidClientTokenId", 403},
		{"boto3", "kinesis", "right", right, "", 0},
		{"boto3", "kinesis", "wrong secret", wrong, "InvalidSignatureException", 400},
		{"boto3", "kinesis", "unknown key", unknown, "UnrecognizedClientException", 400},
		{"cli", "sqs", "right", right, "", 0},
		{"cli", "sqs", "wrong secret", wrong, "SignatureDoesNotMatch", 0},
		{"cli", "kinesis", "right", right, "", 0},
		{"cli", "kinesis", "wrong secret", wrong, "InvalidSignatureException", 0},
		{"cli", "kinesis", "missing session token", tempNoToken, "UnrecognizedClientException", 0},
		{"node", "sqs", "right", right, "", 0},
		{"node", "sqs", "wrong secret", wrong, "SignatureDoesNotMatch", 403},
		{"node", "kinesis", "session token", temp, "", 0},
		{"node", "kinesis", "wrong secret", wrong, "InvalidSignatureException", 400},
		{"node", "kinesis", "unknown key", unknown, "UnrecognizedClientException", 400},
	}
	for i, tt := range tests {
		t.Run(tt.client+" "+tt.service+" "+tt.keys, func(t *testing.T) {
			name := fmt.Sprintf("sigv4-%s-%s-%d", tt.client, tt.service, i)
			env := append([]string{"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1"}, tt.env...)
			var code string
			if tt.client != "cli" {
				interp, script := systemPython, sigv4Script
				if tt.client == "node" {
					interp, script = "node", sigv4NodeScript
				}
				out, err := runAWSToolEnv(env, nil, interp, script, tt.service, "--endpoint", endpoint, "--name", name)
				if err != nil {
					t.Fatal(err)
				}
				var res struct {
					OK     bool
					Error  string
					Status int
				}
				if err := json.Unmarshal(out, &res); err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				if tt.wantCode != "" && res.Status != tt.wantStatus {
					t.Errorf("HTTP %d, want %d", res.Status, tt.wantStatus)
				}
				code = res.Error
			} else {
				args := []string{"--endpoint-url", endpoint, "--no-cli-pager", "--output", "json", tt.service}
				if tt.service == "sqs" {
					args = append(args, "create-queue", "--queue-name", name)
				} else {
					args = append(args, "create-stream", "--stream-name", name, "--shard-count", "1")
				}
				_, err := runAWSToolEnv(env, nil, awsCLI, args...)
				if err != nil {
					code = "(no code in the CLI's error)"
					if _, rest, ok := strings.Cut(err.Error(), "An error occurred ("); ok {
						code, _, _ = strings.Cut(rest, ")")
					} else if tt.wantCode == "" {
						t.Fatal(err)
					}
				}
			}
			if code != tt.wantCode {
				t.Fatalf("%s reported %q, want %q", tt.client, code, tt.wantCode)
			}
			created := sigv4Created(t, endpoint, tt.service, name)
			if created != (tt.wantCode == "") {
				t.Errorf("%s %s created: %v; want %v", tt.service, name, created, tt.wantCode == "")
			}
		})
	}
}

// sigv4Created says whether queue or stream name exists, asking with the
// right key through aws-sdk-go-v2.
func sigv4Created(t *testing.T, endpoint, service, name string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kinesisTimeout)
	defer cancel()
	creds := credentials.NewStaticCredentialsProvider("AKIDSIGV4ITEST", "itest/sigv4+secret", "")
	if service == "sqs" {
		cl := awssqs.New(awssqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: creds})
		out, err := cl.ListQueues(ctx, &awssqs.ListQueuesInput{QueueNamePrefix: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.QueueUrls) > 0
	}
	cl := awskinesis.New(awskinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: creds})
	out, err := cl.ListStreams(ctx, &awskinesis.ListStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out.StreamNames {
		if s == name {
			return true
		}
	}
	return false
}
