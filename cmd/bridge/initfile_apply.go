package main

// Applying an --init-file (initfile.go) through the front ends' own code:
// Kafka topics through kafka.EnsureTopic (CreateTopics, CreatePartitions
// and IncrementalAlterConfigs inside the Kafka package), Kinesis streams,
// SQS queues and S3 buckets through their API handlers, called in-process
// with the requests an SDK would send. A refusal is the API's own error
// type and message.
//
// It runs three times over (server.Config.Init, after the store opens and
// before any port serves):
//
//  1. on an empty in-memory scratch store, where every entry is new: every
//     entry's name, counts, configs and attributes meet the create calls'
//     checks, and redrive targets declared in the same file are found;
//  2. on the real store, changing nothing: entries that exist already are
//     compared with the file (fewer partitions, another shard count or
//     stream mode are errors);
//  3. on the real store, for real.
//
// A phase that finds errors stops the start before the next one, so a bad
// file creates nothing. Phase 3 fails only when the store does.

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/gateway/kafka"
	"github.com/streambridge/bridge/gateway/kinesis"
	gateways3 "github.com/streambridge/bridge/gateway/s3"
	"github.com/streambridge/bridge/gateway/sqs"
	"github.com/streambridge/bridge/server"
	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// fixtureTarget is the front ends' code over one store.
type fixtureTarget struct {
	store             store.Store
	log               *slog.Logger
	defaultPartitions int
	kinesis, sqs      awsJSON
	s3                http.Handler
	region, account   string
}

// newFixtureTarget builds the front ends over st, without authorization,
// metrics or state delays: the operator's file is not a client's request,
// and its streams are ACTIVE at once.
func newFixtureTarget(st store.Store, log *slog.Logger, region, account string, defaultPartitions int) (*fixtureTarget, error) {
	k, err := kinesis.New(kinesis.Config{Store: st, Logger: log, Region: region, Account: account})
	if err != nil {
		return nil, err
	}
	q, err := sqs.New(sqs.Config{Store: st, Logger: log, Region: region, Account: account})
	if err != nil {
		return nil, err
	}
	b, err := gateways3.New(gateways3.Config{Objects: st, Logger: log, Region: region, Account: account})
	if err != nil {
		return nil, err
	}
	return &fixtureTarget{
		store: st, log: log, defaultPartitions: defaultPartitions,
		kinesis: awsJSON{h: k, target: kinesis.TargetPrefix, contentType: "application/x-amz-json-1.1"},
		sqs:     awsJSON{h: q, target: sqs.TargetPrefix, contentType: "application/x-amz-json-1.0"},
		s3:      b, region: region, account: account,
	}, nil
}

// initFixtures is the server.Config.Init that applies f.
func (o *serveOptions) initFixtures(f *fixtures) func(context.Context, server.Deps) error {
	return func(ctx context.Context, d server.Deps) error {
		start := time.Now()
		quiet := slog.New(slog.DiscardHandler)
		live, err := newFixtureTarget(d.Store, d.Logger, o.aws.region, o.aws.account, o.kafka.defaultPartitions)
		if err != nil {
			return fmt.Errorf("--init-file: %w", err)
		}
		scratchStore, err := embedded.Open(embedded.Options{InMemory: true, Keyring: d.Keyring, Logger: quiet})
		if err != nil {
			return fmt.Errorf("--init-file: scratch store: %w", err)
		}
		defer scratchStore.Close()
		scratch, err := newFixtureTarget(scratchStore, quiet, o.aws.region, o.aws.account, o.kafka.defaultPartitions)
		if err != nil {
			return fmt.Errorf("--init-file: %w", err)
		}
		if err := f.copyRedriveTargets(ctx, live, scratch); err != nil {
			return fmt.Errorf("--init-file %w", err)
		}
		// The check on the real store runs even when the scratch run
		// refused entries, for the others, so one start reports every
		// bad entry; it changes nothing.
		failed := map[string]bool{}
		_, scratchErr := f.apply(ctx, scratch, false, failed)
		_, checkErr := f.apply(ctx, live, true, failed)
		if err := errors.Join(scratchErr, checkErr); err != nil {
			return fmt.Errorf("--init-file %w", err)
		}
		outcomes, err := f.apply(ctx, live, false, failed)
		if err != nil {
			return fmt.Errorf("--init-file (applied in part) %w", err)
		}
		for _, oc := range outcomes {
			d.Logger.Info("fixture", "entry", oc.place, "name", oc.name, "outcome", oc.what)
		}
		d.Logger.Info("init file applied", "file", f.path, "entries", f.count(), "took", time.Since(start).Round(time.Microsecond))
		return nil
	}
}

