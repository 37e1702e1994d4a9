package kinesis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// shardInfo is what the source connector knows of a shard and hands its
// task: enough to order parents before children without another call.
type shardInfo struct {
	ID             string `json:"id"`
	Parent         string `json:"parent,omitempty"`
	AdjacentParent string `json:"adjacentParent,omitempty"`
	// Closed shards have an ending sequence number: resharding closed them.
	Closed bool `json:"closed,omitempty"`
	// ClosedAtStart marks a shard that was already closed when the
	// connector started: with kinesis.position=LATEST, one the connector
	// never read is skipped rather than read, and so are its children.
	ClosedAtStart bool `json:"closedAtStart,omitempty"`
	// StartingHashKey orders open shards for the sink's explicit hash keys.
	StartingHashKey string `json:"-"`
}

// parents returns the shard's parents, if any.
func (s shardInfo) parents() []string {
	var out []string
	for _, p := range []string{s.Parent, s.AdjacentParent} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// listShards returns every shard of the stream that ListShards reports (all
// shards within the retention period, open and closed), in the order
// Kinesis lists them.
func listShards(ctx context.Context, client *awskinesis.Client, stream string) ([]shardInfo, error) {
	var out []shardInfo
	in := &awskinesis.ListShardsInput{StreamName: aws.String(stream)}
	for {
		resp, err := client.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ListShards %s: %w", stream, err)
		}
		for _, s := range resp.Shards {
			info := shardInfo{
				ID:             aws.ToString(s.ShardId),
				Parent:         aws.ToString(s.ParentShardId),
				AdjacentParent: aws.ToString(s.AdjacentParentShardId),
			}
			if r := s.SequenceNumberRange; r != nil && r.EndingSequenceNumber != nil {
				info.Closed = true
			}
			if r := s.HashKeyRange; r != nil {
				info.StartingHashKey = aws.ToString(r.StartingHashKey)
			}
			out = append(out, info)
		}
		if resp.NextToken == nil || len(resp.Shards) == 0 {
			return out, nil
		}
		// ListShards refuses StreamName together with NextToken.
		in = &awskinesis.ListShardsInput{NextToken: resp.NextToken}
	}
}

// shardSignature identifies a listing for change detection: which shards
// exist and which are closed.
func shardSignature(shards []shardInfo) string {
	ids := make([]string, len(shards))
	for i, s := range shards {
		ids[i] = s.ID
		if s.Closed {
			ids[i] += "/closed"
		}
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

// assignShards splits shards over at most maxTasks tasks. A shard and every
// listed shard it descends from or begat (its lineage, joined across merges)
// go to the same task, so the task that reads a child has read its parents
// and knows, without asking anyone, when they are finished. Lineages are
// dealt largest first to the task with fewest shards; a stream that never
// resharded has one lineage per shard. It returns nil when there are no
// shards.
func assignShards(shards []shardInfo, maxTasks int) [][]shardInfo {
	if len(shards) == 0 || maxTasks < 1 {
		return nil
	}
	index := make(map[string]int, len(shards))
	for i, s := range shards {
		index[s.ID] = i
	}
	root := make([]int, len(shards))
	for i := range root {
		root[i] = i
	}
	find := func(i int) int {
		for root[i] != i {
			root[i] = root[root[i]]
			i = root[i]
		}
		return i
	}
	for i, s := range shards {
		for _, p := range s.parents() {
			if j, ok := index[p]; ok {
				a, b := find(i), find(j)
				root[max(a, b)] = min(a, b)
			}
		}
	}
	groups := map[int][]shardInfo{}
	var order []int
	for i, s := range shards {
		r := find(i)
		if _, seen := groups[r]; !seen {
			order = append(order, r)
		}
		groups[r] = append(groups[r], s)
	}
	// Largest lineage first; ties keep listing order, so the split is stable.
	slices.SortStableFunc(order, func(a, b int) int { return len(groups[b]) - len(groups[a]) })
	tasks := make([][]shardInfo, min(maxTasks, len(order)))
	for _, r := range order {
		least := 0
		for i := range tasks {
			if len(tasks[i]) < len(tasks[least]) {
				least = i
			}
		}
		tasks[least] = append(tasks[least], groups[r]...)
	}
	return tasks
}

// encodeShards and decodeShards carry a task's shards in its configuration.
func encodeShards(shards []shardInfo) string {
	b, _ := json.Marshal(shards)
	return string(b)
}

func decodeShards(s string) ([]shardInfo, error) {
	var out []shardInfo
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("%s: %w", shardsConfig, err)
	}
	return out, nil
}

// shardIndex returns the number at the end of a shard id
// (shardId-000000000007 is 7), the Kafka partition of kafka.partition=preserve.
func shardIndex(id string) (int32, error) {
	n, err := strconv.ParseInt(id[strings.LastIndexByte(id, '-')+1:], 10, 32)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("shard id %q does not end in a number: kafka.partition=preserve needs one", id)
	}
	return int32(n), nil
}
