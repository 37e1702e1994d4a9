package main

// The settings of `bridge serve` come in option groups, one per area. A
// group owns its flags and checks them together, and --help lists them
// under the group's heading, so the flag list stays readable as security
// and backend settings join it. Flag names never depend on the group: they
// are also the config-file keys and, as BRIDGE_*, the environment variables
// (layers.go), which must not change when a flag moves between groups.

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	gateways3 "github.com/streambridge/bridge/gateway/s3"
	"github.com/streambridge/bridge/store/embedded"
)

// optionGroup is one area's settings.
type optionGroup interface {
	heading() string
	addFlags(fs *pflag.FlagSet)
	check() error
}

// serveOptions are the settings of `bridge serve`.
type serveOptions struct {
	configFile string
	initFile   string
	store      storeOptions
	kafka      kafkaOptions
	aws        awsOptions
	security   securityOptions
	backends   backendOptions
	connect    connectOptions
	admin      adminOptions
}

// groups are o's option groups in the order --help lists them.
func (o *serveOptions) groups() []optionGroup {
	return []optionGroup{&o.store, &o.kafka, &o.aws, &o.security, &o.backends, &o.connect, &o.admin}
}

// flagGroupAnnotation holds the heading of a flag's option group.
const flagGroupAnnotation = "bridge-option-group"

// generalHeading is the section of flags that belong to no group: --config,
// which is about where settings come from, and cobra's --help.
const generalHeading = "General"

func (o *serveOptions) addFlags(fs *pflag.FlagSet) {
	*o = serveOptions{}
	fs.StringVar(&o.configFile, configFlag, "", "YAML file of settings, keys as the flag names (data-dir: ./x)")
	fs.StringVar(&o.initFile, "init-file", "", "YAML file of Kafka topics, Kinesis streams, SQS queues and S3 buckets to create at start, before the ports serve")
	for _, g := range o.groups() {
		gfs := pflag.NewFlagSet(g.heading(), pflag.ContinueOnError)
		gfs.SortFlags = false // fs gets them in declaration order
		g.addFlags(gfs)
		gfs.VisitAll(func(f *pflag.Flag) {
			_ = gfs.SetAnnotation(f.Name, flagGroupAnnotation, []string{g.heading()})
		})
		fs.AddFlagSet(gfs)
	}
}

// check reports every group's problems at once, so one run shows all that
// needs fixing.
func (o *serveOptions) check() error {
	var errs []error
	for _, g := range o.groups() {
		errs = append(errs, g.check())
	}
	errs = append(errs, o.checkConnectSecurity())
	return errors.Join(errs...)
}

// flagSections splits fs into the sections --help shows: General first,
// then one per option group in order. Each FlagSet is named by its heading
// and keeps fs's order; sections of groups without flags are empty.
func flagSections(fs *pflag.FlagSet, groups []optionGroup) []*pflag.FlagSet {
	sections := []*pflag.FlagSet{pflag.NewFlagSet(generalHeading, pflag.ContinueOnError)}
	for _, g := range groups {
		sections = append(sections, pflag.NewFlagSet(g.heading(), pflag.ContinueOnError))
	}
	for _, s := range sections {
		s.SortFlags = false
	}
	fs.VisitAll(func(f *pflag.Flag) {
		heading := generalHeading
		if h := f.Annotations[flagGroupAnnotation]; len(h) == 1 {
			heading = h[0]
		}
		i := slices.IndexFunc(sections, func(s *pflag.FlagSet) bool { return s.Name() == heading })
		sections[max(i, 0)].AddFlag(f)
	})
	return sections
}

// groupedUsage is a cobra usage function that lists the command's flags by
// section instead of in one alphabetical block.
func groupedUsage(groups []optionGroup) func(*cobra.Command) error {
	return func(c *cobra.Command) error {
		var b strings.Builder
		fmt.Fprintf(&b, "Usage:\n  %s\n", c.UseLine())
		for _, s := range flagSections(c.Flags(), groups) {
			if s.HasFlags() {
				fmt.Fprintf(&b, "\n%s:\n%s", s.Name(), s.FlagUsages())
			}
		}
		_, err := io.WriteString(c.OutOrStderr(), b.String())
		return err
	}
}

