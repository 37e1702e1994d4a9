package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
)

// The distributed worker properties, Kafka's names, into the herder's
// configuration; bad values are refused with Kafka's wording.
func TestDistributedConfigFromProperties(t *testing.T) {
	hostname, _ := os.Hostname()
	bound := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8083}
	wildcard := &net.TCPAddr{IP: net.IPv4zero, Port: 9000}
	for _, c := range []struct {
		name    string
		props   connect.Config
		scheme  string // the listener's; http when empty
		bound   net.Addr
		check   func(t *testing.T, got string, workerID string, delay time.Duration)
		wantErr string
	}{
		{name: "defaults", props: connect.Config{}, bound: bound, check: func(t *testing.T, _ string, id string, delay time.Duration) {
			if id != "127.0.0.1:8083" || delay != 0 {
				t.Errorf("worker id %q, delay %v", id, delay)
			}
		}},
		{name: "every interface advertises the host name", props: connect.Config{}, bound: wildcard, check: func(t *testing.T, _ string, id string, _ time.Duration) {
			if id != net.JoinHostPort(hostname, "9000") {
				t.Errorf("worker id %q", id)
			}
		}},
		{name: "advertised host and port", props: connect.Config{"rest.advertised.host.name": "w1.example", "rest.advertised.port": "18083"}, bound: bound,
			check: func(t *testing.T, url string, id string, _ time.Duration) {
				if id != "w1.example:18083" || url != "http://w1.example:18083/" {
					t.Errorf("worker id %q url %q", id, url)
				}
			}},
		{name: "an https listener advertises https", props: connect.Config{}, scheme: "https", bound: bound,
			check: func(t *testing.T, url string, id string, _ time.Duration) {
				if id != "127.0.0.1:8083" || url != "https://127.0.0.1:8083/" {
					t.Errorf("worker id %q url %q", id, url)
				}
			}},
		{name: "rest.advertised.listener", props: connect.Config{"rest.advertised.listener": "HTTPS", "rest.advertised.host.name": "w2.example", "rest.advertised.port": "443"}, bound: bound,
			check: func(t *testing.T, url string, id string, _ time.Duration) {
				if id != "w2.example:443" || url != "https://w2.example:443/" {
					t.Errorf("worker id %q url %q", id, url)
				}
			}},
		{name: "bad advertised listener", props: connect.Config{"rest.advertised.listener": "tcp"}, bound: bound,
			wantErr: "Invalid value tcp for configuration rest.advertised.listener: String must be one of: http, https"},
		{name: "zero delay is no delay", props: connect.Config{"scheduled.rebalance.max.delay.ms": "0"}, bound: bound, check: func(t *testing.T, _ string, _ string, delay time.Duration) {
			if delay >= 0 {
				t.Errorf("delay %v, want negative (none)", delay)
			}
		}},
		{name: "bad protocol", props: connect.Config{"connect.protocol": "fast"}, bound: bound,
			wantErr: "Invalid value fast for configuration connect.protocol: String must be one of: eager, compatible, sessioned"},
		{name: "bad number", props: connect.Config{"offset.storage.partitions": "many"}, bound: bound,
			wantErr: "Invalid value many for configuration offset.storage.partitions: Not a number of type INT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			scheme := c.scheme
			if scheme == "" {
				scheme = "http"
			}
			cfg, err := distributedConfig("g", c.props, scheme, c.bound, []string{"k:9092"}, nil)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Member.GroupID != "g" || len(cfg.Brokers) != 1 {
				t.Errorf("config %+v", cfg)
			}
			c.check(t, cfg.URL, cfg.WorkerID, cfg.Member.MaxDelay)
		})
	}
	cfg, err := distributedConfig("g", connect.Config{
		"offset.storage.topic": "o", "offset.storage.partitions": "3", "offset.storage.replication.factor": "1",
		"config.storage.topic": "c", "status.storage.topic": "s", "status.storage.partitions": "2",
		"connect.protocol": "eager", "session.timeout.ms": "1000", "heartbeat.interval.ms": "100", "rebalance.timeout.ms": "5000",
		"scheduled.rebalance.max.delay.ms": "2000",
	}, "http", bound, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Offsets.Topic != "o" || cfg.Offsets.Partitions != 3 || cfg.Offsets.ReplicationFactor != 1 || cfg.Configs.Topic != "c" ||
		cfg.Statuses.Topic != "s" || cfg.Statuses.Partitions != 2 || cfg.Member.Protocol != "eager" ||
		cfg.Member.SessionTimeout != time.Second || cfg.Member.HeartbeatInterval != 100*time.Millisecond ||
		cfg.Member.RebalanceTimeout != 5*time.Second || cfg.Member.MaxDelay != 2*time.Second {
		t.Errorf("config %+v", cfg)
	}
}

// bridge connect --group-id runs a distributed worker against a Kafka
// cluster it did not start (kfake): it creates the internal topics, joins
// the group and serves the REST API from them; group.id in the worker
// properties does the same, and connector files are refused there.
func TestConnectCommandDistributed(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	worker := filepath.Join(dir, "worker.properties")
	props := "group.id=props-group\nbootstrap.servers=" + c.ListenAddrs()[0] + "\nconfig.storage.topic=my-configs\n"
	if err := os.WriteFile(worker, []byte(props), 0o600); err != nil {
		t.Fatal(err)
	}
	conn := filepath.Join(dir, "conn.properties")
	if err := os.WriteFile(conn, []byte("name=c\nconnector.class=FileStreamSink\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	if code := run(context.Background(), []string{"connect", worker, conn}, io.Discard, &stderr, noEnv); code == 0 || !strings.Contains(stderr.String(), "distributed mode (group.id) takes only the worker properties") {
		t.Errorf("a connector file in distributed mode: exit %d, %s", code, stderr.String())
	}

	base, stop := runConnectCmd(t, worker)
	defer stop()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(base + "/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health still %d", resp.StatusCode)
		}
	}
	var names []string
	getJSON(t, base+"/connectors", &names)
	if len(names) != 0 {
		t.Errorf("connectors %v", names)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topics, err := kadm.NewClient(cl).ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"my-configs", "connect-offsets", "connect-status"} {
		if !topics.Has(want) {
			t.Errorf("topic %s not created; topics %v", want, topics.Names())
		}
	}
	groups, err := kadm.NewClient(cl).ListGroups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := groups["props-group"]; !ok || g.ProtocolType != "connect" {
		t.Errorf("groups %+v", groups)
	}
}
