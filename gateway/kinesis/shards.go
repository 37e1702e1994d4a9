// ListShards, and the shard descriptions DescribeStream and ListShards
// share.
//
// A shard is described from the store's layout: its id, parents, hash key
// range and sequence number range (EndingSequenceNumber once closed: the
// number of its last record, or of its start when it closed empty). Shards
// come in index order, which is creation order, as AWS lists them.
//
// ListShards pages with MaxResults (1-10000, default 1000) and either
// ExclusiveStartShardId or an opaque NextToken that expires after 300 s
// (ExpiredNextTokenException) and may not come with StreamName. ShardFilter
// follows the API reference, using the times at which shards opened and
// closed (recorded by this API's resharding in the stream's Config):
//
//   - AFTER_SHARD_ID: the shards after ShardId;
//   - AT_TRIM_HORIZON: the shards open at the trim horizon (now minus the
//     retention period, or the stream's creation if later);
//   - FROM_TRIM_HORIZON (the default): every shard within the retention
//     period;
//   - AT_LATEST: the open shards;
//   - AT_TIMESTAMP: the shards open at Timestamp;
//   - FROM_TIMESTAMP: the shards open at or after Timestamp (moved up to the
//     trim horizon when earlier).
//
// Expired shards. AWS drops a closed shard from listings once the retention
// period has passed since it closed. The bridge does the same, and also
// drops a closed shard whose records have all been trimmed (by retention by
// size, or Kafka DeleteRecords). Shards made by Kafka CreatePartitions have
// no recorded times: they count as opened when their parent closed (or with
// the stream) and, once closed, expire only with their records.
package kinesis

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/store"
)

// hashKeyRange, sequenceNumberRange and shardDescription are the API's
// HashKeyRange, SequenceNumberRange and Shard.
type hashKeyRange struct {
	StartingHashKey string `json:"StartingHashKey"`
	EndingHashKey   string `json:"EndingHashKey"`
}

type sequenceNumberRange struct {
	StartingSequenceNumber string `json:"StartingSequenceNumber"`
	EndingSequenceNumber   string `json:"EndingSequenceNumber,omitempty"`
}

type shardDescription struct {
	ShardId               string              `json:"ShardId"`
	ParentShardId         string              `json:"ParentShardId,omitempty"`
	AdjacentParentShardId string              `json:"AdjacentParentShardId,omitempty"`
	HashKeyRange          hashKeyRange        `json:"HashKeyRange"`
	SequenceNumberRange   sequenceNumberRange `json:"SequenceNumberRange"`
}

// describeShard returns the API's description of sh.
func describeShard(sh store.Shard) shardDescription {
	d := shardDescription{
		ShardId: sh.ID(),
		HashKeyRange: hashKeyRange{
			StartingHashKey: sh.HashRange.Start.String(),
			EndingHashKey:   sh.HashRange.End.String(),
		},
		SequenceNumberRange: sequenceNumberRange{
			StartingSequenceNumber: sh.StartingSequenceNumber(),
			EndingSequenceNumber:   sh.EndingSequenceNumber(),
		},
	}
	if sh.Parent != store.NoShard {
		d.ParentShardId = shardIDOf(sh.Parent)
	}
	if sh.AdjacentParent != store.NoShard {
		d.AdjacentParentShardId = shardIDOf(sh.AdjacentParent)
	}
	return d
}

func shardIDOf(index int) string { return store.Shard{Index: index}.ID() }

// maxShardRef bounds the shard numbers AWS accepts in a shard id.
const maxShardRef = 1<<31 - 1