// storeOptions say where and how data is kept.
type storeOptions struct {
	dataDir       string
	inMemory      bool
	fsync         choice
	fsyncInterval time.Duration
	memoryLimit   memoryLimitFlag
}

func (*storeOptions) heading() string { return "Store" }

func (o *storeOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.dataDir, "data-dir", "./bridge-data", "directory for the embedded store; created if missing")
	fs.BoolVar(&o.inMemory, "in-memory", false, "keep everything in memory and lose it on exit (tests, demos)")
	o.fsync = choice{value: "always", allowed: []string{"always", "os"}}
	fs.Var(&o.fsync, "fsync", "when an acknowledged write is on disk: always (fsynced before the answer; a power cut loses nothing acknowledged) or os (written to the kernel before the answer, fsynced every --fsync-interval: kill -9 loses nothing, a power cut may lose the last interval)")
	fs.DurationVar(&o.fsyncInterval, "fsync-interval", embedded.DefaultFsyncInterval, "with --fsync os: how often written data is fsynced in the background")
	o.memoryLimit = memoryLimitFlag{auto: true}
	fs.Var(&o.memoryLimit, "memory-limit", "the memory the bridge may use: its caches and memtables are sized to fit and Go's collector works to stay under it (auto: the limit of the container, or cgroup, it runs in; none: 256 MiB block cache, 256 MiB tail cache, 64 MiB memtables, and no collector limit)")
}

// check leaves an empty --data-dir to server.Config, which reports it
// together with --in-memory, the alternative.
func (o *storeOptions) check() error {
	if o.fsyncInterval <= 0 {
		return fmt.Errorf("--fsync-interval %v: want a positive duration, e.g. 100ms", o.fsyncInterval)
	}
	return nil
}

// fsyncMode is --fsync as the store's mode (the flag's values are checked
// when set).
func (o *storeOptions) fsyncMode() embedded.Fsync {
	m, _ := embedded.ParseFsync(o.fsync.value)
	return m
}

// kafkaOptions configure the Kafka listener and front end.
type kafkaOptions struct {
	addr              string
	advertisedAddr    string
	autoCreateTopics  bool
	defaultPartitions int
	listeners         kafkaListenerOptions
	// fetchSessionSlots is Kafka's max.incremental.fetch.session.cache.slots.
	fetchSessionSlots int
	groups            kafkaGroupOptions
	txn               kafkaTxnOptions
}

func (*kafkaOptions) heading() string { return "Kafka" }

func (o *kafkaOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.addr, "kafka-addr", ":9092", "address for Kafka clients")
	fs.StringVar(&o.advertisedAddr, "advertised-kafka-addr", "", "host:port Kafka clients are told to connect to (default: the bound address, localhost if bound to all interfaces)")
	fs.BoolVar(&o.autoCreateTopics, "auto-create-topics", true, "create unknown Kafka topics on first Metadata or Produce, as Kafka's auto.create.topics.enable")
	fs.IntVar(&o.defaultPartitions, "default-partitions", 1, "partitions of an auto-created topic, and of CreateTopics asking for the default (-1)")
	fs.IntVar(&o.fetchSessionSlots, "fetch-session-cache-slots", 1000, "fetch sessions (KIP-227) kept, as Kafka's max.incremental.fetch.session.cache.slots; 0: none, every fetch is sessionless")
	o.listeners.addFlags(fs)
	o.groups.addFlags(fs)
	o.txn.addFlags(fs)
}

func (o *kafkaOptions) check() error {
	var errs []error
	if o.defaultPartitions < 1 {
		errs = append(errs, fmt.Errorf("--default-partitions %d: want at least 1", o.defaultPartitions))
	}
	if o.fetchSessionSlots < 0 {
		errs = append(errs, fmt.Errorf("--fetch-session-cache-slots %d: want 0 or more", o.fetchSessionSlots))
	}
	return errors.Join(append(errs, o.listeners.check(), o.groups.check(), o.txn.check())...)
}

