package kinesis

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streambridge/bridge/connect"
)

// SourceConnector lists the stream's shards, splits them over tasks by
// lineage (assignShards), and lists them again every
// kinesis.shard.discovery.interval.ms: when a shard appears, closes or
// expires it asks the runtime for new task configurations.
type SourceConnector struct {
	mu     sync.Mutex
	cfg    connect.Config
	shards []shardInfo
	// closedAtStart are the shards closed in the first listing.
	closedAtStart map[string]bool

	client *awskinesis.Client
	stream string
	cancel context.CancelFunc
	done   chan struct{}
}

// Validate implements connect.ConnectorValidator: AT_TIMESTAMP needs its
// timestamp, and EFO a consumer name (the connector's, unless set).
func (c *SourceConnector) Validate(cfg connect.Config) map[string][]string {
	errs := map[string][]string{}
	if cfg[PositionConfig] == positionAtTimestamp && cfg[PositionTimeConfig] == "" {
		errs[PositionTimeConfig] = []string{
			fmt.Sprintf("Missing required configuration %q which has no default value.", PositionTimeConfig)}
	}
	if cfg[ConsumerTypeConfig] == consumerEFO && cfg[ConsumerNameConfig] == "" && !consumerNamePattern.MatchString(defaultConsumerName(cfg["name"])) {
		errs[ConsumerNameConfig] = []string{fmt.Sprintf(
			"The connector name %q is not a valid stream consumer name (1 to 128 of a-z, A-Z, 0-9, _ . -): set %s.", cfg["name"], ConsumerNameConfig)}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Start implements connect.Connector.
func (c *SourceConnector) Start(ctx context.Context, cc connect.ConnectorContext, cfg connect.Config) error {
	vals, err := parse(SourceDef(), cfg)
	if err != nil {
		return err
	}
	if errs := c.Validate(cfg); errs != nil {
		for _, k := range []string{PositionTimeConfig, ConsumerNameConfig} {
			if len(errs[k]) > 0 {
				return fmt.Errorf("invalid configuration: %v", errs[k][0])
			}
		}
	}
	c.client, err = newClient(ctx, vals)
	if err != nil {
		return err
	}
	c.stream = vals.String(StreamConfig)
	if vals.String(ConsumerTypeConfig) == consumerEFO {
		// Registered (and ACTIVE) before any task starts, so that a
		// consumer that cannot be registered fails the connector.
		name := vals.String(ConsumerNameConfig)
		if name == "" {
			name = defaultConsumerName(cfg["name"])
		}
		if _, err := ensureConsumer(ctx, c.client, c.stream, name); err != nil {
			return err
		}
	}
	shards, err := listShards(ctx, c.client, c.stream)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.cfg = maps.Clone(cfg)
	c.shards = shards
	c.closedAtStart = map[string]bool{}
	for _, s := range shards {
		if s.Closed {
			c.closedAtStart[s.ID] = true
		}
	}
	c.mu.Unlock()

	loopCtx, cancel := context.WithCancel(ctx)
	c.cancel, c.done = cancel, make(chan struct{})
	go c.discover(loopCtx, cc, vals.Millis(DiscoveryConfig))
	return nil
}

// discover lists the shards every interval and asks for reconfiguration
// when the listing changed. A stream that is gone fails the connector;
// other failures are logged and the next round tries again.
func (c *SourceConnector) discover(ctx context.Context, cc connect.ConnectorContext, every time.Duration) {
	defer close(c.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		shards, err := listShards(ctx, c.client, c.stream)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !transient(err) {
				cc.RaiseError(err)
				return
			}
			slog.Warn("kinesis source: shard discovery failed", "stream", c.stream, "err", err)
			continue
		}
		c.mu.Lock()
		changed := shardSignature(shards) != shardSignature(c.shards)
		if changed {
			c.shards = shards
		}
		c.mu.Unlock()
		if changed {
			cc.RequestTaskReconfiguration()
		}
	}
}

// TaskConfigs implements connect.Connector: each task gets the connector's
// configuration and its shards.
func (c *SourceConnector) TaskConfigs(maxTasks int) ([]connect.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []connect.Config
	for _, shards := range assignShards(c.shards, maxTasks) {
		for i := range shards {
			shards[i].ClosedAtStart = c.closedAtStart[shards[i].ID]
		}
		cfg := maps.Clone(c.cfg)
		cfg[shardsConfig] = encodeShards(shards)
		out = append(out, cfg)
	}
	return out, nil
}

// Stop implements connect.Connector.
func (c *SourceConnector) Stop() error {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
	return nil
}

// NewTask implements connect.SourceConnector.
func (c *SourceConnector) NewTask() connect.SourceTask { return &SourceTask{} }
