// Enhanced fan-out consumers: RegisterStreamConsumer,
// DeregisterStreamConsumer, DescribeStreamConsumer and ListStreamConsumers.
//
// A consumer is a record in the store's state area (namespace
// kinesis.consumer, key "<stream>/<consumer name>"), dropped with its
// stream. Its ARN is AWS's:
// arn:aws:kinesis:REGION:ACCOUNT:stream/NAME/consumer/CNAME:CREATION_EPOCH_SECONDS.
// A new consumer is CREATING for the state delay, then ACTIVE; a
// deregistered one is DELETING for the delay, then gone. At most 20
// consumers per stream (LimitExceededException), as in AWS.
// SubscribeToShard (subscribe.go) finds consumers with consumerByARN.
//
// Differences from AWS: a consumer gives no dedicated throughput (the bridge
// has no per-consumer limits), and AWS's limit of 5 consumers being created
// at once is not enforced.
package kinesis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/streambridge/bridge/store"
)

const (
	consumerNamespace = "kinesis.consumer"
	// maxConsumersPerStream is AWS's limit of registered consumers.
	maxConsumersPerStream = 20
	consumerListDefault   = 100
)

// Consumer statuses.
const (
	consumerCreating = "CREATING"
	consumerActive   = "ACTIVE"
	consumerDeleting = "DELETING"
)

func consumerKeyPrefix(stream string) string { return stream + "/" }

// consumersMu serializes changes to consumer records (a read, a check and a
// write each), so two registrations of one name cannot both succeed.
var consumersMu sync.Mutex

// consumerRecord is what the state area keeps for a consumer.
type consumerRecord struct {
	Name string `json:"n"`
	// Created is the registration time, Unix ms; its seconds end the ARN.
	Created int64 `json:"c"`
	// ActiveAt ends CREATING, Unix ms.
	ActiveAt int64 `json:"a"`
	// DeletingUntil, once deregistered with a state delay, ends DELETING.
	DeletingUntil int64 `json:"d,omitempty"`
	// StreamCreated ties the consumer to one incarnation of its stream.
	StreamCreated int64             `json:"s"`
	Tags          map[string]string `json:"t,omitempty"`
	Policy        string            `json:"p,omitempty"` // resource policy (policies.go)
}

// consumer is a consumer as the API shows it.
type consumer struct {
	Name    string
	ARN     string
	Status  string
	Created time.Time
	Tags    map[string]string
}

// consumerARN returns the ARN of a consumer of stream.
func (h *Handler) consumerARN(stream string, rec consumerRecord) string {
	return fmt.Sprintf("%s/consumer/%s:%d", h.streamARN(stream), rec.Name, time.UnixMilli(rec.Created).Unix())
}

// parseConsumerARN splits a consumer ARN of this region and account into
// its stream and consumer names.
func (h *Handler) parseConsumerARN(arn string) (stream, name string, ok bool) {
	res, _ := h.arns().Resource(arn)
	rest, ok := strings.CutPrefix(res, "stream/")
	if !ok {
		return "", "", false
	}
	stream, rest, ok = strings.Cut(rest, "/consumer/")
	if !ok || stream == "" {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return "", "", false
	}
	if _, err := strconv.ParseInt(rest[i+1:], 10, 64); err != nil {
		return "", "", false
	}
	return stream, rest[:i], true
}

// view returns the consumer as the API shows it at now; gone reports a
// consumer whose DELETING delay is over.
func (h *Handler) view(stream string, rec consumerRecord) (c consumer, gone bool) {
	now := h.now().UnixMilli()
	c = consumer{
		Name: rec.Name, ARN: h.consumerARN(stream, rec),
		Status: consumerActive, Created: time.UnixMilli(rec.Created), Tags: rec.Tags,
	}
	switch {
	case rec.DeletingUntil > 0 && now >= rec.DeletingUntil:
		return c, true
	case rec.DeletingUntil > 0:
		c.Status = consumerDeleting
	case now < rec.ActiveAt:
		c.Status = consumerCreating
	}
	return c, false
}

// loadConsumer reads a consumer record; false when there is none, or it
// belongs to an earlier stream of the same name.
func (h *Handler) loadConsumer(ctx context.Context, st store.Stream, name string) (consumerRecord, bool, error) {
	raw, err := h.store.Get(ctx, consumerNamespace, consumerKeyPrefix(st.Name)+name)
	if errors.Is(err, store.ErrNotFound) {
		return consumerRecord{}, false, nil
	}
	if err != nil {
		return consumerRecord{}, false, err
	}
	var rec consumerRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return consumerRecord{}, false, err
	}
	return rec, rec.StreamCreated == st.Created.UnixMilli(), nil
}

