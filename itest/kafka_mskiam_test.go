package itest

// Amazon MSK's IAM authentication against the real binary: AWS_MSK_IAM
// (franz-go's pkg/sasl/aws) and OAUTHBEARER with tokens made by
// aws-msk-iam-sasl-signer-go (franz-go, sarama, kafkajs), checked against
// the keys of --aws-credentials-file. A refused client must get
// SASL_AUTHENTICATION_FAILED (kafkajs, a closed connection: see
// mskClients) and write nothing.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/IBM/sarama"
	signer "github.com/aws/aws-msk-iam-sasl-signer-go/signer"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/twmb/franz-go/pkg/kerr"
)

// The keys the MSK IAM test's bridge accepts.
const (
	mskKey       = "AKIAITESTMSKIAM00001"
	mskSecret    = "itest/msk+secret/0123456789abcdefghijkl"
	mskTempKey   = "ASIAITESTMSKIAM00002"
	mskTempSec   = "itest-temp-secret"
	mskSessToken = "IQoJb3JpZ2luX2VjE//////////wEaCXVzLWVhc3QtMSJH+itest/token="
	mskRegion    = "eu-central-1"
)

const mskCredentialsFile = `[kafka-producers]
aws_access_key_id = ` + mskKey + `
aws_secret_access_key = ` + mskSecret + `

[kafka-temp]
aws_access_key_id = ` + mskTempKey + `
aws_secret_access_key = ` + mskTempSec + `
aws_session_token = ` + mskSessToken + `
`

// staticToken is a sarama AccessTokenProvider of one token.
type staticToken string

func (s staticToken) Token() (*sarama.AccessToken, error) {
	return &sarama.AccessToken{Token: string(s)}, nil
}

