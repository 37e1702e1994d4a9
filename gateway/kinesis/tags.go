// Tags: AddTagsToStream, RemoveTagsFromStream, ListTagsForStream, and the
// newer resource-based TagResource, UntagResource and ListTagsForResource,
// which take a stream ARN or a consumer ARN.
//
// A stream's tags live in its Config (kinesis.tag.<key>), a consumer's in
// its record. AWS's limits and messages: at most 50 tags on a resource
// (InvalidArgumentException "... cannot have more than 50 tags ..."), 200 in
// one call, keys of 1-128 characters and values of 0-256 (ValidationException
// with the Java map rendering AWS prints), and only Unicode letters, digits,
// white space and _ . / = + - @ in keys and values ('%' gets its own
// message; RemoveTagsFromStream also takes ':').
//
// ListTagsForStream pages by ExclusiveStartTagKey and Limit (1-50), keys in
// sorted order.
package kinesis

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/streambridge/bridge/store"
)

// Tag limits.
const (
	maxTagsPerStream = 50
	maxTagsPerCall   = 200
	maxTagKeyLen     = 128
	maxTagValueLen   = 256
)

// tagCharsAdd and tagCharsRemove find a character AWS does not take in a
// tag (the Unicode letter ranges are AWS's). '%' is found separately.
var (
	tagCharsAdd    = regexp.MustCompile(`[^\x{00C0}-\x{1FFF}\x{2C00}-\x{D7FF}\w./\-=+ @%]`)
	tagCharsRemove = regexp.MustCompile(`[^\x{00C0}-\x{1FFF}\x{2C00}-\x{D7FF}\w./\-=+ @%:]`)
)

// validateTagMap checks a Tags member: its entry count and every key's and
// value's length, in AWS's words.
func validateTagMap(v *validator, field string, tags map[string]string, minEntries, maxEntries int) {
	if tags == nil {
		return
	}
	shown := javaMap(tags)
	if len(tags) < minEntries {
		v.fail(field, shown, "have length greater than or equal to 1")
	}
	if len(tags) > maxEntries {
		v.fail(field, shown, "have length less than or equal to "+strconv.Itoa(maxEntries))
	}
	for k, val := range tags {
		if n := utf8.RuneCountInString(k); n < 1 || n > maxTagKeyLen {
			v.violations = append(v.violations, "Value '"+shown+"' at '"+field+"' failed to satisfy constraint: "+
				"Map keys must satisfy constraint: [Member must have length less than or equal to 128, "+
				"Member must have length greater than or equal to 1]")
			break
		}
		if utf8.RuneCountInString(val) > maxTagValueLen {
			v.violations = append(v.violations, "Value '"+shown+"' at '"+field+"' failed to satisfy constraint: "+
				"Map value must satisfy constraint: [Member must have length less than or equal to 256, "+
				"Member must have length greater than or equal to 0]")
			break
		}
	}
}

// validateTagKeys checks a TagKeys member.
func validateTagKeys(v *validator, field string, keys []string, present bool) {
	if !v.required(field, present) {
		return
	}
	shown := "[" + strings.Join(keys, ", ") + "]"
	if len(keys) < 1 {
		v.fail(field, shown, "have length greater than or equal to 1")
	}
	if len(keys) > maxTagsPerStream {
		v.fail(field, shown, "have length less than or equal to 50")
	}
	for _, k := range keys {
		if n := utf8.RuneCountInString(k); n < 1 || n > maxTagKeyLen {
			v.fail(field, shown, "satisfy constraint: [Member must have length less than or equal to 128, "+
				"Member must have length greater than or equal to 1]")
			break
		}
	}
}

// javaMap renders a map the way AWS's messages print one: {a=1, b=2}.
func javaMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// checkTagChars refuses tags with characters AWS does not take. action
// completes "Failed to ..." (add tags to stream NAME).
func checkTagChars(tags map[string]string, action, account string) error {
	all := make([]string, 0, 2*len(tags))
	for k, v := range tags {
		all = append(all, k, v)
	}
	return checkChars(all, tagCharsAdd, action, account,
		"Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.",
		"'_',',','/','=','+','-','@'")
}

func checkChars(all []string, allowed *regexp.Regexp, action, account, invalid, listed string) error {
	for _, s := range all {
		if allowed.MatchString(s) {
			return invalidArgument("%s", invalid)
		}
	}
	for _, s := range all {
		if strings.Contains(s, "%") {
			return invalidArgument("Failed to %s under account %s because some tags contained illegal characters. "+
				"The allowed characters are Unicode letters, white-spaces, %s.", action, account, listed)
		}
	}
	return nil
}