// awsOptions configure the AWS port, shared by the AWS-style APIs: what
// they have in common here, and each API's own settings.
type awsOptions struct {
	addr    string
	region  string
	account string
	kinesis kinesisOptions
	sqs     sqsOptions
	s3      s3Options
}

func (*awsOptions) heading() string { return "AWS APIs (Kinesis, SQS, KMS, S3)" }

func (o *awsOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.addr, "aws-addr", ":4566", "address for the Kinesis, SQS and S3-style HTTP APIs")
	fs.StringVar(&o.region, "region", "us-east-1", "AWS region in the ARNs the AWS-style APIs return and accept")
	fs.StringVar(&o.account, "account", "000000000000", "12-digit AWS account id in the ARNs the AWS-style APIs return and accept")
	o.kinesis.addFlags(fs)
	o.sqs.addFlags(fs)
	o.s3.addFlags(fs)
}

func (o *awsOptions) check() error {
	var errs []error
	if len(o.account) != 12 || strings.Trim(o.account, "0123456789") != "" {
		errs = append(errs, fmt.Errorf("--account %q: want 12 digits", o.account))
	}
	if o.region == "" {
		errs = append(errs, errors.New("--region: want a region name, e.g. us-east-1"))
	}
	return errors.Join(append(errs, o.kinesis.check(), o.sqs.check(), o.s3.check())...)
}

// s3Options configure the S3-style API.
type s3Options struct {
	virtualHosts []string
}

func (o *s3Options) addFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&o.virtualHosts, "s3-virtual-host", gateways3.DefaultVirtualHosts,
		"base hosts of virtual-host style S3 requests: Host BUCKET.BASE[:PORT] addresses BUCKET (path-style /BUCKET/KEY always works); empty turns it off")
}

func (o *s3Options) check() error {
	for _, h := range o.virtualHosts {
		if h == "" || strings.ContainsAny(h, " /:") {
			return fmt.Errorf("--s3-virtual-host %q: want a host name without port, e.g. s3.localhost.localstack.cloud", h)
		}
	}
	return nil
}

type sqsOptions struct {
	queueURLHost string
}

func (o *sqsOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.queueURLHost, "sqs-queue-url-host", "", "HOST:PORT (or scheme://HOST:PORT) that SQS queue URLs name; empty: the host each request came to")
}

func (o *sqsOptions) check() error {
	if strings.ContainsAny(o.queueURLHost, " /") && !strings.Contains(o.queueURLHost, "://") {
		return fmt.Errorf("--sqs-queue-url-host %q: want HOST:PORT or scheme://HOST:PORT", o.queueURLHost)
	}
	return nil
}

type kinesisOptions struct {
	enforceLimits bool
	stateDelay    time.Duration
}

func (o *kinesisOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.enforceLimits, "kinesis-enforce-limits", false, "emulate Kinesis provisioned throughput per shard (1 MB/s or 1000 records/s in, 2 MB/s and 5 reads/s out)")
	fs.DurationVar(&o.stateDelay, "kinesis-state-delay", 0, "how long Kinesis streams stay CREATING, UPDATING or DELETING, so clients' waiters are exercised")
}

func (o *kinesisOptions) check() error {
	if o.stateDelay < 0 {
		return fmt.Errorf("--kinesis-state-delay %v: want zero or a positive duration", o.stateDelay)
	}
	return nil
}

// securityOptions are the TLS, SASL and request-signing settings. Each
// area keeps its fields, flags and checks in a block of its own (TLS:
// security_tls.go; SASL: serve_kafka_security.go; SigV4 below), so the
// areas can grow without touching each other.
type securityOptions struct {
	tls   tlsOptions
	sasl  saslOptions
	authz authzOptions
	// SigV4 on the AWS port (--aws-credentials-file), and the keys of
	// the Kafka port's MSK IAM mechanisms. The file is read when the
	// first front end that needs it is built (serve.go), so a bad file
	// fails the start with the file's line in the error; both ports then
	// share the one Store.
	awsCredentialsFile string
	awsCreds           awsCredsOnce
	// IAM policies (--aws-policies-file, serve_aws_authz.go) of the AWS
	// port and of the Kafka port's MSK IAM principals, loaded once by
	// whichever front end is built first.
	awsPoliciesFile string
	awsPols         awsPoliciesOnce
	// mskClusterName names the cluster in the kafka-cluster:* resource
	// ARNs MSK IAM principals' policies are matched against.
	mskClusterName string
	// kmsKeyringFile is the KMS keyring of encryption at rest (empty:
	// DATA_DIR/kms-keyring.json, server.Config.KeyringFile).
	kmsKeyringFile string
}