// mskIAMToken is aws-msk-iam-sasl-signer-go's token for region from static
// credentials: the signer calls no AWS endpoint for those.
func mskIAMToken(t *testing.T, key, secret, sessionToken, region string) string {
	t.Helper()
	tok, _, err := signer.GenerateAuthTokenFromCredentialsProvider(context.Background(), region,
		credentials.NewStaticCredentialsProvider(key, secret, sessionToken))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// mskClient is a client with the check that a refusal is Kafka's
// SASL_AUTHENTICATION_FAILED as that client reports it.
type mskClient struct {
	authClient
	refused func(err error) bool
}

var mskClients = map[string]mskClient{
	"franz-go": {authClient{name: "franz-go", run: kgoAuthRoundTrip},
		func(err error) bool { return errors.Is(err, kerr.SaslAuthenticationFailed) }},
	"sarama": {authClient{name: "sarama", run: saramaAuthRoundTrip},
		func(err error) bool { return errors.Is(err, sarama.ErrSASLAuthenticationFailed) }},
	// kafkajs's OAUTHBEARER has no answer parser: it takes the
	// invalid_token challenge (RFC 7628, sent as Kafka sends it) for
	// success and sends its next request, on which the bridge, like
	// Kafka, closes the connection. kafkajs reports that closed
	// connection, not SASL_AUTHENTICATION_FAILED.
	"kafkajs": {authClient{name: "kafkajs", check: checkKafkajs, install: installKafkajs, run: kafkajsAuthRoundTrip},
		func(err error) bool { return strings.Contains(err.Error(), "Closed connection") }},
}

// TestKafkaMSKIAMClients starts the bridge with AWS_MSK_IAM and
// OAUTHBEARER (and SCRAM beside them) on a SASL_PLAINTEXT listener and a
// credentials file, and has each MSK IAM client connect with the right
// key, a wrong secret, an unknown key, a session token, and a region other
// than --region.
func TestKafkaMSKIAMClients(t *testing.T) {
	needsBridge(t)
	creds := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(creds, []byte(mskCredentialsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startBridge(t, nil, append(loopbackArgs(t.TempDir()),
		"--kafka-listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
		"--sasl-enabled-mechanisms", "AWS_MSK_IAM,OAUTHBEARER,SCRAM-SHA-512",
		"--sasl-users-file", writeUsersFile(t),
		"--aws-credentials-file", creds, "--region", mskRegion)...)
	// franz-go's AWS_MSK_IAM takes the region from an MSK broker's host
	// name, or else from AWS_REGION: 127.0.0.1 names none.
	t.Setenv("AWS_REGION", mskRegion)

	iam := func(key, secret, token string, ok bool) authCase {
		return authCase{listener: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "AWS_MSK_IAM", user: key, password: secret, sessionToken: token, ok: ok}
	}
	bearer := func(token string, ok bool) authCase {
		return authCase{listener: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "OAUTHBEARER", token: token, ok: ok}
	}
	good := mskIAMToken(t, mskKey, mskSecret, "", mskRegion)
	bearerCases := []struct {
		name string
		c    authCase
	}{
		{"signer token", bearer(good, true)},
		{"signer token, session token", bearer(mskIAMToken(t, mskTempKey, mskTempSec, mskSessToken, mskRegion), true)},
		{"signer token, wrong secret", bearer(mskIAMToken(t, mskKey, "wrong", "", mskRegion), false)},
		{"signer token, unknown key", bearer(mskIAMToken(t, "AKIAITESTNOBODY00009", mskSecret, "", mskRegion), false)},
		{"signer token, missing session token", bearer(mskIAMToken(t, mskTempKey, mskTempSec, "", mskRegion), false)},
		{"signer token, other region", bearer(mskIAMToken(t, mskKey, mskSecret, "", "us-east-1"), false)},
	}
	type run struct {
		client string
		name   string
		c      authCase
		region string // AWS_REGION for franz-go's signer; "" keeps mskRegion
	}
	var runs []run
	for _, r := range []struct {
		name   string
		c      authCase
		region string
	}{
		{"right key", iam(mskKey, mskSecret, "", true), ""},
		{"session token", iam(mskTempKey, mskTempSec, mskSessToken, true), ""},
		{"wrong secret", iam(mskKey, "wrong", "", false), ""},
		{"unknown key", iam("AKIAITESTNOBODY00009", mskSecret, "", false), ""},
		{"missing session token", iam(mskTempKey, mskTempSec, "", false), ""},
		{"wrong session token", iam(mskTempKey, mskTempSec, "other", false), ""},
		{"other region", iam(mskKey, mskSecret, "", false), "us-east-1"},
	} {
		runs = append(runs, run{"franz-go", "AWS_MSK_IAM " + r.name, r.c, r.region})
	}
	for _, cl := range []string{"franz-go", "sarama", "kafkajs"} {
		for _, r := range bearerCases {
			runs = append(runs, run{cl, "OAUTHBEARER " + r.name, r.c, ""})
		}
	}
	// kafkajs's own "aws" mechanism sends the secret itself, under the
	// name AWS, which MSK does not serve: it is refused at SaslHandshake
	// (UNSUPPORTED_SASL_MECHANISM), however right the key.
	runs = append(runs, run{"kafkajs", "AWS (kafkajs) right key",
		authCase{listener: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "AWS", user: mskKey, password: mskSecret}, ""})

	want := map[string]int64{}
	for i, r := range runs {
		cl := mskClients[r.client]
		t.Run(r.client+"/"+r.name, func(t *testing.T) {
			if cl.check != nil {
				need(t, cl.name, cl.check, cl.install)
			}
			if r.region != "" {
				t.Setenv("AWS_REGION", r.region)
			}
			topic := fmt.Sprintf("mskiam-%s-%d", r.client, i)
			want[topic] = 0
			if r.c.ok {
				want[topic] = 1
			}
			err := cl.run(t, b.kafkaListeners[r.c.listener], topic, r.c)
			switch {
			case r.c.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !r.c.ok && err == nil:
				t.Fatal("the round trip worked; want it refused")
			case !r.c.ok && r.c.mechanism == "AWS":
				if !strings.Contains(err.Error(), "does not support the requested SASL mechanism") {
					t.Fatalf("got %v; want the mechanism refused as unsupported", err)
				}
			case !r.c.ok && !cl.refused(err):
				t.Fatalf("got %v; want SASL_AUTHENTICATION_FAILED", err)
			}
			if err != nil {
				t.Logf("refused as wanted: %s", firstLine(err.Error()))
			}
		})
	}
	checkRecords(t, b, want)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
