package main

// `bridge healthcheck` asks a running bridge's admin port whether it is
// ready (GET /readyz) and says so in its exit status. It exists for the
// container image's HEALTHCHECK: the image is FROM scratch, with no shell
// and no curl, so the probe has to be the binary itself. It reads the same
// --admin-addr and --admin-tls as serve, from the same BRIDGE_* variables,
// so a container configured by environment needs no probe settings of its
// own.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckOptions are the settings of `bridge healthcheck`.
type healthcheckOptions struct {
	adminAddr string
	adminTLS  bool
	timeout   time.Duration
}

func newHealthcheckCmd(lookupEnv func(string) (string, bool)) *cobra.Command {
	var o healthcheckOptions
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 if the bridge on --admin-addr is ready (GET /readyz), 1 if not",
		Long: `Ask the bridge's admin port whether it is ready (GET /readyz) and exit 0 on
200, 1 otherwise with the reason on stderr. Made for a container HEALTHCHECK,
where there is no shell or curl.

--admin-addr and --admin-tls mean what they mean to serve and are read from
the same environment variables (BRIDGE_ADMIN_ADDR, BRIDGE_ADMIN_TLS). An
address without a host (":8080") or with an unspecified one (0.0.0.0, ::)
is probed on loopback. Over TLS the server's certificate is not verified:
the probe checks the local process, not its identity.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := applyLayers(cmd.Flags(), lookupEnv); err != nil {
				return err
			}
			if o.timeout <= 0 {
				return fmt.Errorf("--timeout %v: want a positive duration, e.g. 2s", o.timeout)
			}
			return o.probe(cmd.Context(), cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.adminAddr, "admin-addr", ":8080", "admin address of the bridge to probe, as serve's --admin-addr")
	fs.BoolVar(&o.adminTLS, "admin-tls", false, "the admin port serves HTTPS, as serve's --admin-tls")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Second, "how long to wait for the answer")
	return cmd
}

// probeURL is the /readyz URL for a listen address: a listener bound to all
// interfaces is reached on loopback.
func probeURL(addr string, useTLS bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--admin-addr %q: %w", addr, err)
	}
	if port == "" || port == "0" {
		return "", fmt.Errorf("--admin-addr %q: want the port the bridge listens on", addr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/readyz", nil
}

// probe GETs /readyz once; nil only on 200.
func (o *healthcheckOptions) probe(ctx context.Context, out io.Writer) error {
	url, err := probeURL(o.adminAddr, o.adminTLS)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{
		// The probe runs next to the server it checks: the certificate
		// is for the clients' name, not for 127.0.0.1.
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		DisableKeepAlives: true,
		Proxy:             nil, // never through HTTP_PROXY: the target is local
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("GET %s: no answer within %v", url, o.timeout)
		}
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	text := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, text)
	}
	_, err = fmt.Fprintln(out, text)
	return err
}
