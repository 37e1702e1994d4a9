package kinesis

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/store"
)

// noSplitStore is a backend that cannot split shards, as one over a Kafka
// cluster cannot: its SplitShard says so with store.ErrUnsupported.
type noSplitStore struct{ store.Store }

func (noSplitStore) SplitShard(context.Context, string, int, mapping.HashKey) (store.Stream, error) {
	return store.Stream{}, &store.UnsupportedError{Backend: "test", Op: "SplitShard"}
}

// A backend's unsupported operation reaches an AWS SDK as Kinesis's own
// refusal (InvalidArgumentException with the reason), through the front end
// over the store interface; the rest of the API keeps working.
func TestUnsupportedBackendOperation(t *testing.T) {
	ts := startTestServer(t, func(c *Config) { c.Store = noSplitStore{c.Store} })
	dataStream(t, ts, "s", 1)
	kc := ts.client()
	_, err := kc.SplitShard(t.Context(), &awskinesis.SplitShardInput{
		StreamName:         aws.String("s"),
		ShardToSplit:       aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("170141183460469231731687303715884105728"),
	})
	apiError(t, err, errInvalidArgument, "SplitShard is not supported by the test backend")
	putN(t, kc, "s", "after", 3)
}
