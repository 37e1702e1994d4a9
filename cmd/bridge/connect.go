package main

// `bridge connect`: a Kafka Connect-compatible worker process of its own,
// pointed at any Kafka cluster (the bridge, MSK, any other), run as Kafka's
// connect-standalone.sh runs one: an optional worker properties file and
// connector properties files, the connectors created at start.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/streambridge/bridge/connect"
)

// connectCmdOptions are the settings of `bridge connect`.
type connectCmdOptions struct {
	bootstrap       string
	restAddr        string
	stateDir        string
	groupID         string
	shutdownTimeout time.Duration
	restJAASConfig  string
	tls             tlsOptions                  // the REST listener's, as serve's flags name them
	lookupEnv       func(string) (string, bool) // KAFKA_OPTS
	logFormat       choice
	logLevel        choice
}

func (o *connectCmdOptions) addFlags(fs *pflag.FlagSet) {
	o.logFormat = choice{value: "text", allowed: []string{"text", "json"}}
	o.logLevel = choice{value: "info", allowed: []string{"debug", "info", "warn", "error"}}
	fs.StringVar(&o.bootstrap, "bootstrap-servers", "localhost:9092", "Kafka cluster the worker reads and writes, host:port[,host:port...]; unset, the worker properties' bootstrap.servers comes before this default")
	fs.StringVar(&o.restAddr, "rest-addr", ":8083", "address of the Kafka Connect REST API; unset, the worker properties' listeners come before this default")
	fs.StringVar(&o.stateDir, "state-dir", "./connect-state", "directory of the worker's state: connectors.json (configurations, target states, task configurations) and offsets.json (source offsets); created if missing")
	fs.StringVar(&o.groupID, "group-id", "", "run in distributed mode as a worker of this Connect cluster (Kafka Connect's group.id): state in the cluster's config, offset and status topics, work shared with the other workers of the group; unset, the worker properties' group.id, and without either the worker is standalone")
	fs.StringVar(&o.restJAASConfig, "rest-jaas-config", "", "JAAS file whose KafkaConnect section names the REST API's Basic authentication credentials file (PropertyFileLoginModule file=...), read when the worker properties' rest.extension.classes has BasicAuthSecurityRestExtension; unset, -Djava.security.auth.login.config in KAFKA_OPTS")
	o.addTLSFlags(fs)
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long REST requests in flight may run after SIGINT/SIGTERM; tasks then make their final commit")
	fs.Var(&o.logFormat, "log-format", "log format: "+o.logFormat.list())
	fs.Var(&o.logLevel, "log-level", "log level: "+o.logLevel.list())
}

func newConnectCmd(lookupEnv func(string) (string, bool)) *cobra.Command {
	var opts connectCmdOptions
	cmd := &cobra.Command{
		Use:   "connect [WORKER.properties] [CONNECTOR.properties ...]",
		Short: "Run a Kafka Connect-compatible worker against any Kafka cluster",
		Long: `Run a standalone Kafka Connect-compatible worker: the Kafka Connect REST API
on --rest-addr, connectors and tasks copying between the Kafka cluster of
--bootstrap-servers and Kinesis, SQS, S3, files or HTTP.

Arguments are .properties files as connect-standalone.sh takes them: a file
without connector.class is the worker's properties (bootstrap.servers,
listeners, key.converter, value.converter, offset.flush.interval.ms, ...);
each file with connector.class is a connector, created (or updated) at start.
Connectors created through the REST API are kept in --state-dir and resumed
at the next start.

With --group-id (or group.id in the worker properties) the worker is
distributed, as connect-distributed.sh runs one: workers with the same group
id share connectors and tasks, keep configurations, offsets and statuses in
the cluster's compacted topics (offset.storage.topic, config.storage.topic,
status.storage.topic) and answer the REST API for the whole cluster.

Every flag can also be set as an environment variable (--state-dir as
BRIDGE_STATE_DIR). SIGINT or SIGTERM stops the worker gracefully.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := applyLayers(cmd.Flags(), lookupEnv)
			if err != nil {
				return err
			}
			opts.lookupEnv = lookupEnv
			return runConnect(cmd, &opts, l, args)
		},
	}
	cmd.Flags().SortFlags = false
	opts.addFlags(cmd.Flags())
	return cmd
}

// connectFiles sorts the argument files into the worker's properties and
// connector configurations.
func connectFiles(args []string) (worker connect.Config, connectors []connect.Config, err error) {
	worker = connect.Config{}
	workerFile := ""
	for _, path := range args {
		props, err := readProperties(path)
		if err != nil {
			return nil, nil, err
		}
		if _, ok := props[connect.ConnectorClassConfig]; !ok {
			if workerFile != "" {
				return nil, nil, fmt.Errorf("%s: no connector.class, so it would be the worker's properties, but %s already is", path, workerFile)
			}
			worker, workerFile = props, path
			continue
		}
		if strings.TrimSpace(props[connect.NameConfig]) == "" {
			return nil, nil, fmt.Errorf("%s: a connector needs a name", path)
		}
		connectors = append(connectors, props)
	}
	return worker, connectors, nil
}

func runConnect(cmd *cobra.Command, opts *connectCmdOptions, l layered, args []string) error {
	log := newLogger(cmd.ErrOrStderr(), opts.logFormat.value, opts.logLevel.value)
	logAllocatorEnv(log)
	props, connectors, err := connectFiles(args)
	if err != nil {
		return err
	}
	bootstrap := opts.bootstrap
	if l.sources["bootstrap-servers"] == "default" && props["bootstrap.servers"] != "" {
		bootstrap = props["bootstrap.servers"]
	}
	rest, err := opts.restSecurity(props, l, log)
	if err != nil {
		return err
	}
	var servers []string
	for _, s := range strings.Split(bootstrap, ",") {
		if s = strings.TrimSpace(s); s != "" {
			servers = append(servers, s)
		}
	}
	if len(servers) == 0 {
		return errors.New("--bootstrap-servers: want host:port[,host:port...]")
	}
	groupID := opts.groupID
	if l.sources["group-id"] == "default" {
		groupID = strings.TrimSpace(props["group.id"])
	}
	if groupID != "" && len(connectors) > 0 {
		return errors.New("distributed mode (group.id) takes only the worker properties: create connectors through the REST API, as with connect-distributed.sh")
	}
	if groupID == "" && opts.stateDir == "" {
		return errors.New("--state-dir: want a directory")
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	go func() {
		select {
		case <-sigs:
			cancel() // a signal during the start abandons it
		case <-ctx.Done():
		}
	}()
	w, err := startConnect(ctx, connectSettings{
		bootstrap:  servers,
		restAddr:   rest.listener.Addr,
		restTLS:    rest.tls,
		restAuth:   rest.auth,
		forwardTLS: rest.client,
		stateDir:   opts.stateDir,
		groupID:    groupID,
		props:      props,
		connectors: connectors,
		registerer: reg,
		log:        log,
	}, func(mux *http.ServeMux) {
		// Beside the REST API, as the admin port serves it for bridge serve.
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	})
	if err != nil {
		log.Error("connect worker cannot start", "err", err)
		return errLogged{err}
	}
	log.Info("ready", "rest", w.Addr())
	select {
	case <-ctx.Done():
		log.Info("signal received; stopping the connect worker")
	case <-w.Done():
		log.Error("connect REST API stopped serving", "err", w.Err())
	}
	sctx, scancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), opts.shutdownTimeout)
	defer scancel()
	return w.Shutdown(sctx)
}
