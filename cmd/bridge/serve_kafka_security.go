package main

// Kafka listeners and SASL: the settings that say which Kafka ports speak
// which security protocol, and how SASL clients authenticate. The names
// follow Kafka's own settings (listeners, advertised.listeners,
// listener.security.protocol.map, sasl.enabled.mechanisms,
// connections.max.reauth.ms) so a broker's configuration translates line
// by line.

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/streambridge/bridge/gateway/kafka"
	"github.com/streambridge/bridge/security/acl"
	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/security/principal"
	"github.com/streambridge/bridge/security/sasl"
	"github.com/streambridge/bridge/security/sigv4"
	"github.com/streambridge/bridge/security/tlsconfig"
	"github.com/streambridge/bridge/security/users"
	"github.com/streambridge/bridge/server"
	"github.com/streambridge/bridge/store"
)

// kafkaListenerOptions are the Kafka listener settings, part of the Kafka
// group.
type kafkaListenerOptions struct {
	listeners   string
	advertised  string
	protocolMap string

	parsed []listenerSpec // set by check
}

// listenerSpec is one listener after parsing.
type listenerSpec struct {
	name, addr, advertised string
	protocol               kafka.SecurityProtocol
}

func (o *kafkaListenerOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.listeners, "kafka-listeners", "", "Kafka ports as NAME://HOST:PORT,... (Kafka's listeners); replaces --kafka-addr, e.g. PLAINTEXT://:9092,SASL_SSL://:9096")
	fs.StringVar(&o.advertised, "kafka-advertised-listeners", "", "what clients of each listener are told to connect to, NAME://HOST:PORT,... (Kafka's advertised.listeners); replaces --advertised-kafka-addr")
	fs.StringVar(&o.protocolMap, "kafka-listener-security-protocol-map", "", "NAME:PROTOCOL,... for listeners not named after their protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)")
}

func (o *kafkaListenerOptions) check() error {
	o.parsed = nil
	if o.listeners == "" {
		if o.advertised != "" || o.protocolMap != "" {
			return errors.New("--kafka-advertised-listeners and --kafka-listener-security-protocol-map need --kafka-listeners")
		}
		return nil
	}
	protocols := map[string]kafka.SecurityProtocol{}
	for entry := range strings.SplitSeq(o.protocolMap, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		name, proto, ok := strings.Cut(entry, ":")
		p, err := kafka.ParseSecurityProtocol(proto)
		if !ok || err != nil {
			return fmt.Errorf("--kafka-listener-security-protocol-map %q: want NAME:PROTOCOL with a protocol of PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL", entry)
		}
		protocols[strings.ToUpper(name)] = p
	}
	listeners, err := parseListenerList("--kafka-listeners", o.listeners)
	if err != nil {
		return err
	}
	advertised, err := parseListenerList("--kafka-advertised-listeners", o.advertised)
	if err != nil {
		return err
	}
	for _, l := range listeners {
		p, ok := protocols[l.name]
		if !ok {
			if p, err = kafka.ParseSecurityProtocol(l.name); err != nil {
				return fmt.Errorf("--kafka-listeners: listener %s is not a security protocol's name and --kafka-listener-security-protocol-map does not map it", l.name)
			}
		}
		l.protocol = p
		for _, a := range advertised {
			if a.name == l.name {
				l.advertised = a.addr
			}
		}
		o.parsed = append(o.parsed, l)
	}
	for _, a := range advertised {
		if !containsListener(o.parsed, a.name) {
			return fmt.Errorf("--kafka-advertised-listeners names %s, which --kafka-listeners does not", a.name)
		}
	}
	return nil
}

func containsListener(ls []listenerSpec, name string) bool {
	for _, l := range ls {
		if l.name == name {
			return true
		}
	}
	return false
}

// parseListenerList reads NAME://HOST:PORT,... as Kafka does: names are
// case-insensitive (kept upper-case) and unique.
func parseListenerList(flag, list string) ([]listenerSpec, error) {
	var out []listenerSpec
	for entry := range strings.SplitSeq(list, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		name, addr, ok := strings.Cut(entry, "://")
		if !ok || name == "" {
			return nil, fmt.Errorf("%s %q: want NAME://HOST:PORT", flag, entry)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("%s %q: %v", flag, entry, err)
		}
		name = strings.ToUpper(name)
		if containsListener(out, name) {
			return nil, fmt.Errorf("%s: listener %s is listed twice", flag, name)
		}
		out = append(out, listenerSpec{name: name, addr: addr})
	}
	return out, nil
}