func checkTagKeyChars(keys []string, action, account string) error {
	return checkChars(keys, tagCharsRemove, action, account,
		"Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.",
		"'_',',','/','=','+','-','@',':'")
}

func (h *Handler) tooManyTags(stream string) *Error {
	return invalidArgument("Failed to add tags to stream %s under account %s because a given stream cannot have more than %d tags associated with it.", stream, h.cfg.Account, maxTagsPerStream)
}

// streamTags returns a stream's tags.
func streamTags(st store.Stream) map[string]string {
	tags := map[string]string{}
	for k, v := range st.Config {
		if key, ok := strings.CutPrefix(k, cfgTagPrefix); ok {
			tags[key] = v
		}
	}
	return tags
}

// addStreamTags merges tags into a stream's, refusing to go over the limit.
func (h *Handler) addStreamTags(ctx context.Context, name string, tags map[string]string) error {
	if err := checkTagChars(tags, "add tags to stream "+name, h.cfg.Account); err != nil {
		return err
	}
	if _, _, err := h.lookupStream(ctx, name); err != nil {
		return err
	}
	_, err := h.store.UpdateStream(ctx, name, func(st *store.Stream) error {
		merged := streamTags(*st)
		for k, v := range tags {
			merged[k] = v
		}
		if len(merged) > maxTagsPerStream {
			return h.tooManyTags(name)
		}
		if st.Config == nil {
			st.Config = map[string]string{}
		}
		for k, v := range tags {
			st.Config[cfgTagPrefix+k] = v
		}
		return nil
	})
	if err != nil {
		return h.storeError(name, err)
	}
	return nil
}