// outcome is what applying one entry did.
type outcome struct{ place, name, what string }

// apply makes every entry of f exist on t, or with validateOnly checks
// that it could and changes nothing. It goes on past a refused entry, so
// one run reports every bad entry. Entries in failed are skipped; those
// refused are added to it.
func (f *fixtures) apply(ctx context.Context, t *fixtureTarget, validateOnly bool, failed map[string]bool) ([]outcome, error) {
	var (
		errs []error
		out  []outcome
	)
	note := func(place, name, what string, err error) {
		if err != nil {
			errs = append(errs, f.entryError(place, name, err))
			failed[place] = true
			return
		}
		out = append(out, outcome{place, name, what})
	}
	for i, tp := range f.Kafka.Topics {
		if failed[fmt.Sprintf("kafka.topics[%d]", i)] {
			continue
		}
		what, err := kafka.EnsureTopic(ctx, t.store, t.log, t.defaultPartitions, kafka.TopicFixture{
			Name: tp.Name, Partitions: tp.Partitions, ReplicationFactor: tp.ReplicationFactor, Configs: tp.Configs,
		}, validateOnly)
		note(fmt.Sprintf("kafka.topics[%d]", i), tp.Name, what, err)
	}
	for i, s := range f.Kinesis.Streams {
		if failed[fmt.Sprintf("kinesis.streams[%d]", i)] {
			continue
		}
		what, err := t.ensureStream(ctx, s, validateOnly)
		note(fmt.Sprintf("kinesis.streams[%d]", i), s.Name, what, err)
	}
	for _, i := range f.queueOrder() {
		if failed[fmt.Sprintf("sqs.queues[%d]", i)] {
			continue
		}
		q := f.SQS.Queues[i]
		what, err := t.ensureQueue(ctx, q, validateOnly)
		note(fmt.Sprintf("sqs.queues[%d]", i), q.Name, what, err)
	}
	for i, b := range f.S3.Buckets {
		if failed[fmt.Sprintf("s3.buckets[%d]", i)] {
			continue
		}
		what, err := t.ensureBucket(ctx, b, validateOnly)
		note(fmt.Sprintf("s3.buckets[%d]", i), b.Name, what, err)
	}
	return out, errors.Join(errs...)
}

// Outcomes of the AWS entries, alongside kafka.Topic*.
const (
	fixtureCreated   = "created"
	fixtureUnchanged = "unchanged"
)