// serverListeners are the Kafka ports for server.Config; nil keeps
// --kafka-addr.
func (o *kafkaListenerOptions) serverListeners() []server.KafkaListener {
	var out []server.KafkaListener
	for _, l := range o.parsed {
		out = append(out, server.KafkaListener{Name: l.name, Addr: l.addr, AdvertisedAddr: l.advertised})
	}
	return out
}

// usesTLS says whether a Kafka listener is SSL or SASL_SSL.
func (o *kafkaListenerOptions) usesTLS() bool {
	for _, l := range o.parsed {
		if l.protocol.TLS() {
			return true
		}
	}
	return false
}

// protocol is the security protocol of a listener server named: the
// default listener of --kafka-addr is PLAINTEXT.
func (o *kafkaListenerOptions) protocol(name string) kafka.SecurityProtocol {
	for _, l := range o.parsed {
		if l.name == name {
			return l.protocol
		}
	}
	return kafka.Plaintext
}

// saslOptions configure Kafka SASL authentication, part of the Security
// group.
type saslOptions struct {
	mechanisms      string
	usersFile       string
	sessionLifetime time.Duration

	enabled   []string
	fileUsers []users.FileUser
	// store is the users the Kafka front end was built with, set by
	// kafkaSecurity: the embedded Connect worker's Basic authentication
	// checks passwords against it.
	store *users.Store
}

func (o *saslOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.mechanisms, "sasl-enabled-mechanisms", strings.Join(sasl.Default, ","), "SASL mechanisms SASL_PLAINTEXT and SASL_SSL listeners accept (Kafka's sasl.enabled.mechanisms), some of "+strings.Join(sasl.Supported, ",")+"; AWS_MSK_IAM and OAUTHBEARER (MSK IAM tokens) check SigV4 signatures against --aws-credentials-file and --region")
	fs.StringVar(&o.usersFile, "sasl-users-file", "", "YAML file of Kafka users and passwords (users: [{name: alice, password: ...}]); passwords are salted as read and never stored")
	fs.DurationVar(&o.sessionLifetime, "sasl-session-lifetime", 0, "how long a SASL login lasts before the client must re-authenticate on its connection (Kafka's connections.max.reauth.ms, KIP-368); 0: as long as the connection")
}

func (o *saslOptions) check() error {
	var errs []error
	var err error
	if o.enabled, err = sasl.ParseMechanisms(o.mechanisms); err != nil {
		errs = append(errs, fmt.Errorf("--sasl-enabled-mechanisms: %w", err))
	}
	if o.sessionLifetime < 0 {
		errs = append(errs, fmt.Errorf("--sasl-session-lifetime %v: want zero or a positive duration", o.sessionLifetime))
	}
	o.fileUsers = nil
	if o.usersFile != "" {
		if o.fileUsers, err = users.LoadFile(o.usersFile); err != nil {
			errs = append(errs, fmt.Errorf("--sasl-users-file: %w", err))
		}
	}
	return errors.Join(errs...)
}

// needsAWSCredentials names the first enabled mechanism that checks AWS
// signatures, "" when none does.
func (o *saslOptions) needsAWSCredentials() string {
	for _, name := range o.enabled {
		if sasl.NeedsAWSCredentials(name) {
			return name
		}
	}
	return ""
}

// authenticator builds the SASL mechanisms over the users and, for the
// MSK IAM mechanisms, the AWS signature verifier (nil when
// --aws-credentials-file is not set, which check refused for them).
// connect, when not nil, decides each MSK IAM login (kafka-cluster:Connect).
func (o *saslOptions) authenticator(u *users.Store, aws *sigv4.Verifier, connect sasl.ConnectCheck) (*sasl.Authenticator, error) {
	var mechs []sasl.Mechanism
	for _, name := range o.enabled {
		switch {
		case name == sasl.Plain:
			mechs = append(mechs, sasl.PlainMechanism(u))
			continue
		case sasl.NeedsAWSCredentials(name) && aws == nil:
			return nil, fmt.Errorf("SASL mechanism %s needs --aws-credentials-file", name)
		case name == sasl.MSKIAM:
			mechs = append(mechs, sasl.AWSMSKIAMConnect(aws, connect))
			continue
		case name == sasl.OAuthBearer:
			mechs = append(mechs, sasl.OAuthBearerMSKIAMConnect(aws, connect))
			continue
		}
		m, err := sasl.SCRAM(name, u)
		if err != nil {
			return nil, err
		}
		mechs = append(mechs, m)
	}
	return sasl.NewAuthenticator(mechs...)
}

// authzOptions configure authorization and the audit log, part of the
// Security group.
type authzOptions struct {
	authorizer   choice
	superUsers   string
	allowIfNoACL bool
	auditLog     string

	audit *audit.Log // opened by serverConfig
}

