package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/spf13/cobra"

	"github.com/streambridge/bridge/security/certs"
	"github.com/streambridge/bridge/server"
)

// devCerts runs `bridge certs` into a new directory and returns it.
func devCerts(t *testing.T, clients ...string) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"certs", "--dir", dir}
	for _, c := range clients {
		args = append(args, "--client", c)
	}
	var out, errOut strings.Builder
	if code := run(t.Context(), args, &out, &errOut, noEnv); code != 0 {
		t.Fatalf("bridge certs: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), certs.CAFile) {
		t.Errorf("bridge certs printed %q, not naming what it wrote", out.String())
	}
	return dir
}

func caPool(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, certs.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatal("no CA certificate")
	}
	return pool
}

func TestCertsCommand(t *testing.T) {
	dir := devCerts(t, "alice")
	roots := caPool(t, dir)
	server, err := tls.LoadX509KeyPair(filepath.Join(dir, certs.ServerFile), filepath.Join(dir, certs.ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1"}); err != nil {
		t.Errorf("server certificate: %v", err)
	}
	cf, kf := certs.ClientFiles("alice")
	client, err := tls.LoadX509KeyPair(filepath.Join(dir, cf), filepath.Join(dir, kf))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	var out, errOut strings.Builder
	if code := run(t.Context(), []string{"certs", "--dir", dir, "--days", "0"}, &out, &errOut, noEnv); code != 1 {
		t.Errorf("--days 0: exit %d", code)
	}
}

// The TLS flags are checked together, with messages naming the flags.
func TestTLSFlagChecks(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string // in the error; none: no error
	}{
		{args: nil},
		{args: []string{"--tls-cert-file", "c", "--tls-key-file", "k"}},
		{args: []string{"--tls-cert-file", "c", "--tls-key-file", "k", "--aws-tls", "--admin-tls", "--tls-client-ca-file", "ca", "--tls-client-auth", "required"}},
		{args: []string{"--aws-tls"}, want: []string{"--aws-tls needs --tls-cert-file and --tls-key-file"}},
		{args: []string{"--admin-tls", "--tls-cert-file", "c"}, want: []string{"--admin-tls needs", "--tls-cert-file needs --tls-key-file"}},
		{args: []string{"--tls-key-file", "k"}, want: []string{"--tls-key-file needs --tls-cert-file"}},
		{args: []string{"--tls-cert-file", "c", "--tls-key-file", "k", "--tls-client-auth", "requested"}, want: []string{"--tls-client-auth requested needs --tls-client-ca-file"}},
		{args: []string{"--tls-cert-file", "c", "--tls-key-file", "k", "--tls-client-ca-file", "ca"}, want: []string{"--tls-client-auth is none"}},
		{args: []string{"--tls-client-ca-file", "ca", "--tls-client-auth", "required"}, want: []string{"--tls-client-auth required needs TLS"}},
		{args: []string{"--tls-client-auth", "always"}, want: []string{"want one of none|requested|required"}},
		{args: []string{"--ssl-principal-mapping-rules", "RULE:^CN=(.*)$/$1/L, DEFAULT"}},
		{args: []string{"--ssl-principal-mapping-rules", "DEFAULT/L"}, want: []string{"--ssl-principal-mapping-rules: invalid rule"}},
		{args: []string{"--ssl-principal-mapping-rules", ""}, want: []string{"has no rules"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := resolve(t, tc.args, nil, "")
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// startServe resolves `bridge serve args...` as the command line does and
// starts the server the options describe, on loopback ports.
func startServe(t *testing.T, args ...string) *server.Server {
	t.Helper()
	var srv *server.Server
	root := newRootCmd(noEnv, func(_ *cobra.Command, o *serveOptions, _ layered) error {
		cfg, err := o.serverConfig(newLogger(t.Output(), "text", "info"))
		if err != nil {
			return err
		}
		srv, err = server.Start(t.Context(), cfg)
		return err
	})
	root.SetArgs(append([]string{"serve", "--in-memory",
		"--kafka-addr", "127.0.0.1:0", "--aws-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, args...))
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv
}

// protoRecorder remembers the protocols of the responses a transport got.
type protoRecorder struct {
	rt     http.RoundTripper
	mu     sync.Mutex
	protos []string
}

func (r *protoRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		// The SDK's request body is a seekable reader that the SDK may
		// close early; hiding its methods keeps the transport from racing
		// it (see gateway/kinesis's readOnlyBodies).
		req = req.Clone(req.Context())
		req.Body = struct{ io.ReadCloser }{req.Body}
	}
	resp, err := r.rt.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.protos = append(r.protos, resp.Proto)
		r.mu.Unlock()
	}
	return resp, err
}

// The AWS port with --aws-tls and mutual TLS required, to aws-sdk-go-v2
// Kinesis clients: one with a certificate of the bridge's CA gets in over
// HTTP/2 or HTTP/1.1; one without a certificate, or with one from another
// CA, is refused in the handshake.
func TestAWSPortMutualTLS(t *testing.T) {
	dir := devCerts(t, "alice")
	other := devCerts(t, "mallory")
	srv := startServe(t, "--aws-tls",
		"--tls-cert-file", filepath.Join(dir, certs.ServerFile),
		"--tls-key-file", filepath.Join(dir, certs.ServerKeyFile),
		"--tls-client-ca-file", filepath.Join(dir, certs.CAFile),
		"--tls-client-auth", "required")
	roots := caPool(t, dir)
	clientCert := func(dir, name string) []tls.Certificate {
		cf, kf := certs.ClientFiles(name)
		c, err := tls.LoadX509KeyPair(filepath.Join(dir, cf), filepath.Join(dir, kf))
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{c}
	}

	for i, tc := range []struct {
		name   string
		certs  []tls.Certificate
		http2  bool
		wantOK bool
	}{
		{"alice over HTTP/2", clientCert(dir, "alice"), true, true},
		{"alice over HTTP/1.1", clientCert(dir, "alice"), false, true},
		{"no client certificate", nil, true, false},
		{"certificate of another CA", clientCert(other, "mallory"), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: tc.certs}}
			var p http.Protocols
			p.SetHTTP1(!tc.http2)
			p.SetHTTP2(tc.http2)
			tr.Protocols = &p
			defer tr.CloseIdleConnections()
			rec := &protoRecorder{rt: tr}
			kc := awskinesis.New(awskinesis.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String("https://" + srv.Addrs().AWS),
				Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
				Retryer:      aws.NopRetryer{},
				HTTPClient:   &http.Client{Transport: rec},
			})
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			stream := "tls-" + string(rune('a'+i))
			_, err := kc.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)})
			if !tc.wantOK {
				if err == nil {
					t.Fatal("CreateStream succeeded without an acceptable client certificate")
				}
				// The SDK's error may only say the connection failed
				// (HTTP/2 over TLS 1.3 learns of the refusal after its
				// handshake); a bare TLS connection shows the alert.
				c, err := tls.Dial("tcp", srv.Addrs().AWS, tr.TLSClientConfig)
				if err == nil {
					_, err = c.Read(make([]byte, 1))
					c.Close()
				}
				if err == nil || !strings.Contains(err.Error(), "certificate") {
					t.Errorf("a TLS connection with the same certificates: %v, want a certificate alert", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := kc.ListStreams(ctx, &awskinesis.ListStreamsInput{})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, s := range out.StreamNames {
				found = found || s == stream
			}
			if !found {
				t.Errorf("ListStreams = %v, lacking %s", out.StreamNames, stream)
			}
			if tc.http2 {
				subscribeOverTLS(ctx, t, kc, stream)
			}
			want := "HTTP/1.1"
			if tc.http2 {
				want = "HTTP/2.0"
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			for _, p := range rec.protos {
				if p != want {
					t.Errorf("responses over %v, want %s", rec.protos, want)
					break
				}
			}
		})
	}
}

// Files that do not load fail the start with the file's name.
func TestServeTLSBadFiles(t *testing.T) {
	dir := devCerts(t)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	root := newRootCmd(noEnv, func(_ *cobra.Command, o *serveOptions, _ layered) error {
		_, err := o.serverConfig(newLogger(io.Discard, "text", "info"))
		return err
	})
	root.SetArgs([]string{"serve", "--aws-tls", "--tls-cert-file", missing, "--tls-key-file", filepath.Join(dir, certs.ServerKeyFile)})
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("error %v, want one naming %s", err, missing)
	}
}

// subscribeOverTLS puts a record and reads it back with SubscribeToShard,
// the operation that needs HTTP/2: its event stream over TLS is what the
// AWS port's ALPN is for.
func subscribeOverTLS(ctx context.Context, t *testing.T, kc *awskinesis.Client, stream string) {
	t.Helper()
	desc, err := kc.DescribeStreamSummary(ctx, &awskinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	put, err := kc.PutRecord(ctx, &awskinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("k"), Data: []byte("over tls")})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := kc.RegisterStreamConsumer(ctx, &awskinesis.RegisterStreamConsumerInput{
		StreamARN: desc.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("tls"),
	})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := kc.SubscribeToShard(ctx, &awskinesis.SubscribeToShardInput{
		ConsumerARN:      reg.Consumer.ConsumerARN,
		ShardId:          put.ShardId,
		StartingPosition: &kinesistypes.StartingPosition{Type: kinesistypes.ShardIteratorTypeTrimHorizon},
	})
	if err != nil {
		t.Fatalf("SubscribeToShard: %v", err)
	}
	es := sub.GetStream()
	defer es.Close()
	for ev := range es.Events() { // ctx bounds the wait
		e, ok := ev.(*kinesistypes.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
		if !ok || len(e.Value.Records) == 0 {
			continue
		}
		if got := string(e.Value.Records[0].Data); got != "over tls" {
			t.Errorf("SubscribeToShard delivered %q, want %q", got, "over tls")
		}
		return
	}
	t.Fatalf("SubscribeToShard's stream ended without the record: %v", es.Err())
}