// ensureStream makes a Kinesis stream exist as declared. Shard count and
// mode of an existing stream are compared, not changed: resharding at
// start would move records between shards behind the clients' backs.
// Retention and tags are set.
func (t *fixtureTarget) ensureStream(ctx context.Context, s streamFixture, validateOnly bool) (string, error) {
	var sum struct {
		StreamDescriptionSummary struct {
			OpenShardCount       int
			RetentionPeriodHours int
			StreamModeDetails    struct{ StreamMode string }
		}
	}
	err := t.kinesis.call(ctx, "DescribeStreamSummary", map[string]any{"StreamName": s.Name}, &sum)
	var aerr *awsCallError
	if errors.As(err, &aerr) && aerr.Type == "ResourceNotFoundException" {
		if validateOnly {
			return fixtureCreated, nil
		}
		in := map[string]any{"StreamName": s.Name}
		if s.Shards != 0 {
			in["ShardCount"] = s.Shards
		}
		if s.Mode != "" {
			in["StreamModeDetails"] = map[string]string{"StreamMode": s.Mode}
		}
		if len(s.Tags) > 0 {
			in["Tags"] = s.Tags
		}
		if err := t.kinesis.call(ctx, "CreateStream", in, nil); err != nil {
			return "", err
		}
		if err := t.setRetention(ctx, s, 24); err != nil {
			return "", err
		}
		return fixtureCreated, nil
	}
	if err != nil {
		return "", err
	}
	have := sum.StreamDescriptionSummary
	if s.Shards != 0 && s.Shards != have.OpenShardCount {
		return "", fmt.Errorf("the stream exists with %d open shards, the file declares %d; the bridge does not reshard at start: run UpdateShardCount, or delete the stream", have.OpenShardCount, s.Shards)
	}
	if s.Mode != "" && s.Mode != have.StreamModeDetails.StreamMode {
		return "", fmt.Errorf("the stream exists in mode %s, the file declares %s; run UpdateStreamMode, or delete the stream", have.StreamModeDetails.StreamMode, s.Mode)
	}
	var did []string
	if s.RetentionHours != 0 && s.RetentionHours != have.RetentionPeriodHours {
		did = append(did, "retention set")
		if !validateOnly {
			if err := t.setRetention(ctx, s, have.RetentionPeriodHours); err != nil {
				return "", err
			}
		}
	}
	if len(s.Tags) > 0 {
		var tags struct{ Tags []struct{ Key, Value string } }
		if err := t.kinesis.call(ctx, "ListTagsForStream", map[string]any{"StreamName": s.Name, "Limit": 50}, &tags); err != nil {
			return "", err
		}
		cur := map[string]string{}
		for _, tg := range tags.Tags {
			cur[tg.Key] = tg.Value
		}
		if add := differing(s.Tags, cur); len(add) > 0 {
			did = append(did, "tags set")
			if !validateOnly {
				if err := t.kinesis.call(ctx, "AddTagsToStream", map[string]any{"StreamName": s.Name, "Tags": add}, nil); err != nil {
					return "", err
				}
			}
		}
	}
	if len(did) == 0 {
		return fixtureUnchanged, nil
	}
	return strings.Join(did, ", "), nil
}

// setRetention moves a stream's retention from have to the declared hours
// with Increase- or DecreaseStreamRetentionPeriod, whose bounds apply.
func (t *fixtureTarget) setRetention(ctx context.Context, s streamFixture, have int) error {
	if s.RetentionHours == 0 || s.RetentionHours == have {
		return nil
	}
	op := "IncreaseStreamRetentionPeriod"
	if s.RetentionHours < have {
		op = "DecreaseStreamRetentionPeriod"
	}
	return t.kinesis.call(ctx, op, map[string]any{"StreamName": s.Name, "RetentionPeriodHours": s.RetentionHours}, nil)
}

// queueAttributes are the attributes CreateQueue gets for q, with
// dead_letter_queue written as the RedrivePolicy it stands for.
func (t *fixtureTarget) queueAttributes(q queueFixture) map[string]string {
	attrs := maps.Clone(q.Attributes)
	if d := q.DeadLetterQueue; d != nil {
		if attrs == nil {
			attrs = map[string]string{}
		}
		policy, _ := json.Marshal(map[string]any{
			"deadLetterTargetArn": fmt.Sprintf("arn:aws:sqs:%s:%s:%s", t.region, t.account, d.Name),
			"maxReceiveCount":     d.MaxReceiveCount,
		})
		attrs[sqsAttrRedrivePolicy] = string(policy)
	}
	return attrs
}

