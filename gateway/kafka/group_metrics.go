package kafka

// The coordinator's bridge_kafka_* metrics. They are registered when the
// coordinator is made (the server's first group request, or the first after
// a restart) and unregistered when it closes: Server has no hook at New for
// them (see group.go).

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	groupsDesc = prometheus.NewDesc("bridge_kafka_consumer_groups",
		"Consumer groups this node coordinates, by state.", []string{"state"}, nil)
	membersDesc = prometheus.NewDesc("bridge_kafka_consumer_group_members",
		"Members of the consumer groups, all groups together.", nil, nil)
	rebalancesDesc = prometheus.NewDesc("bridge_kafka_consumer_group_rebalances_total",
		"Join phases completed: new generations of consumer groups.", nil, nil)
	expiriesDesc = prometheus.NewDesc("bridge_kafka_consumer_group_member_expiries_total",
		"Members removed because their session ended without a heartbeat (crashed or stuck clients).", nil, nil)
	commitsDesc = prometheus.NewDesc("bridge_kafka_offset_commits_total",
		"Partition offsets committed and stored.", nil, nil)
)

// groupCounters are the coordinator's running totals.
type groupCounters struct {
	rebalances atomic.Int64
	expiries   atomic.Int64
	commits    atomic.Int64
}

// groupCollector reports one coordinator's groups.
type groupCollector struct{ c *coordinator }

func (gc groupCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{groupsDesc, membersDesc, rebalancesDesc, expiriesDesc, commitsDesc} {
		ch <- d
	}
}

func (gc groupCollector) Collect(ch chan<- prometheus.Metric) {
	byState := map[groupState]int{}
	members := 0
	for _, g := range gc.c.all() {
		g.mu.Lock()
		if !g.gone {
			byState[g.state]++
			members += len(g.members)
			if g.cg != nil {
				members += len(g.cg.members) // KIP-848 members
			}
		}
		g.mu.Unlock()
	}
	for _, s := range []groupState{groupEmpty, groupPreparingRebalance, groupCompletingRebalance, groupStable} {
		ch <- prometheus.MustNewConstMetric(groupsDesc, prometheus.GaugeValue, float64(byState[s]), s.String())
	}
	ch <- prometheus.MustNewConstMetric(membersDesc, prometheus.GaugeValue, float64(members))
	ch <- prometheus.MustNewConstMetric(rebalancesDesc, prometheus.CounterValue, float64(gc.c.counters.rebalances.Load()))
	ch <- prometheus.MustNewConstMetric(expiriesDesc, prometheus.CounterValue, float64(gc.c.counters.expiries.Load()))
	ch <- prometheus.MustNewConstMetric(commitsDesc, prometheus.CounterValue, float64(gc.c.counters.commits.Load()))
}

// registerMetrics registers the coordinator's collector; it returns the
// function that unregisters it.
func (c *coordinator) registerMetrics() func() {
	reg := c.s.cfg.Registerer
	if reg == nil {
		return func() {}
	}
	col := groupCollector{c}
	if err := reg.Register(col); err != nil {
		c.s.log.Warn("kafka: consumer group metrics not registered", "err", err)
		return func() {}
	}
	return func() { reg.Unregister(col) }
}