func (h *Handler) saveConsumer(ctx context.Context, stream string, rec *consumerRecord) error {
	value, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return h.store.Update(ctx, store.KV{Namespace: consumerNamespace, Key: consumerKeyPrefix(stream) + rec.Name, Value: value})
}

func (h *Handler) dropConsumer(ctx context.Context, stream, name string) error {
	return h.store.Update(ctx, store.KV{Namespace: consumerNamespace, Key: consumerKeyPrefix(stream) + name})
}

// listConsumers returns a stream's consumers in name order, dropping the
// ones whose DELETING delay is over.
func (h *Handler) listConsumers(ctx context.Context, stream string) ([]consumer, error) {
	st, err := h.store.DescribeStream(ctx, stream)
	if err != nil {
		return nil, h.storeError(stream, err)
	}
	var out []consumer
	var gone []string
	err = h.store.Scan(ctx, consumerNamespace, consumerKeyPrefix(stream), func(key string, value []byte) error {
		var rec consumerRecord
		if json.Unmarshal(value, &rec) != nil || rec.StreamCreated != st.Created.UnixMilli() {
			gone = append(gone, strings.TrimPrefix(key, consumerKeyPrefix(stream)))
			return nil
		}
		c, isGone := h.view(stream, rec)
		if isGone {
			gone = append(gone, rec.Name)
			return nil
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, name := range gone {
		_ = h.dropConsumer(context.Background(), stream, name)
	}
	return out, nil
}

func (h *Handler) consumerNotFound(arn string) *Error {
	return resourceNotFound("Consumer %s under account %s not found.", arn, h.cfg.Account)
}

// consumerByARN finds a consumer by its ARN, for SubscribeToShard and the
// operations taking a ConsumerARN: ResourceNotFoundException when the ARN
// names no registered consumer (a deregistered one, or one of an earlier
// stream or registration of the same names).
func (h *Handler) consumerByARN(ctx context.Context, arn string) (streamName string, c consumer, err error) {
	stream, name, ok := h.parseConsumerARN(arn)
	if !ok {
		return "", consumer{}, h.consumerNotFound(arn)
	}
	st, err := h.store.DescribeStream(ctx, stream)
	if err != nil {
		return "", consumer{}, h.consumerNotFound(arn)
	}
	rec, ok, err := h.loadConsumer(ctx, st, name)
	if err != nil {
		return "", consumer{}, err
	}
	if !ok {
		return "", consumer{}, h.consumerNotFound(arn)
	}
	c, gone := h.view(stream, rec)
	if gone {
		_ = h.dropConsumer(context.Background(), stream, name)
		return "", consumer{}, h.consumerNotFound(arn)
	}
	if c.ARN != arn {
		return "", consumer{}, h.consumerNotFound(arn)
	}
	return stream, c, nil
}

// updateConsumer changes the record of the consumer arn names.
func (h *Handler) updateConsumer(ctx context.Context, arn string, change func(*consumerRecord) error) error {
	consumersMu.Lock()
	defer consumersMu.Unlock()
	stream, c, err := h.consumerByARN(ctx, arn)
	if err != nil {
		return err
	}
	st, err := h.store.DescribeStream(ctx, stream)
	if err != nil {
		return h.storeError(stream, err)
	}
	rec, ok, err := h.loadConsumer(ctx, st, c.Name)
	if err != nil {
		return err
	}
	if !ok {
		return h.consumerNotFound(arn)
	}
	if err := change(&rec); err != nil {
		return err
	}
	return h.saveConsumer(ctx, stream, &rec)
}

// consumerDescription is the API's Consumer and ConsumerDescription (which
// adds StreamARN).
type consumerDescription struct {
	ConsumerName              string    `json:"ConsumerName"`
	ConsumerARN               string    `json:"ConsumerARN"`
	ConsumerStatus            string    `json:"ConsumerStatus"`
	ConsumerCreationTimestamp Timestamp `json:"ConsumerCreationTimestamp"`
	StreamARN                 string    `json:"StreamARN,omitempty"`
}

func describeConsumer(c consumer) consumerDescription {
	return consumerDescription{
		ConsumerName: c.Name, ConsumerARN: c.ARN, ConsumerStatus: c.Status,
		ConsumerCreationTimestamp: Timestamp{Time: c.Created},
	}
}

type registerConsumerInput struct {
	StreamARN    *string           `json:"StreamARN,omitempty"`
	ConsumerName *string           `json:"ConsumerName,omitempty"`
	Tags         map[string]string `json:"Tags,omitempty"`
}

type registerConsumerOutput struct {
	Consumer consumerDescription `json:"Consumer"`
}

// consumerRefInput names a consumer by ConsumerARN, or by StreamARN and
// ConsumerName.
type consumerRefInput struct {
	StreamARN    *string `json:"StreamARN,omitempty"`
	ConsumerName *string `json:"ConsumerName,omitempty"`
	ConsumerARN  *string `json:"ConsumerARN,omitempty"`
}

type describeConsumerOutput struct {
	ConsumerDescription consumerDescription `json:"ConsumerDescription"`
}

type listConsumersInput struct {
	StreamARN               *string    `json:"StreamARN,omitempty"`
	NextToken               *string    `json:"NextToken,omitempty"`
	MaxResults              *int       `json:"MaxResults,omitempty"`
	StreamCreationTimestamp *Timestamp `json:"StreamCreationTimestamp,omitempty"`
}

type listConsumersOutput struct {
	Consumers []consumerDescription `json:"Consumers"`
	NextToken *string               `json:"NextToken,omitempty"`
}

// listConsumersToken is what a ListStreamConsumers NextToken carries.
type listConsumersToken struct {
	Stream  string `json:"s"`
	After   string `json:"a"`
	Expires int64  `json:"e"`
}

func init() {
	register("RegisterStreamConsumer", registerStreamConsumer)
	register("DeregisterStreamConsumer", deregisterStreamConsumer)
	register("DescribeStreamConsumer", describeStreamConsumer)
	register("ListStreamConsumers", listStreamConsumers)
}

// streamFromARN validates a required StreamARN member and returns the
// stream's name.
func (h *Handler) streamFromARN(v *validator, arn *string) string {
	if !v.required("streamARN", arn != nil) {
		return ""
	}
	v.str("streamARN", arn, 1, 2048, streamARNPattern)
	if len(v.violations) > 0 {
		return ""
	}
	return h.name(v, streamRef{StreamARN: arn})
}

func registerStreamConsumer(ctx context.Context, h *Handler, in *registerConsumerInput) (*registerConsumerOutput, error) {
	var v validator
	if v.required("consumerName", in.ConsumerName != nil) {
		v.str("consumerName", in.ConsumerName, 1, 128, consumerNamePattern)
	}
	validateTagMap(&v, "tags", in.Tags, 0, maxTagsPerCall)
	stream := h.streamFromARN(&v, in.StreamARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	name := *in.ConsumerName
	if err := checkTagChars(in.Tags, "add tags to consumer "+name, h.cfg.Account); err != nil {
		return nil, err
	}
	if len(in.Tags) > maxTagsPerStream {
		return nil, invalidArgument("Failed to add tags to consumer %s under account %s because a given consumer cannot have more than %d tags associated with it.", name, h.cfg.Account, maxTagsPerStream)
	}
	consumersMu.Lock()
	defer consumersMu.Unlock()
	st, err := h.requireActive(ctx, stream)
	if err != nil {
		return nil, err
	}
	existing, err := h.listConsumers(ctx, stream)
	if err != nil {
		return nil, err
	}
	for _, c := range existing {
		if c.Name == name {
			return nil, resourceInUse("Consumer %s under stream %s under account %s already exists.", name, stream, h.cfg.Account)
		}
	}
	if len(existing) >= maxConsumersPerStream {
		return nil, limitExceeded("Consumer limit of %d exceeded for stream %s under account %s.", maxConsumersPerStream, stream, h.cfg.Account)
	}
	now := h.now()
	rec := consumerRecord{
		Name:          name,
		Created:       now.UnixMilli(),
		ActiveAt:      now.Add(h.cfg.StateDelay).UnixMilli(),
		StreamCreated: st.Created.UnixMilli(),
		Tags:          in.Tags,
	}
	if err := h.saveConsumer(ctx, stream, &rec); err != nil {
		return nil, err
	}
	c, _ := h.view(stream, rec)
	return &registerConsumerOutput{Consumer: describeConsumer(c)}, nil
}

// resolveConsumer finds the consumer a consumerRefInput names.
func (h *Handler) resolveConsumer(ctx context.Context, in *consumerRefInput) (string, consumer, error) {
	var v validator
	v.str("consumerName", in.ConsumerName, 1, 128, consumerNamePattern)
	v.str("consumerARN", in.ConsumerARN, 1, 2048, consumerARNPattern)
	var stream string
	if in.StreamARN != nil {
		stream = h.streamFromARN(&v, in.StreamARN)
	}
	if err := v.err(); err != nil {
		return "", consumer{}, err
	}
	if in.ConsumerARN != nil {
		s, c, err := h.consumerByARN(ctx, *in.ConsumerARN)
		if err != nil {
			return "", consumer{}, err
		}
		if (in.StreamARN != nil && s != stream) || (in.ConsumerName != nil && *in.ConsumerName != c.Name) {
			return "", consumer{}, invalidArgument("ConsumerARN does not name the consumer given by StreamARN and ConsumerName.")
		}
		return s, c, nil
	}
	if in.StreamARN == nil || in.ConsumerName == nil {
		return "", consumer{}, invalidArgument("Either ConsumerARN or both ConsumerName and StreamARN must be provided.")
	}
	st, err := h.store.DescribeStream(ctx, stream)
	if err != nil {
		return "", consumer{}, h.storeError(stream, err)
	}
	rec, ok, err := h.loadConsumer(ctx, st, *in.ConsumerName)
	if err != nil {
		return "", consumer{}, err
	}
	notFound := resourceNotFound("Consumer %s under stream %s under account %s not found.", *in.ConsumerName, stream, h.cfg.Account)
	if !ok {
		return "", consumer{}, notFound
	}
	c, gone := h.view(stream, rec)
	if gone {
		_ = h.dropConsumer(context.Background(), stream, rec.Name)
		return "", consumer{}, notFound
	}
	return stream, c, nil
}

func deregisterStreamConsumer(ctx context.Context, h *Handler, in *consumerRefInput) (*ackOutput, error) {
	consumersMu.Lock()
	defer consumersMu.Unlock()
	stream, c, err := h.resolveConsumer(ctx, in)
	if err != nil {
		return nil, err
	}
	if h.cfg.StateDelay <= 0 {
		if err := h.dropConsumer(ctx, stream, c.Name); err != nil {
			return nil, err
		}
		return &ackOutput{}, nil
	}
	if c.Status == consumerDeleting {
		return &ackOutput{}, nil
	}
	st, err := h.store.DescribeStream(ctx, stream)
	if err != nil {
		return nil, h.storeError(stream, err)
	}
	rec, ok, err := h.loadConsumer(ctx, st, c.Name)
	if err != nil || !ok {
		return nil, h.consumerNotFound(c.ARN)
	}
	rec.DeletingUntil = h.now().Add(h.cfg.StateDelay).UnixMilli()
	if err := h.saveConsumer(ctx, stream, &rec); err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}

func describeStreamConsumer(ctx context.Context, h *Handler, in *consumerRefInput) (*describeConsumerOutput, error) {
	stream, c, err := h.resolveConsumer(ctx, in)
	if err != nil {
		return nil, err
	}
	d := describeConsumer(c)
	d.StreamARN = h.streamARN(stream)
	return &describeConsumerOutput{ConsumerDescription: d}, nil
}

func listStreamConsumers(ctx context.Context, h *Handler, in *listConsumersInput) (*listConsumersOutput, error) {
	var v validator
	v.intRange("maxResults", in.MaxResults, 1, pageMax)
	v.str("nextToken", in.NextToken, 1, maxNextTokenLength, nil)
	stream := h.streamFromARN(&v, in.StreamARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	st, _, err := h.lookupStream(ctx, stream)
	if err != nil {
		return nil, err
	}
	if in.StreamCreationTimestamp != nil && in.StreamCreationTimestamp.Unix() != st.Created.Unix() {
		return nil, h.streamNotFound(stream)
	}
	after := ""
	if in.NextToken != nil {
		var tok listConsumersToken
		if err := h.decodeToken(*in.NextToken, &tok, func() int64 { return tok.Expires }); err != nil {
			return nil, err
		}
		if tok.Stream != stream {
			return nil, invalidArgument("Invalid NextToken.")
		}
		after = tok.After
	}
	limit := consumerListDefault
	if in.MaxResults != nil {
		limit = *in.MaxResults
	}
	all, err := h.listConsumers(ctx, stream)
	if err != nil {
		return nil, err
	}
	out := &listConsumersOutput{Consumers: []consumerDescription{}}
	for _, c := range all {
		if after != "" && c.Name <= after {
			continue
		}
		if len(out.Consumers) == limit {
			next := encodeToken(listConsumersToken{
				Stream:  stream,
				After:   out.Consumers[len(out.Consumers)-1].ConsumerName,
				Expires: h.now().Add(nextTokenLifetime).UnixMilli(),
			})
			out.NextToken = &next
			break
		}
		out.Consumers = append(out.Consumers, describeConsumer(c))
	}
	return out, nil
}