// ensureQueue makes an SQS queue exist as declared. Attributes and tags of
// an existing queue that differ from the file are set (SetQueueAttributes,
// TagQueue): a compose user who edits the file expects the queue to
// follow it. Attributes and tags the file leaves out are left alone.
func (t *fixtureTarget) ensureQueue(ctx context.Context, q queueFixture, validateOnly bool) (string, error) {
	attrs := t.queueAttributes(q)
	var url struct{ QueueUrl string }
	err := t.sqs.call(ctx, "GetQueueUrl", map[string]any{"QueueName": q.Name}, &url)
	var aerr *awsCallError
	if errors.As(err, &aerr) && aerr.Type == "QueueDoesNotExist" {
		if validateOnly {
			return fixtureCreated, nil
		}
		in := map[string]any{"QueueName": q.Name}
		if len(attrs) > 0 {
			in["Attributes"] = attrs
		}
		if len(q.Tags) > 0 {
			in["tags"] = q.Tags
		}
		if err := t.sqs.call(ctx, "CreateQueue", in, nil); err != nil {
			return "", err
		}
		return fixtureCreated, nil
	}
	if err != nil {
		return "", err
	}
	var did []string
	if len(attrs) > 0 {
		var cur struct{ Attributes map[string]string }
		if err := t.sqs.call(ctx, "GetQueueAttributes", map[string]any{"QueueUrl": url.QueueUrl, "AttributeNames": []string{"All"}}, &cur); err != nil {
			return "", err
		}
		set := map[string]string{}
		for k, v := range attrs {
			if k == sqsAttrFifoQueue {
				continue // fixed by the name; CreateQueue checked it
			}
			if c, ok := cur.Attributes[k]; !ok || !sameAttribute(c, v) {
				set[k] = v
			}
		}
		if len(set) > 0 {
			did = append(did, "attributes set")
			if !validateOnly {
				if err := t.sqs.call(ctx, "SetQueueAttributes", map[string]any{"QueueUrl": url.QueueUrl, "Attributes": set}, nil); err != nil {
					return "", err
				}
			}
		}
	}
	if len(q.Tags) > 0 {
		var cur struct{ Tags map[string]string }
		if err := t.sqs.call(ctx, "ListQueueTags", map[string]any{"QueueUrl": url.QueueUrl}, &cur); err != nil {
			return "", err
		}
		if add := differing(q.Tags, cur.Tags); len(add) > 0 {
			did = append(did, "tags set")
			if !validateOnly {
				if err := t.sqs.call(ctx, "TagQueue", map[string]any{"QueueUrl": url.QueueUrl, "Tags": add}, nil); err != nil {
					return "", err
				}
			}
		}
	}
	if len(did) == 0 {
		return fixtureUnchanged, nil
	}
	return strings.Join(did, ", "), nil
}

