package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/streambridge/bridge/security/certs"
)

// newCertsCmd builds `bridge certs`, which writes a development CA and
// certificates so that trying TLS needs no openssl recipe.
func newCertsCmd() *cobra.Command {
	var (
		o      certs.Options
		days   int
		caDays int
	)
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Write a development CA, a server certificate and client certificates",
		Long: `Write a local development CA and certificates signed by it, for
--tls-cert-file, --tls-key-file and --tls-client-ca-file and for clients:

  ca.pem, ca-key.pem                    the CA (kept if already in --dir)
  server.pem, server-key.pem            for the --host names and addresses
  client-NAME.pem, client-NAME-key.pem  one pair per --client, subject CN=NAME

Keys are ECDSA P-256 in PKCS#8 PEM, mode 0600. An existing CA is reused,
so running again with another --client keeps earlier certificates valid.
For development and tests only: the CA key sits next to the certificates.`,
		Example: `  bridge certs --dir ./certs --client alice
  bridge certs --dir ./certs --host bridge.internal --host 10.0.0.5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if days <= 0 || caDays <= 0 {
				return fmt.Errorf("--days and --ca-days must be positive")
			}
			o.Validity = time.Duration(days) * 24 * time.Hour
			o.CAValidity = time.Duration(caDays) * 24 * time.Hour
			written, err := certs.Write(o)
			if err != nil {
				return err
			}
			for _, w := range written {
				fmt.Fprintf(cmd.OutOrStdout(), "%-40s %s\n", w.Path, w.What)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.Dir, "dir", "./certs", "directory to write to; created if missing")
	fs.StringArrayVar(&o.Hosts, "host", certs.DefaultHosts, "DNS name or IP address of the server certificate (repeat for more)")
	fs.StringArrayVar(&o.Clients, "client", nil, "write a client certificate with subject CN=NAME (repeat for more)")
	fs.IntVar(&days, "days", int(certs.DefaultValidity/(24*time.Hour)), "validity of the server and client certificates, in days")
	fs.IntVar(&caDays, "ca-days", int(certs.DefaultCAValidity/(24*time.Hour)), "validity of a new CA, in days")
	return cmd
}
