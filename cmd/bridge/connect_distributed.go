package main

// Distributed mode of `bridge connect` (--group-id or the worker
// properties' group.id): the worker properties Kafka's
// connect-distributed.properties has, read into the distributed herder's
// configuration.

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/distributed"
	"github.com/streambridge/bridge/connect/herder"
	"github.com/streambridge/bridge/connect/restsec"
)

// distributedConfig reads the distributed worker settings of props;
// scheme (http or https) and bound are the REST listener's, the defaults
// of the advertised URL (Kafka's rest.advertised.listener,
// rest.advertised.host.name, rest.advertised.port).
func distributedConfig(groupID string, props connect.Config, scheme string, bound net.Addr, bootstrap []string, adm *kadm.Client) (herder.DistributedConfig, error) {
	var cfg herder.DistributedConfig
	var errs []string
	str := func(key string) string { return strings.TrimSpace(props[key]) }
	num := func(key string, bits int) int64 {
		v := str(key)
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, bits)
		if err != nil {
			errs = append(errs, fmt.Sprintf("Invalid value %s for configuration %s: Not a number of type %s", v, key, map[int]string{16: "SHORT", 32: "INT", 64: "LONG"}[bits]))
		}
		return n
	}
	millis := func(key string) time.Duration { return time.Duration(num(key, 64)) * time.Millisecond }
	cfg.Brokers = bootstrap
	cfg.Member.GroupID = groupID
	cfg.Member.Protocol = str("connect.protocol")
	cfg.Member.SessionTimeout = millis("session.timeout.ms")
	cfg.Member.HeartbeatInterval = millis("heartbeat.interval.ms")
	cfg.Member.RebalanceTimeout = millis("rebalance.timeout.ms")
	if str("scheduled.rebalance.max.delay.ms") != "" {
		cfg.Member.MaxDelay = millis("scheduled.rebalance.max.delay.ms")
		if cfg.Member.MaxDelay == 0 {
			cfg.Member.MaxDelay = -1 // 0 is "no delay", not "the default"
		}
	}
	cfg.Offsets = distributed.Options{Topic: str("offset.storage.topic"), Partitions: int32(num("offset.storage.partitions", 32)), ReplicationFactor: int16(num("offset.storage.replication.factor", 16))}
	cfg.Configs = distributed.Options{Topic: str("config.storage.topic"), ReplicationFactor: int16(num("config.storage.replication.factor", 16))}
	cfg.Statuses = distributed.Options{Topic: str("status.storage.topic"), Partitions: int32(num("status.storage.partitions", 32)), ReplicationFactor: int16(num("status.storage.replication.factor", 16))}
	if eos, err := herder.ParseExactlyOnceSourceSupport(props["exactly.once.source.support"]); err != nil {
		errs = append(errs, err.Error())
	} else {
		cfg.ExactlyOnceSource = eos
	}
	switch cfg.Member.Protocol {
	case "", "sessioned", "compatible", "eager":
	default:
		errs = append(errs, fmt.Sprintf("Invalid value %s for configuration connect.protocol: String must be one of: eager, compatible, sessioned", cfg.Member.Protocol))
	}
	host, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return cfg, err
	}
	if h := str("rest.advertised.host.name"); h != "" {
		host = h
	} else if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		// Bound to every interface: Kafka advertises the host's name.
		if host, err = os.Hostname(); err != nil {
			return cfg, fmt.Errorf("rest.advertised.host.name is unset and the host name is unknown: %w", err)
		}
	}
	if p := num("rest.advertised.port", 32); p > 0 {
		port = strconv.FormatInt(p, 10)
	}
	scheme, err = restsec.AdvertisedScheme(props, scheme)
	if err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	cfg.WorkerID = net.JoinHostPort(host, port)
	cfg.URL = scheme + "://" + cfg.WorkerID + "/"
	cfg.Groups = herder.KafkaGroups{Admin: adm}
	cfg.ClusterID = func(ctx context.Context) (string, error) {
		m, err := adm.BrokerMetadata(ctx)
		return m.Cluster, err
	}
	return cfg, nil
}