// parseShardRef reads a shard id the lenient way AWS does: the digits after
// the first '-' (shardId-000000000001, shard-1, anything-1), or the whole
// string when there is no '-' (1), as a number below 2^31.
func parseShardRef(s string) (int, bool) {
	part := s
	if _, rest, found := strings.Cut(s, "-"); found {
		rest, _, _ = strings.Cut(rest, "-")
		if rest != "" {
			part = rest
		}
	}
	if part == "" || len(part) > 20 {
		return 0, false
	}
	for i := 0; i < len(part); i++ {
		if part[i] < '0' || part[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(part, 10, 64)
	if err != nil || n > maxShardRef {
		return 0, false
	}
	return int(n), true
}

// shardNotFound is AWS's message for a shard a stream does not have; id is
// the normalized id when the reference parsed, the raw one otherwise.
func (h *Handler) shardNotFound(stream, id string) *Error {
	return resourceNotFound("Could not find shard %s in stream %s under account %s.", id, stream, h.cfg.Account)
}

// lookupShard resolves a shard reference of a stream.
func (h *Handler) lookupShard(st store.Stream, ref string) (store.Shard, error) {
	idx, ok := parseShardRef(ref)
	if !ok {
		return store.Shard{}, h.shardNotFound(st.Name, ref)
	}
	sh, ok := st.Shard(idx)
	if !ok {
		return store.Shard{}, h.shardNotFound(st.Name, shardIDOf(idx))
	}
	return sh, nil
}

// cfgShardTimePrefix keys the times a shard opened and closed:
// kinesis.shard-time.<index> = "<opened unix ms>,<closed unix ms>", the
// closed part empty while open.
const cfgShardTimePrefix = cfgPrefix + "shard-time."

// recordShardTimes notes, on st after a reshard, when the shards the reshard
// made opened and when the ones it closed closed.
func recordShardTimes(st *store.Stream, before store.Stream, at time.Time) {
	ms := strconv.FormatInt(at.UnixMilli(), 10)
	if st.Config == nil {
		st.Config = map[string]string{}
	}
	for _, sh := range st.Shards {
		key := cfgShardTimePrefix + strconv.Itoa(sh.Index)
		switch {
		case sh.Index >= len(before.Shards):
			st.Config[key] = ms + ","
		case before.Shards[sh.Index].IsOpen() && !sh.IsOpen():
			opened, _, _ := strings.Cut(st.Config[key], ",")
			st.Config[key] = opened + "," + ms
		}
	}
}

// shardClock knows when each shard of a stream opened and closed, from
// recorded times where there are some and from the layout otherwise.
type shardClock struct {
	st       store.Stream
	children map[int]int // parent (or adjacent parent) index -> a child's index
}

func newShardClock(st store.Stream) *shardClock {
	c := &shardClock{st: st, children: map[int]int{}}
	for _, sh := range st.Shards {
		for _, p := range []int{sh.Parent, sh.AdjacentParent} {
			if _, seen := c.children[p]; p != store.NoShard && !seen {
				c.children[p] = sh.Index
			}
		}
	}
	return c
}

// recorded returns the recorded open and close times of a shard, 0 when
// not recorded.
func (c *shardClock) recorded(index int) (opened, closed int64) {
	v := c.st.Config[cfgShardTimePrefix+strconv.Itoa(index)]
	o, cl, _ := strings.Cut(v, ",")
	opened, _ = strconv.ParseInt(o, 10, 64)
	closed, _ = strconv.ParseInt(cl, 10, 64)
	return opened, closed
}

// openedAt returns when a shard opened, in Unix milliseconds.
func (c *shardClock) openedAt(sh store.Shard) int64 {
	for {
		if opened, _ := c.recorded(sh.Index); opened > 0 {
			return opened
		}
		if sh.Parent == store.NoShard {
			return c.st.Created.UnixMilli()
		}
		parent, ok := c.st.Shard(sh.Parent)
		if !ok {
			return c.st.Created.UnixMilli()
		}
		if closed, ok := c.closedAt(parent); ok {
			return closed
		}
		sh = parent
	}
}

// closedAt returns when a closed shard closed; false while it is open or
// when nothing recorded it.
func (c *shardClock) closedAt(sh store.Shard) (int64, bool) {
	if sh.IsOpen() {
		return 0, false
	}
	if _, closed := c.recorded(sh.Index); closed > 0 {
		return closed, true
	}
	if child, ok := c.children[sh.Index]; ok {
		if opened, _ := c.recorded(child); opened > 0 {
			return opened, true
		}
	}
	return 0, false
}

// shardLister filters a stream's shards at one moment.
type shardLister struct {
	ctx   context.Context // the request's: a lister lives as long
	h     *Handler
	clock *shardClock
	now   int64 // Unix ms
	// logStarts caches each partition's first readable offset.
	logStarts map[int32]int64
}

func (h *Handler) newShardLister(ctx context.Context, st store.Stream) *shardLister {
	return &shardLister{ctx: ctx, h: h, clock: newShardClock(st), now: h.now().UnixMilli(), logStarts: map[int32]int64{}}
}

// trimHorizon returns the time of the oldest record retention keeps: now
// minus the retention period, or the stream's creation if later.
func (l *shardLister) trimHorizon() int64 {
	created := l.clock.st.Created.UnixMilli()
	if r := l.clock.st.Retention; r > 0 {
		return max(created, l.now-r.Milliseconds())
	}
	return created
}

// expired reports whether a closed shard has left the retention period
// (or lost all its records).
func (l *shardLister) expired(sh store.Shard) bool {
	if sh.IsOpen() {
		return false
	}
	if r := l.clock.st.Retention; r > 0 {
		if closed, ok := l.clock.closedAt(sh); ok && closed+r.Milliseconds() <= l.now {
			return true
		}
	}
	if sh.EndOffset > sh.StartOffset {
		start, ok := l.logStarts[sh.Partition]
		if !ok {
			s, _, err := l.h.store.Offsets(l.ctx, l.clock.st.Name, sh.Partition)
			if err != nil {
				return false
			}
			start = s
			l.logStarts[sh.Partition] = start
		}
		return start >= sh.EndOffset
	}
	return false
}

// openAt reports whether a shard was open at time t (Unix ms). A closed
// shard with no known closing time counts as open until now.
func (l *shardLister) openAt(sh store.Shard, t int64) bool {
	if l.clock.openedAt(sh) > t {
		return false
	}
	closed, ok := l.clock.closedAt(sh)
	return sh.IsOpen() || !ok || closed >= t
}

// Shard filter types.
const (
	filterAfterShardID    = "AFTER_SHARD_ID"
	filterAtTrimHorizon   = "AT_TRIM_HORIZON"
	filterFromTrimHorizon = "FROM_TRIM_HORIZON"
	filterAtLatest        = "AT_LATEST"
	filterAtTimestamp     = "AT_TIMESTAMP"
	filterFromTimestamp   = "FROM_TIMESTAMP"
)

// shardFilter is the API's ShardFilter.
type shardFilter struct {
	Type      *string    `json:"Type,omitempty"`
	ShardId   *string    `json:"ShardId,omitempty"`
	Timestamp *Timestamp `json:"Timestamp,omitempty"`
}

// keep reports whether the filter (nil: FROM_TRIM_HORIZON) lists sh.
// afterIndex is AFTER_SHARD_ID's shard, at is the filter's timestamp.
func (l *shardLister) keep(sh store.Shard, filter string, afterIndex int, at int64) bool {
	if l.expired(sh) {
		return false
	}
	switch filter {
	case filterAfterShardID:
		return sh.Index > afterIndex
	case filterAtLatest:
		return sh.IsOpen()
	case filterAtTrimHorizon:
		return l.openAt(sh, l.trimHorizon())
	case filterAtTimestamp:
		return l.openAt(sh, max(at, l.clock.st.Created.UnixMilli()))
	case filterFromTimestamp:
		t := max(at, l.trimHorizon())
		closed, ok := l.clock.closedAt(sh)
		return sh.IsOpen() || !ok || closed >= t
	}
	return true // FROM_TRIM_HORIZON: everything not expired
}

// listShardsToken is what a ListShards NextToken carries, base64 JSON: the
// stream (and its creation, so a re-created stream's token is refused), the
// filter, the last shard returned and when the token expires.
type listShardsToken struct {
	Stream     string `json:"s"`
	Created    int64  `json:"c"`
	Filter     string `json:"f,omitempty"`
	AfterShard int    `json:"fs,omitempty"`
	At         int64  `json:"ft,omitempty"`
	Last       int    `json:"l"`
	Expires    int64  `json:"e"`
}

// nextTokenLifetime is how long a NextToken stays good, as in AWS.
const nextTokenLifetime = 300 * time.Second

func encodeToken(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken reads a token made by encodeToken; expires is its expiry
// field. Garbage is InvalidArgumentException, an old token
// ExpiredNextTokenException.
func (h *Handler) decodeToken(token string, v any, expires func() int64) error {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || json.Unmarshal(b, v) != nil {
		return invalidArgument("Invalid NextToken.")
	}
	if h.now().UnixMilli() >= expires() {
		return newError(errExpiredNextToken, "The timestamp in nextToken has expired.")
	}
	return nil
}

type listShardsInput struct {
	streamRef
	NextToken               *string      `json:"NextToken,omitempty"`
	ExclusiveStartShardId   *string      `json:"ExclusiveStartShardId,omitempty"`
	MaxResults              *int         `json:"MaxResults,omitempty"`
	StreamCreationTimestamp *Timestamp   `json:"StreamCreationTimestamp,omitempty"`
	ShardFilter             *shardFilter `json:"ShardFilter,omitempty"`
}

type listShardsOutput struct {
	Shards    []shardDescription `json:"Shards"`
	NextToken *string            `json:"NextToken,omitempty"`
}

// Defaults and bounds of ListShards' MaxResults.
const (
	listShardsDefault = 1000
	listShardsMax     = 10000
)

func init() { register("ListShards", listShards) }

func listShards(ctx context.Context, h *Handler, in *listShardsInput) (*listShardsOutput, error) {
	var v validator
	v.str("nextToken", in.NextToken, 1, maxNextTokenLength, nil)
	v.str("exclusiveStartShardId", in.ExclusiveStartShardId, 1, 128, shardIDPattern)
	v.intRange("maxResults", in.MaxResults, 1, listShardsMax)
	if f := in.ShardFilter; f != nil {
		v.required("shardFilter.type", f.Type != nil)
		v.oneOf("shardFilter.type", f.Type, filterAfterShardID, filterAtTrimHorizon, filterFromTrimHorizon,
			filterAtLatest, filterAtTimestamp, filterFromTimestamp)
		v.str("shardFilter.shardId", f.ShardId, 1, 128, shardIDPattern)
	}
	name := h.name(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	named := in.StreamName != nil || in.StreamARN != nil
	switch {
	case in.NextToken != nil && named:
		return nil, invalidArgument("NextToken and StreamName cannot be provided together.")
	case in.NextToken == nil && !named:
		return nil, invalidArgument("Either NextToken or StreamName should be provided.")
	case in.NextToken != nil && (in.ExclusiveStartShardId != nil || in.ShardFilter != nil || in.StreamCreationTimestamp != nil):
		return nil, invalidArgument("NextToken cannot be provided together with ExclusiveStartShardId, ShardFilter or StreamCreationTimestamp.")
	}
	limit := listShardsDefault
	if in.MaxResults != nil {
		limit = *in.MaxResults
	}

	var tok listShardsToken
	if in.NextToken != nil {
		if err := h.decodeToken(*in.NextToken, &tok, func() int64 { return tok.Expires }); err != nil {
			return nil, err
		}
		name = tok.Stream
	} else {
		tok.Stream, tok.Last, tok.AfterShard = name, -1, -1
		if f := in.ShardFilter; f != nil {
			tok.Filter = *f.Type
			switch tok.Filter {
			case filterAfterShardID:
				if f.ShardId == nil {
					return nil, invalidArgument("ShardId must be supplied in a ShardFilter with a Type of AFTER_SHARD_ID.")
				}
				tok.AfterShard = shardRefIndex(*f.ShardId)
			case filterAtTimestamp, filterFromTimestamp:
				if f.Timestamp == nil {
					return nil, invalidArgument("Timestamp must be supplied in a ShardFilter with a Type of %s.", tok.Filter)
				}
				tok.At = f.Timestamp.UnixMilli()
			}
		}
		if in.ExclusiveStartShardId != nil {
			tok.Last = shardRefIndex(*in.ExclusiveStartShardId)
		}
	}

	st, status, err := h.lookupStream(ctx, name)
	if err != nil {
		return nil, err
	}
	if in.NextToken != nil && st.Created.UnixMilli() != tok.Created {
		return nil, h.streamNotFound(name)
	}
	// Clients may send the creation time in whole seconds.
	if in.StreamCreationTimestamp != nil && in.StreamCreationTimestamp.Unix() != st.Created.Unix() {
		return nil, h.streamNotFound(name)
	}
	if status == statusCreating || status == statusDeleting {
		return nil, h.notActive(name, status)
	}

	l := h.newShardLister(ctx, st)
	out := &listShardsOutput{Shards: []shardDescription{}}
	for _, sh := range st.Shards {
		if sh.Index <= tok.Last || !l.keep(sh, tok.Filter, tok.AfterShard, tok.At) {
			continue
		}
		if len(out.Shards) == limit {
			tok.Created = st.Created.UnixMilli()
			tok.Last = out.Shards[len(out.Shards)-1].index()
			tok.Expires = h.now().Add(nextTokenLifetime).UnixMilli()
			next := encodeToken(tok)
			out.NextToken = &next
			break
		}
		out.Shards = append(out.Shards, describeShard(sh))
	}
	return out, nil
}

// index returns the shard index of a description built by describeShard.
func (d shardDescription) index() int {
	i, _ := parseShardRef(d.ShardId)
	return i
}

// shardRefIndex is parseShardRef for exclusive starts: a reference that
// does not parse starts before every shard, as an id that sorts first
// would.
func shardRefIndex(ref string) int {
	if i, ok := parseShardRef(ref); ok {
		return i
	}
	return -1
}
