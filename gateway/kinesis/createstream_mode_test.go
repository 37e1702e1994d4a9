package kinesis

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestCreateStreamModeDefaults: the capacity mode and shard count a
// CreateStream gets from what it says and leaves out, as AWS decides them.
func TestCreateStreamModeDefaults(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	for i, tc := range []struct {
		name       string
		shardCount *int32
		mode       types.StreamMode // "" leaves StreamModeDetails out
		wantMode   types.StreamMode
		wantShards int
	}{
		{"nothing", nil, "", types.StreamModeOnDemand, onDemandShards},
		{"shard count only", aws.Int32(3), "", types.StreamModeProvisioned, 3},
		{"on-demand", nil, types.StreamModeOnDemand, types.StreamModeOnDemand, onDemandShards},
		{"on-demand with shards", aws.Int32(2), types.StreamModeOnDemand, types.StreamModeOnDemand, 2},
		{"provisioned", aws.Int32(1), types.StreamModeProvisioned, types.StreamModeProvisioned, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("mode-%d", i)
			in := &awskinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: tc.shardCount}
			if tc.mode != "" {
				in.StreamModeDetails = &types.StreamModeDetails{StreamMode: tc.mode}
			}
			if _, err := kc.CreateStream(t.Context(), in); err != nil {
				t.Fatal(err)
			}
			d := cpDescribe(t, kc, name)
			if d.StreamModeDetails.StreamMode != tc.wantMode || len(d.Shards) != tc.wantShards {
				t.Fatalf("mode %s with %d shards, want %s with %d", d.StreamModeDetails.StreamMode, len(d.Shards), tc.wantMode, tc.wantShards)
			}
		})
	}
	// PROVISIONED still needs its shard count.
	status, out := ts.call(t, "CreateStream", map[string]any{"StreamName": "p0", "StreamModeDetails": map[string]any{"StreamMode": "PROVISIONED"}})
	cpRawErr(t, status, out, errValidation,
		"1 validation error detected: Value null at 'shardCount' failed to satisfy constraint: Member must not be null")
}
