package itest

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// botoTLSDriver creates a queue, sends a message and receives it over
// HTTPS, trusting only the CA file it is given (verify=) and presenting
// the client certificate and key if given, and prints the queue URL and
// the body received as JSON.
const botoTLSDriver = `
import boto3, botocore.config, json, sys
endpoint, ca, queue = sys.argv[1:4]
cfg = botocore.config.Config(client_cert=tuple(sys.argv[4:6])) if len(sys.argv) > 4 else None
sqs = boto3.client("sqs", endpoint_url=endpoint, verify=ca, config=cfg)
url = sqs.create_queue(QueueName=queue)["QueueUrl"]
sqs.send_message(QueueUrl=url, MessageBody="hello over tls")
msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
print(json.dumps({"url": url, "bodies": [m["Body"] for m in msgs]}))
`

// TestAWSPortTLSClients runs `bridge certs`, serves the AWS port over
// HTTPS with what it wrote (--aws-tls) and has boto3 and the AWS CLI,
// given the development CA (verify=, --ca-bundle), create a queue and send
// and receive a message: the README's TLS examples, proven. A second
// bridge requires client certificates: boto3 gets in with client-alice's
// (Python's ssl reads the PKCS#8 ECDSA key) and is refused without one.
func TestAWSPortTLSClients(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command(bridgeBinary(t), "certs", "--dir", dir, "--client", "alice").CombinedOutput(); err != nil {
		t.Fatalf("bridge certs: %v\n%s", err, out)
	}
	ca := filepath.Join(dir, "ca.pem")
	tlsFlags := []string{"--aws-tls",
		"--tls-cert-file", filepath.Join(dir, "server.pem"),
		"--tls-key-file", filepath.Join(dir, "server-key.pem")}
	endpoint := "https://" + startBridge(t, nil, append(loopbackArgs(t.TempDir()), tlsFlags...)...).aws
	mtlsFlags := append(tlsFlags, "--tls-client-ca-file", ca, "--tls-client-auth", "required")
	mtlsEndpoint := "https://" + startBridge(t, nil, append(loopbackArgs(t.TempDir()), mtlsFlags...)...).aws
	// Loopback only, whatever proxy the environment names.
	env := []string{"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost"}
	boto := func(t *testing.T, endpoint, queue string, clientCert ...string) (string, []string) {
		out := mustAWSTool(t, env, nil, systemPython, append([]string{"-c", botoTLSDriver, endpoint, ca, queue}, clientCert...)...)
		var r struct {
			URL    string
			Bodies []string
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("boto3 driver printed %q: %v", out, err)
		}
		return r.URL, r.Bodies
	}

	for _, tc := range []struct {
		client      string
		endpoint    string
		need        func(t *testing.T)
		sendReceive func(t *testing.T, queue string) (url string, bodies []string)
	}{
		{
			client:      "boto3",
			endpoint:    endpoint,
			need:        func(t *testing.T) { need(t, "boto3", checkBoto3, installBoto3) },
			sendReceive: func(t *testing.T, queue string) (string, []string) { return boto(t, endpoint, queue) },
		},
		{
			client:   "boto3 with a client certificate",
			endpoint: mtlsEndpoint,
			need:     func(t *testing.T) { need(t, "boto3", checkBoto3, installBoto3) },
			sendReceive: func(t *testing.T, queue string) (string, []string) {
				return boto(t, mtlsEndpoint, queue, filepath.Join(dir, "client-alice.pem"), filepath.Join(dir, "client-alice-key.pem"))
			},
		},
		{
			client:   "awscli",
			endpoint: endpoint,
			need:     func(t *testing.T) { need(t, "AWS CLI", checkAWSCLI, installAWSCLI) },
			sendReceive: func(t *testing.T, queue string) (string, []string) {
				cli := func(args ...string) []byte {
					return mustAWSTool(t, env, nil, awsCLI, append([]string{"--endpoint-url", endpoint, "--ca-bundle", ca,
						"--no-cli-pager", "--output", "json", "sqs"}, args...)...)
				}
				var created struct{ QueueUrl string }
				if err := json.Unmarshal(cli("create-queue", "--queue-name", queue), &created); err != nil {
					t.Fatal(err)
				}
				cli("send-message", "--queue-url", created.QueueUrl, "--message-body", "hello over tls")
				var got struct{ Messages []struct{ Body string } }
				if err := json.Unmarshal(cli("receive-message", "--queue-url", created.QueueUrl, "--wait-time-seconds", "1"), &got); err != nil {
					t.Fatal(err)
				}
				var bodies []string
				for _, m := range got.Messages {
					bodies = append(bodies, m.Body)
				}
				return created.QueueUrl, bodies
			},
		},
	} {
		t.Run(tc.client, func(t *testing.T) {
			tc.need(t)
			queue := "tls-" + strings.ReplaceAll(tc.client, " ", "-")
			url, bodies := tc.sendReceive(t, queue)
			if want := tc.endpoint + "/" + sqsAccount + "/" + queue; url != want {
				t.Errorf("queue URL %q, want %q", url, want)
			}
			if len(bodies) != 1 || bodies[0] != "hello over tls" {
				t.Errorf("received %q, want the one message sent", bodies)
			}
		})
	}

	t.Run("boto3 without a client certificate", func(t *testing.T) {
		need(t, "boto3", checkBoto3, installBoto3)
		out, err := runAWSToolEnv(env, nil, systemPython, "-c", botoTLSDriver, mtlsEndpoint, ca, "tls-refused")
		if err == nil || !strings.Contains(err.Error(), "SSL") {
			t.Errorf("boto3 without a client certificate: %v (stdout %q), want an SSL error", err, out)
		}
	})
	// Without the CA the clients refuse the bridge's certificate.
	t.Run("awscli without the CA", func(t *testing.T) {
		need(t, "AWS CLI", checkAWSCLI, installAWSCLI)
		out, err := runAWSToolEnv(env, nil, awsCLI, "--endpoint-url", endpoint, "--no-cli-pager", "sqs", "list-queues")
		if err == nil || !strings.Contains(err.Error(), "CERTIFICATE_VERIFY_FAILED") {
			t.Errorf("list-queues without --ca-bundle: %v (stdout %q), want a certificate verification failure", err, out)
		}
	})
}
