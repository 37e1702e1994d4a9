package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/kafkaclient"
)

// A worker's MSK IAM settings (sasl.mechanism AWS_MSK_IAM with
// IAMLoginModule, or OAUTHBEARER with MSK IAM's login callback handler)
// sign with the default AWS credential chain or a named profile, and the
// bridge's MSK IAM mechanisms accept them; a wrong secret is refused.
func TestConnectClientsMSKIAM(t *testing.T) {
	dir := t.TempDir()
	serverCreds := filepath.Join(dir, "server-credentials")
	if err := os.WriteFile(serverCreds, []byte(sigv4CredentialsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	// The worker's own shared files: a profile with the right key, and the
	// default section with a wrong one.
	clientCreds := filepath.Join(dir, "client-credentials")
	if err := os.WriteFile(clientCreds, []byte("[default]\naws_access_key_id = AKIDSIGV4TEST\naws_secret_access_key = wrong\n\n[msk]\naws_access_key_id = AKIDSIGV4TEST\naws_secret_access_key = sigv4/secret+key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, "--kafka-listeners", "SASL_PLAINTEXT://127.0.0.1:0",
		"--sasl-enabled-mechanisms", "AWS_MSK_IAM,OAUTHBEARER", "--aws-credentials-file", serverCreds, "--region", "eu-west-1")
	bootstrap := srv.Addrs().KafkaListeners[0].Bound
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", clientCreds)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	iam := connect.Config{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "AWS_MSK_IAM",
		"sasl.client.callback.handler.class": kafkaclient.IAMClientCallback}
	oauth := connect.Config{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER",
		"sasl.login.callback.handler.class": kafkaclient.IAMOAuthBearerCallback}
	with := func(c connect.Config, jaas string) connect.Config {
		out := connect.Config{"sasl.jaas.config": jaas}
		for k, v := range c {
			out[k] = v
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		props connect.Config
		env   map[string]string
		ok    bool
	}{
		{"AWS_MSK_IAM, profile", with(iam, kafkaclient.IAMLoginModule+` required awsProfileName="msk";`), nil, true},
		{"AWS_MSK_IAM, environment", with(iam, kafkaclient.IAMLoginModule+" required;"), map[string]string{"AWS_ACCESS_KEY_ID": "ASIASIGV4TEMP", "AWS_SECRET_ACCESS_KEY": "temp-secret", "AWS_SESSION_TOKEN": "temp-token"}, true},
		{"AWS_MSK_IAM, wrong default key", with(iam, kafkaclient.IAMLoginModule+" required;"), nil, false},
		{"OAUTHBEARER, profile", with(oauth, kafkaclient.OAuthBearerLoginModule+` required awsProfileName="msk";`), nil, true},
		{"OAUTHBEARER, wrong default key", with(oauth, kafkaclient.OAuthBearerLoginModule+" required;"), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			sec, err := kafkaclient.Options(kafkaclient.Prefixed(tc.props, ""))
			if err != nil {
				t.Fatal(err)
			}
			cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(bootstrap), kgo.RequestRetries(0), kgo.AllowAutoTopicCreation()}, sec...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			if err = cl.Ping(ctx); err == nil {
				err = cl.ProduceSync(ctx, &kgo.Record{Topic: "iam-" + strings.NewReplacer(" ", "-", ",", "").Replace(tc.name), Value: []byte("v")}).FirstErr()
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