func (o *authzOptions) addFlags(fs *pflag.FlagSet) {
	o.authorizer = choice{value: "none", allowed: []string{"none", "acl"}}
	fs.Var(&o.authorizer, "authorizer", "what decides what each principal may do: none (everything allowed) or acl (Kafka ACLs, managed with CreateAcls/DeleteAcls)")
	fs.StringVar(&o.superUsers, "super-users", "", "principals allowed everything, separated by ; as Kafka's super.users (User:admin;User:CN=ops)")
	fs.BoolVar(&o.allowIfNoACL, "allow-everyone-if-no-acl-found", false, "allow an operation on a resource no ACL names (Kafka's allow.everyone.if.no.acl.found)")
	fs.StringVar(&o.auditLog, "audit-log", "", "append an audit log here (JSON lines): control-plane calls, failed authentications, denied requests")
}

func (o *authzOptions) check() error {
	var errs []error
	for _, u := range o.superUserList() {
		if typ, name, ok := strings.Cut(u, ":"); !ok || typ == "" || name == "" {
			errs = append(errs, fmt.Errorf("--super-users: %q is not a principal; want Type:Name, e.g. User:admin", u))
		}
	}
	if o.authorizer.value == "none" && (o.superUsers != "" || o.allowIfNoACL) {
		errs = append(errs, errors.New("--super-users and --allow-everyone-if-no-acl-found need --authorizer acl"))
	}
	return errors.Join(errs...)
}

func (o *authzOptions) superUserList() []string {
	var out []string
	for u := range strings.SplitSeq(o.superUsers, ";") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// openAudit opens the audit log, once; nil when there is none.
func (o *authzOptions) openAudit(log *slog.Logger) (*audit.Log, error) {
	if o.audit != nil || o.auditLog == "" {
		return o.audit, nil
	}
	var err error
	o.audit, err = audit.Open(o.auditLog, log.With("component", "audit"))
	return o.audit, err
}

// kafkaSecurity fills in the listeners and SASL settings of a Kafka front
// end config from the ports server bound.
func (o *serveOptions) kafkaSecurity(ctx context.Context, cfg *kafka.Config, st store.State, addrs server.Addrs) error {
	u, err := users.Open(ctx, st, o.security.sasl.fileUsers)
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	cfg.Users = u
	o.security.sasl.store = u
	cfg.Audit = o.security.authz.audit
	if o.security.authz.authorizer.value == "acl" {
		if cfg.Authorizer, err = acl.Open(ctx, st, acl.Config{
			SuperUsers:   o.security.authz.superUserList(),
			AllowIfNoACL: o.security.authz.allowIfNoACL,
		}); err != nil {
			return fmt.Errorf("ACLs: %w", err)
		}
	}
	needSASL := false
	for _, a := range addrs.KafkaListeners {
		l := kafka.Listener{Name: a.Name, Protocol: o.kafka.listeners.protocol(a.Name), AdvertisedAddr: a.Advertised}
		if l.Protocol.TLS() {
			r, err := o.security.tlsReloader(cfg.Logger)
			if err != nil || r == nil {
				return fmt.Errorf("kafka listener %s: TLS: %v", a.Name, err)
			}
			l.TLS = r.Config()
			if l.Protocol.SASL() {
				// KIP-684: SASL clients authenticate with SASL; the
				// broker-wide ssl.client.auth applies to SSL listeners.
				l.TLS = r.ConfigFor(tlsconfig.ClientAuthNone)
			}
		}
		needSASL = needSASL || l.Protocol.SASL()
		cfg.Listeners = append(cfg.Listeners, l)
	}
	rules := o.security.tls.rules
	cfg.SSLPrincipal = func(cert *x509.Certificate) (string, error) {
		return rules.Map(principal.SubjectRFC2253(cert))
	}
	if needSASL {
		var verifier *sigv4.Verifier
		var connect sasl.ConnectCheck
		if o.security.sasl.needsAWSCredentials() != "" {
			creds, err := o.security.awsCredentials()
			if err != nil {
				return err
			}
			// The AWS port's keys and region: a key signs for Kafka
			// (service kafka-cluster) as it signs for Kinesis and SQS.
			verifier = &sigv4.Verifier{Credentials: creds, Region: o.aws.region}
			msk, err := o.mskIAMAuthorizer(ctx, st, cfg.Logger)
			if err != nil {
				return err
			}
			if msk != nil {
				connect = msk.Connect
				cfg.SASLAuthorizers = o.security.sasl.mskIAMAuthorizers(msk)
			}
		}
		if cfg.SASL, err = o.security.sasl.authenticator(u, verifier, connect); err != nil {
			return err
		}
		cfg.SASLSessionLifetime = o.security.sasl.sessionLifetime
	}
	return nil
}