// removeStreamTags drops keys from a stream's tags; absent keys are fine.
func (h *Handler) removeStreamTags(ctx context.Context, name string, keys []string) error {
	if err := checkTagKeyChars(keys, "remove tags from stream "+name, h.cfg.Account); err != nil {
		return err
	}
	if _, _, err := h.lookupStream(ctx, name); err != nil {
		return err
	}
	_, err := h.store.UpdateStream(ctx, name, func(st *store.Stream) error {
		for _, k := range keys {
			delete(st.Config, cfgTagPrefix+k)
		}
		return nil
	})
	if err != nil {
		return h.storeError(name, err)
	}
	return nil
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// sortedTags lists tags by key.
func sortedTags(tags map[string]string) []tag {
	out := make([]tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

type addTagsInput struct {
	streamRef
	Tags map[string]string `json:"Tags"`
}

type removeTagsInput struct {
	streamRef
	TagKeys []string `json:"TagKeys"`
}

type listTagsForStreamInput struct {
	streamRef
	ExclusiveStartTagKey *string `json:"ExclusiveStartTagKey,omitempty"`
	Limit                *int    `json:"Limit,omitempty"`
}

type listTagsForStreamOutput struct {
	Tags        []tag `json:"Tags"`
	HasMoreTags bool  `json:"HasMoreTags"`
}

type resourceTagsInput struct {
	ResourceARN *string           `json:"ResourceARN,omitempty"`
	Tags        map[string]string `json:"Tags,omitempty"`
	TagKeys     []string          `json:"TagKeys,omitempty"`
}

type listTagsForResourceOutput struct {
	Tags []tag `json:"Tags"`
}

func init() {
	register("AddTagsToStream", addTagsToStream)
	register("RemoveTagsFromStream", removeTagsFromStream)
	register("ListTagsForStream", listTagsForStream)
	register("TagResource", tagResource)
	register("UntagResource", untagResource)
	register("ListTagsForResource", listTagsForResource)
}

func addTagsToStream(ctx context.Context, h *Handler, in *addTagsInput) (*ackOutput, error) {
	var v validator
	if v.required("tags", in.Tags != nil) {
		validateTagMap(&v, "tags", in.Tags, 1, maxTagsPerCall)
	}
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := h.addStreamTags(ctx, name, in.Tags); err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}

func removeTagsFromStream(ctx context.Context, h *Handler, in *removeTagsInput) (*ackOutput, error) {
	var v validator
	validateTagKeys(&v, "tagKeys", in.TagKeys, in.TagKeys != nil)
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := h.removeStreamTags(ctx, name, in.TagKeys); err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}

func listTagsForStream(ctx context.Context, h *Handler, in *listTagsForStreamInput) (*listTagsForStreamOutput, error) {
	var v validator
	v.str("exclusiveStartTagKey", in.ExclusiveStartTagKey, 1, maxTagKeyLen, nil)
	v.intRange("limit", in.Limit, 1, maxTagsPerStream)
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	st, _, err := h.lookupStream(ctx, name)
	if err != nil {
		return nil, err
	}
	limit := maxTagsPerStream
	if in.Limit != nil {
		limit = *in.Limit
	}
	out := &listTagsForStreamOutput{Tags: []tag{}}
	for _, t := range sortedTags(streamTags(st)) {
		if in.ExclusiveStartTagKey != nil && t.Key <= *in.ExclusiveStartTagKey {
			continue
		}
		if len(out.Tags) == limit {
			out.HasMoreTags = true
			break
		}
		out.Tags = append(out.Tags, t)
	}
	return out, nil
}

// resourceARNPattern is the ResourceARN member's pattern.
var resourceARNPattern = anchored(`arn:aws.*:kinesis:.*:\d{12}:.+`)

// taggedResource is what a ResourceARN names: a stream, or a consumer of
// one.
type taggedResource struct {
	stream   string
	consumer string // "" for the stream itself
}

func (h *Handler) resolveResource(v *validator, arn *string) taggedResource {
	if !v.required("resourceARN", arn != nil) {
		return taggedResource{}
	}
	v.str("resourceARN", arn, 1, 2048, resourceARNPattern)
	if len(v.violations) > 0 {
		return taggedResource{}
	}
	if strings.Contains(*arn, "/consumer/") {
		stream, consumer, ok := h.parseConsumerARN(*arn)
		if !ok {
			v.fail("resourceARN", arn, "be a stream or consumer ARN in "+h.cfg.Region+" of account "+h.cfg.Account)
		}
		return taggedResource{stream: stream, consumer: consumer}
	}
	name, ok := h.parseStreamARN(*arn)
	if !ok {
		v.fail("resourceARN", arn, "be a stream or consumer ARN in "+h.cfg.Region+" of account "+h.cfg.Account)
	}
	return taggedResource{stream: name}
}

func tagResource(ctx context.Context, h *Handler, in *resourceTagsInput) (*ackOutput, error) {
	var v validator
	if v.required("tags", in.Tags != nil) {
		validateTagMap(&v, "tags", in.Tags, 1, maxTagsPerCall)
	}
	r := h.resolveResource(&v, in.ResourceARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	if r.consumer == "" {
		if err := h.addStreamTags(ctx, r.stream, in.Tags); err != nil {
			return nil, err
		}
		return &ackOutput{}, nil
	}
	if err := checkTagChars(in.Tags, "add tags to consumer "+r.consumer, h.cfg.Account); err != nil {
		return nil, err
	}
	err := h.updateConsumer(ctx, *in.ResourceARN, func(c *consumerRecord) error {
		merged := map[string]string{}
		for k, val := range c.Tags {
			merged[k] = val
		}
		for k, val := range in.Tags {
			merged[k] = val
		}
		if len(merged) > maxTagsPerStream {
			return invalidArgument("Failed to add tags to consumer %s under account %s because a given consumer cannot have more than %d tags associated with it.", r.consumer, h.cfg.Account, maxTagsPerStream)
		}
		c.Tags = merged
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}

func untagResource(ctx context.Context, h *Handler, in *resourceTagsInput) (*ackOutput, error) {
	var v validator
	validateTagKeys(&v, "tagKeys", in.TagKeys, in.TagKeys != nil)
	r := h.resolveResource(&v, in.ResourceARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	if r.consumer == "" {
		if err := h.removeStreamTags(ctx, r.stream, in.TagKeys); err != nil {
			return nil, err
		}
		return &ackOutput{}, nil
	}
	if err := checkTagKeyChars(in.TagKeys, "remove tags from consumer "+r.consumer, h.cfg.Account); err != nil {
		return nil, err
	}
	err := h.updateConsumer(ctx, *in.ResourceARN, func(c *consumerRecord) error {
		for _, k := range in.TagKeys {
			delete(c.Tags, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}

func listTagsForResource(ctx context.Context, h *Handler, in *resourceTagsInput) (*listTagsForResourceOutput, error) {
	var v validator
	r := h.resolveResource(&v, in.ResourceARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	if r.consumer == "" {
		st, _, err := h.lookupStream(ctx, r.stream)
		if err != nil {
			return nil, err
		}
		return &listTagsForResourceOutput{Tags: sortedTags(streamTags(st))}, nil
	}
	_, c, err := h.consumerByARN(ctx, *in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return &listTagsForResourceOutput{Tags: sortedTags(c.Tags)}, nil
}