// sameAttribute compares attribute values, JSON ones (policies) by
// meaning rather than spelling.
func sameAttribute(a, b string) bool {
	if a == b {
		return true
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(normalizeJSONNumbers(x), normalizeJSONNumbers(y))
}

// normalizeJSONNumbers turns numbers into strings, as SQS takes
// "maxReceiveCount": 5 and "5" alike.
func normalizeJSONNumbers(v any) any {
	switch v := v.(type) {
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case map[string]any:
		for k, x := range v {
			v[k] = normalizeJSONNumbers(x)
		}
	case []any:
		for i, x := range v {
			v[i] = normalizeJSONNumbers(x)
		}
	}
	return v
}

// redriveTarget names the dead-letter queue q's redrive policy points to,
// if any.
func redriveTarget(q queueFixture) string {
	if q.DeadLetterQueue != nil {
		return q.DeadLetterQueue.Name
	}
	var p struct{ DeadLetterTargetArn string }
	if json.Unmarshal([]byte(q.Attributes[sqsAttrRedrivePolicy]), &p) != nil || p.DeadLetterTargetArn == "" {
		return ""
	}
	return p.DeadLetterTargetArn[strings.LastIndexByte(p.DeadLetterTargetArn, ':')+1:]
}

// queueOrder lists the queues so that a dead-letter queue declared in the
// file comes before the queues that redrive to it (CreateQueue needs the
// target to exist). A cycle keeps the file's order for what is left.
func (f *fixtures) queueOrder() []int {
	index := map[string]int{}
	for i, q := range f.SQS.Queues {
		index[q.Name] = i
	}
	placed := make([]bool, len(f.SQS.Queues))
	var order []int
	for progress := true; progress; {
		progress = false
		for i, q := range f.SQS.Queues {
			if placed[i] {
				continue
			}
			if j, ok := index[redriveTarget(q)]; ok && j != i && !placed[j] {
				continue
			}
			placed[i], progress = true, true
			order = append(order, i)
		}
	}
	for i := range f.SQS.Queues {
		if !placed[i] {
			order = append(order, i)
		}
	}
	return order
}

// copyRedriveTargets creates, on the scratch store, the dead-letter queues
// the file's queues name without declaring them but that exist on the real
// store, so the scratch run's CreateQueue finds them as the real one will.
func (f *fixtures) copyRedriveTargets(ctx context.Context, live, scratch *fixtureTarget) error {
	declared := map[string]bool{}
	for _, q := range f.SQS.Queues {
		declared[q.Name] = true
	}
	for _, q := range f.SQS.Queues {
		name := redriveTarget(q)
		if name == "" || declared[name] {
			continue
		}
		declared[name] = true
		var url struct{ QueueUrl string }
		if err := live.sqs.call(ctx, "GetQueueUrl", map[string]any{"QueueName": name}, &url); err != nil {
			continue // the scratch run reports the missing target
		}
		var cur struct{ Attributes map[string]string }
		if err := live.sqs.call(ctx, "GetQueueAttributes", map[string]any{"QueueUrl": url.QueueUrl, "AttributeNames": []string{sqsAttrFifoQueue}}, &cur); err != nil {
			return err
		}
		in := map[string]any{"QueueName": name}
		if cur.Attributes[sqsAttrFifoQueue] == "true" {
			in["Attributes"] = map[string]string{sqsAttrFifoQueue: "true"}
		}
		if err := scratch.sqs.call(ctx, "CreateQueue", in, nil); err != nil {
			return fmt.Errorf("dead-letter queue %q: %w", name, err)
		}
	}
	return nil
}

// ensureBucket makes an S3 bucket exist (CreateBucket); an existing one is
// left as it is.
func (t *fixtureTarget) ensureBucket(ctx context.Context, b bucketFixture, validateOnly bool) (string, error) {
	if b.Name != "" && !strings.ContainsAny(b.Name, "/?#") {
		if head := t.s3Call(ctx, http.MethodHead, b.Name); head.Code == http.StatusOK {
			return fixtureUnchanged, nil
		}
	}
	// Not there (or not a name HEAD can ask about): CreateBucket, whose
	// checks the scratch run has already applied.
	if validateOnly {
		return fixtureCreated, nil
	}
	if rec := t.s3Call(ctx, http.MethodPut, b.Name); rec.Code != http.StatusOK {
		return "", s3Error(rec)
	}
	return fixtureCreated, nil
}

// s3Call runs one path-style bucket request.
func (t *fixtureTarget) s3Call(ctx context.Context, method, bucket string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(ctx, method, "http://localhost/"+bucket, nil)
	rec := httptest.NewRecorder()
	t.s3.ServeHTTP(rec, req)
	return rec
}

// s3Error is the S3 error an answer carries.
func s3Error(rec *httptest.ResponseRecorder) error {
	var e struct{ Code, Message string }
	if xml.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Code == "" {
		return &awsCallError{Type: http.StatusText(rec.Code), Message: fmt.Sprintf("HTTP %d", rec.Code)}
	}
	return &awsCallError{Type: e.Code, Message: e.Message}
}

// differing returns the entries of want that have is missing or has
// otherwise.
func differing(want, have map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if v, ok := have[k]; !ok || v != want[k] {
			out[k] = want[k]
		}
	}
	return out
}

// awsJSON calls one JSON-protocol API handler in-process.
type awsJSON struct {
	h           http.Handler
	target      string // X-Amz-Target prefix
	contentType string
}

// awsCallError is an API's refusal: its error type and message.
type awsCallError struct{ Type, Message string }

func (e *awsCallError) Error() string { return e.Type + ": " + e.Message }

// call sends operation op with input in and decodes the answer into out
// (nil: ignored).
func (a awsJSON) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "http://localhost/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", a.target+op)
	req.Header.Set("Content-Type", a.contentType)
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Type == "" {
			return &awsCallError{Type: http.StatusText(rec.Code), Message: strings.TrimSpace(rec.Body.String())}
		}
		return &awsCallError{Type: e.Type[strings.LastIndexByte(e.Type, '#')+1:], Message: e.Message}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(rec.Body.Bytes(), out)
}
