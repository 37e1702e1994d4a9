package restsec

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streambridge/bridge/connect"
)

func TestAdvertisedScheme(t *testing.T) {
	for _, tc := range []struct {
		name, value, served, want, err string
	}{
		{name: "unset: the listener's", served: "https", want: "https"},
		{name: "unset, http", served: "http", want: "http"},
		{name: "any case", value: "HTTPS", served: "http", want: "https"},
		{name: "behind a proxy", value: "https", served: "http", want: "https"},
		{name: "not a protocol", value: "ftp", served: "http", err: "Invalid value ftp for configuration rest.advertised.listener: String must be one of: http, https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			props := connect.Config{}
			if tc.value != "" {
				props[AdvertisedListenerConfig] = tc.value
			}
			got, err := AdvertisedScheme(props, tc.served)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// The forwarding client takes the https listener's settings: it trusts
// the listener's trust store and presents the listener's certificate to a
// worker that requires one, or fails as a client without them would.
func TestClientTLS(t *testing.T) {
	ks, ca, key, cert := devKeyStore(t)
	dir := filepath.Dir(ks)
	caPEM, _ := os.ReadFile(ca)

	// Another worker of the group: https, client certificates required.
	serverTLS, err := ServerTLS(connect.Config{"ssl.keystore.location": ks, "ssl.truststore.location": ca, "ssl.client.auth": "required"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	})}
	go func() { _ = srv.Serve(tls.NewListener(ln, serverTLS)) }()
	defer srv.Close()
	url := "https://" + ln.Addr().String() + "/"

	for _, tc := range []struct {
		name  string
		props connect.Config
		err   string // of ClientTLS
		fails string // of the request
	}{
		{name: "listener's stores", props: connect.Config{"listeners.https.ssl.keystore.location": ks, "listeners.https.ssl.truststore.location": ca}},
		{name: "unprefixed stores", props: connect.Config{"ssl.keystore.location": ks, "ssl.truststore.location": ca}},
		{name: "https prefix wins", props: connect.Config{"ssl.truststore.location": "/missing", "listeners.https.ssl.truststore.location": ca, "listeners.https.ssl.keystore.location": ks}},
		{name: "inline PEM", props: connect.Config{"ssl.keystore.type": "PEM", "ssl.keystore.certificate.chain": string(cert), "ssl.keystore.key": string(key), "ssl.truststore.certificates": string(caPEM)}},
		{name: "chain only, no host name check", props: connect.Config{"ssl.keystore.location": ks, "ssl.truststore.location": ca, "ssl.endpoint.identification.algorithm": ""}},
		{name: "no trust store: the system's CAs", props: connect.Config{"ssl.keystore.location": ks}, fails: "certificate signed by unknown authority"},
		{name: "no key store: no certificate to present", props: connect.Config{"ssl.truststore.location": ca}, fails: "certificate required"},
		{name: "jks", props: connect.Config{"ssl.truststore.type": "JKS", "ssl.truststore.location": ca}, err: "ssl.truststore.type JKS is not supported"},
		{name: "missing key store", props: connect.Config{"listeners.https.ssl.keystore.location": filepath.Join(dir, "none.pem")}, err: "the REST client (forwarding to other workers): ssl.keystore.location"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ClientTLS(tc.props, nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cl := &http.Client{Transport: &http.Transport{TLSClientConfig: c}}
			resp, err := cl.Get(url)
			if tc.fails != "" {
				if err == nil {
					resp.Body.Close()
				}
				if err == nil || !strings.Contains(err.Error(), tc.fails) {
					t.Fatalf("request: %v; want an error with %q", err, tc.fails)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(b) != "localhost" {
				t.Fatalf("%d %q; want the server certificate's subject as the client's", resp.StatusCode, b)
			}
		})
	}
}