func (*securityOptions) heading() string { return "Security" }

func (o *securityOptions) addFlags(fs *pflag.FlagSet) {
	o.tls.addFlags(fs)
	o.sasl.addFlags(fs)
	o.authz.addFlags(fs)
	fs.StringVar(&o.awsCredentialsFile, "aws-credentials-file", "", "AWS shared-credentials file of the keys the AWS port accepts; requests must be SigV4-signed with one of them (empty: no checks)")
	fs.StringVar(&o.awsPoliciesFile, "aws-policies-file", "", "YAML or JSON file of IAM policies by access key id; every Kinesis, SQS, KMS and S3 request is then authorized, resource policies included, and so is every Kafka request of an AWS_MSK_IAM or OAUTHBEARER client (kafka-cluster:* actions) (needs --aws-credentials-file; empty: everything allowed)")
	fs.StringVar(&o.kmsKeyringFile, "kms-keyring-file", "", "the KMS keyring whose keys wrap the data keys of encrypted streams and topics (StartStreamEncryption, encryption.kms.key.id) and that the KMS API serves; keep it apart from the data dir to keep keys and records apart (empty: DATA_DIR/kms-keyring.json, in memory with --in-memory)")
	fs.StringVar(&o.mskClusterName, "msk-cluster-name", "bridge", "cluster name in the kafka-cluster:* resource ARNs of MSK IAM policies (arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/CLUSTER_ID)")
}

func (o *securityOptions) check() error {
	err := errors.Join(o.tls.check(), o.sasl.check(), o.authz.check(), checkMSKClusterName(o.mskClusterName))
	if m := o.sasl.needsAWSCredentials(); m != "" && o.awsCredentialsFile == "" {
		err = errors.Join(err, fmt.Errorf("--sasl-enabled-mechanisms has %s, which checks AWS signatures: set --aws-credentials-file to the keys it accepts (and --region to the region they sign for)", m))
	}
	if o.awsPoliciesFile != "" && o.awsCredentialsFile == "" {
		err = errors.Join(err, errors.New("--aws-policies-file needs --aws-credentials-file: policies are attached to the access keys requests are signed with"))
	}
	return err
}

// backendOptions are where the settings that point streams at real
// Kinesis, SQS, S3 or Kafka will go. The group exists before its first
// flag so that they get a heading and checks of their own rather than
// joining another area's.
type backendOptions struct{}

func (*backendOptions) heading() string         { return "Backends" }
func (*backendOptions) addFlags(*pflag.FlagSet) {}
func (*backendOptions) check() error            { return nil }

// connectOptions configure the embedded Kafka Connect worker
// (serve_connect.go).
type connectOptions struct {
	addr string
	// Security of the embedded worker (serve_connect_security.go).
	tls, basicAuth bool
	workerProps    string
	// groupID, when set, makes the embedded worker a distributed one
	// (Kafka Connect's group.id): its state in the three topics below on
	// the bridge itself, and `bridge connect` workers of the same group
	// share its work.
	groupID                               string
	configTopic, offsetTopic, statusTopic string
}

// The internal topics' names when --connect-group-id is set: the names
// Kafka's connect-distributed.properties gives them.
const (
	defaultConnectConfigTopic = "connect-configs"
	defaultConnectOffsetTopic = "connect-offsets"
	defaultConnectStatusTopic = "connect-status"
)

func (*connectOptions) heading() string { return "Kafka Connect" }

