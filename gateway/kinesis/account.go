// Account settings: DescribeAccountSettings and UpdateAccountSettings.
//
// The one account setting is the minimum throughput billing commitment,
// which AWS requires before ON_DEMAND streams may have a warm throughput
// (capacity.go). It follows AWS's documented life cycle:
//
//   - never enabled: DISABLED, no timestamps;
//   - enabled: ENABLED from StartedAt, EarliestAllowedEndAt 24 hours later;
//   - disabled before EarliestAllowedEndAt: ENABLED_UNTIL_EARLIEST_ALLOWED_END
//     until then, DISABLED after, with EndedAt = EarliestAllowedEndAt;
//     enabling it again meanwhile cancels the pending end;
//   - disabled after EarliestAllowedEndAt: DISABLED at once, EndedAt = now.
//
// Enabling an enabled commitment and disabling a disabled one change
// nothing. The record lives in the store's state area (namespace
// kinesis.account), so it survives restarts. Nothing is billed: the
// commitment only unlocks warm throughput, as in AWS.
package kinesis

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/streambridge/bridge/store"
)

const (
	accountNamespace = "kinesis.account"
	commitmentKey    = "minimum-throughput-billing-commitment"
	// commitmentMinimum is how long a commitment must last before it ends.
	commitmentMinimum = 24 * time.Hour
)

// Commitment statuses.
const (
	commitmentEnabled      = "ENABLED"
	commitmentDisabled     = "DISABLED"
	commitmentEnabledUntil = "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
)

// accountMu serializes commitment changes (a read and a write each).
var accountMu sync.Mutex

// commitmentRecord is what the state area keeps: when the commitment
// started and when it ends (or ended); zero for never.
type commitmentRecord struct {
	Started int64 `json:"s,omitempty"` // Unix ms
	Ends    int64 `json:"e,omitempty"` // Unix ms
}

type commitmentOutput struct {
	Status               string     `json:"Status"`
	StartedAt            *Timestamp `json:"StartedAt,omitempty"`
	EndedAt              *Timestamp `json:"EndedAt,omitempty"`
	EarliestAllowedEndAt *Timestamp `json:"EarliestAllowedEndAt,omitempty"`
}

type accountSettingsOutput struct {
	MinimumThroughputBillingCommitment *commitmentOutput `json:"MinimumThroughputBillingCommitment,omitempty"`
}

type describeAccountSettingsInput struct{}

type updateAccountSettingsInput struct {
	MinimumThroughputBillingCommitment *struct {
		Status *string `json:"Status,omitempty"`
	} `json:"MinimumThroughputBillingCommitment,omitempty"`
}

func init() {
	register("DescribeAccountSettings", describeAccountSettings)
	register("UpdateAccountSettings", updateAccountSettings)
}

func (h *Handler) loadCommitment(ctx context.Context) (commitmentRecord, error) {
	var rec commitmentRecord
	raw, err := h.store.Get(ctx, accountNamespace, commitmentKey)
	if errors.Is(err, store.ErrNotFound) {
		return rec, nil
	}
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return rec, err
	}
	return rec, nil
}

// status returns the commitment's status at now.
func (c commitmentRecord) status(now time.Time) string {
	switch {
	case c.Started == 0:
		return commitmentDisabled
	case c.Ends == 0:
		return commitmentEnabled
	case now.UnixMilli() < c.Ends:
		return commitmentEnabledUntil
	}
	return commitmentDisabled
}

func (c commitmentRecord) output(now time.Time) *commitmentOutput {
	out := &commitmentOutput{Status: c.status(now)}
	if c.Started == 0 {
		return out
	}
	started := time.UnixMilli(c.Started)
	out.StartedAt = &Timestamp{Time: started}
	if out.Status == commitmentDisabled {
		out.EndedAt = &Timestamp{Time: time.UnixMilli(c.Ends)}
	} else {
		out.EarliestAllowedEndAt = &Timestamp{Time: started.Add(commitmentMinimum)}
	}
	return out
}

// committed reports whether the account's commitment is in force now, as
// warm throughput requires.
func (h *Handler) committed(ctx context.Context) (bool, error) {
	c, err := h.loadCommitment(ctx)
	if err != nil {
		return false, err
	}
	return c.status(h.now()) != commitmentDisabled, nil
}

func describeAccountSettings(ctx context.Context, h *Handler, in *describeAccountSettingsInput) (*accountSettingsOutput, error) {
	c, err := h.loadCommitment(ctx)
	if err != nil {
		return nil, err
	}
	return &accountSettingsOutput{MinimumThroughputBillingCommitment: c.output(h.now())}, nil
}

func updateAccountSettings(ctx context.Context, h *Handler, in *updateAccountSettingsInput) (*accountSettingsOutput, error) {
	var v validator
	if c := in.MinimumThroughputBillingCommitment; v.required("minimumThroughputBillingCommitment", c != nil) {
		v.required("minimumThroughputBillingCommitment.status", c.Status != nil)
		v.oneOf("minimumThroughputBillingCommitment.status", c.Status, commitmentEnabled, commitmentDisabled)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	accountMu.Lock()
	defer accountMu.Unlock()
	c, err := h.loadCommitment(ctx)
	if err != nil {
		return nil, err
	}
	now := h.now()
	current := c.status(now)
	switch want := *in.MinimumThroughputBillingCommitment.Status; {
	case want == commitmentEnabled && current == commitmentDisabled:
		c = commitmentRecord{Started: now.UnixMilli()}
	case want == commitmentEnabled && current == commitmentEnabledUntil:
		c.Ends = 0
	case want == commitmentDisabled && current == commitmentEnabled:
		c.Ends = max(now.UnixMilli(), time.UnixMilli(c.Started).Add(commitmentMinimum).UnixMilli())
	}
	value, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	if err := h.store.Update(ctx, store.KV{Namespace: accountNamespace, Key: commitmentKey, Value: value}); err != nil {
		return nil, err
	}
	return &accountSettingsOutput{MinimumThroughputBillingCommitment: c.output(now)}, nil
}