func (o *connectOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.addr, "connect-addr", "", "address of the Kafka Connect REST API of an embedded Connect worker that copies between the bridge's Kafka topics and Kinesis, SQS, S3, files or HTTP; its state is kept in DATA_DIR/connect (empty: no worker)")
	o.addSecurityFlags(fs)
	fs.StringVar(&o.groupID, "connect-group-id", "", "run the embedded worker in distributed mode as a worker of this Connect cluster (Kafka Connect's group.id): its state in the bridge's compacted config, offset and status topics instead of DATA_DIR/connect, its work shared with `bridge connect` workers of the same group (empty: standalone)")
	fs.StringVar(&o.configTopic, "connect-config-topic", defaultConnectConfigTopic, "with --connect-group-id: the topic of connector and task configurations (config.storage.topic)")
	fs.StringVar(&o.offsetTopic, "connect-offset-topic", defaultConnectOffsetTopic, "with --connect-group-id: the topic of source offsets (offset.storage.topic)")
	fs.StringVar(&o.statusTopic, "connect-status-topic", defaultConnectStatusTopic, "with --connect-group-id: the topic of connector and task statuses (status.storage.topic)")
}

func (o *connectOptions) check() error {
	var errs []error
	if o.addr != "" {
		if _, port, err := net.SplitHostPort(o.addr); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("--connect-addr %q: want HOST:PORT or :PORT", o.addr))
		}
	}
	if o.groupID != "" && o.addr == "" {
		errs = append(errs, fmt.Errorf("--connect-group-id %q: needs --connect-addr (the embedded worker)", o.groupID))
	}
	if o.groupID == "" {
		return errors.Join(errs...) // the topic flags have no use
	}
	topics := map[string]string{"connect-config-topic": o.configTopic, "connect-offset-topic": o.offsetTopic, "connect-status-topic": o.statusTopic}
	seen := map[string]string{}
	for _, flag := range slices.Sorted(maps.Keys(topics)) {
		name := topics[flag]
		if err := checkTopicName(name); err != nil {
			errs = append(errs, fmt.Errorf("--%s %q: %w", flag, name, err))
		} else if other, ok := seen[name]; ok {
			// Kafka refuses one topic for two purposes: their records differ.
			errs = append(errs, fmt.Errorf("--%s and --%s are both %q: each internal topic needs its own", other, flag, name))
		}
		seen[name] = flag
	}
	return errors.Join(errs...)
}

// checkTopicName refuses what Kafka's topic name rules refuse.
func checkTopicName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return errors.New("want a topic name")
	case len(name) > 249:
		return errors.New("longer than 249 characters")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%q is not allowed in a topic name (only ASCII letters, digits, '.', '_' and '-')", r)
		}
	}
	return nil
}

// adminOptions configure the admin port, the logs and the process's
// lifecycle.
type adminOptions struct {
	addr            string
	logFormat       choice
	logLevel        choice
	shutdownTimeout time.Duration
}

func (*adminOptions) heading() string { return "Admin, logging and process" }

func (o *adminOptions) addFlags(fs *pflag.FlagSet) {
	o.logFormat = choice{value: "text", allowed: []string{"text", "json"}}
	o.logLevel = choice{value: "info", allowed: []string{"debug", "info", "warn", "error"}}
	fs.StringVar(&o.addr, "admin-addr", ":8080", "address for /healthz, /readyz and /metrics")
	fs.Var(&o.logFormat, "log-format", "log format: "+o.logFormat.list())
	fs.Var(&o.logLevel, "log-level", "log level: "+o.logLevel.list())
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long in-flight requests may run after SIGINT/SIGTERM before their connections are closed")
}

func (o *adminOptions) check() error {
	if o.shutdownTimeout <= 0 {
		return fmt.Errorf("--shutdown-timeout %v: want a positive duration, e.g. 10s", o.shutdownTimeout)
	}
	return nil
}

// choice is a flag value limited to a fixed list, checked when it is set, so
// a bad value from any layer is reported with its source.
type choice struct {
	value   string
	allowed []string
}

func (c *choice) String() string { return c.value }
func (c *choice) Type() string   { return "string" }
func (c *choice) list() string   { return strings.Join(c.allowed, "|") }
func (c *choice) Set(v string) error {
	if !slices.Contains(c.allowed, v) {
		return fmt.Errorf("want one of %s", c.list())
	}
	c.value = v
	return nil
}
