package kinesis

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func cpTagString(tags []types.Tag) string {
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = *t.Key + "=" + aws.ToString(t.Value)
	}
	return strings.Join(parts, ",")
}

func TestStreamTagsWithSDK(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "t", 1)
	// kinesalite's accepted characters, AWS's.
	_, err := kc.AddTagsToStream(ctx, &awskinesis.AddTagsToStreamInput{
		StreamName: aws.String("t"),
		Tags:       map[string]string{"a": "a", "ü0 _.": "a", "/=+-@": "a", "b": "ü0 _./=+-@", "c": ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kc.AddTagsToStream(ctx, &awskinesis.AddTagsToStreamInput{StreamName: aws.String("t"), Tags: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	out, err := kc.ListTagsForStream(ctx, &awskinesis.ListTagsForStreamInput{StreamName: aws.String("t")})
	if err != nil || cpTagString(out.Tags) != "/=+-@=a,a=b,b=ü0 _./=+-@,c=,ü0 _.=a" || *out.HasMoreTags {
		t.Fatalf("tags %s, %v", cpTagString(out.Tags), err)
	}
	page, err := kc.ListTagsForStream(ctx, &awskinesis.ListTagsForStreamInput{
		StreamName: aws.String("t"), ExclusiveStartTagKey: aws.String("a"), Limit: aws.Int32(2),
	})
	if err != nil || cpTagString(page.Tags) != "b=ü0 _./=+-@,c=" || !*page.HasMoreTags {
		t.Fatalf("page %s %v, %v", cpTagString(page.Tags), page.HasMoreTags, err)
	}
	if _, err := kc.RemoveTagsFromStream(ctx, &awskinesis.RemoveTagsFromStreamInput{
		StreamName: aws.String("t"), TagKeys: []string{"a", "ü0 _.", "/=+-@", "nope"},
	}); err != nil {
		t.Fatal(err)
	}
	out, _ = kc.ListTagsForStream(ctx, &awskinesis.ListTagsForStreamInput{StreamName: aws.String("t")})
	if cpTagString(out.Tags) != "b=ü0 _./=+-@,c=" {
		t.Fatalf("after removing: %s", cpTagString(out.Tags))
	}

	// The resource-based operations on the stream's ARN see the same tags.
	arn := aws.String(ts.streamARN("t"))
	if _, err := kc.TagResource(ctx, &awskinesis.TagResourceInput{ResourceARN: arn, Tags: map[string]string{"env": "prod"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.UntagResource(ctx, &awskinesis.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"b"}}); err != nil {
		t.Fatal(err)
	}
	res, err := kc.ListTagsForResource(ctx, &awskinesis.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil || cpTagString(res.Tags) != "c=,env=prod" {
		t.Fatalf("resource tags %s, %v", cpTagString(res.Tags), err)
	}
}

func TestConsumerTagsWithSDK(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "ct", 1)
	reg, err := kc.RegisterStreamConsumer(ctx, &awskinesis.RegisterStreamConsumerInput{
		StreamARN: aws.String(ts.streamARN("ct")), ConsumerName: aws.String("app"), Tags: map[string]string{"k": "v"},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := reg.Consumer.ConsumerARN
	if _, err := kc.TagResource(ctx, &awskinesis.TagResourceInput{ResourceARN: arn, Tags: map[string]string{"x": "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.UntagResource(ctx, &awskinesis.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"k"}}); err != nil {
		t.Fatal(err)
	}
	res, err := kc.ListTagsForResource(ctx, &awskinesis.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil || cpTagString(res.Tags) != "x=1" {
		t.Fatalf("consumer tags %s, %v", cpTagString(res.Tags), err)
	}
	// The stream's own tags are untouched.
	st, _ := kc.ListTagsForStream(ctx, &awskinesis.ListTagsForStreamInput{StreamName: aws.String("ct")})
	if len(st.Tags) != 0 {
		t.Fatalf("stream tags %s", cpTagString(st.Tags))
	}
	_, err = kc.ListTagsForResource(ctx, &awskinesis.ListTagsForResourceInput{ResourceARN: aws.String(*arn + "0")})
	cpSDKErr(t, err, errResourceNotFound, "")
}

func TestTagErrors(t *testing.T) {
	ts := startTestServer(t)
	cpCreate(t, ts.client(), "t", 1)
	acct := " under account 000000000000"
	invalidChars := "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."
	percent := "Failed to add tags to stream t" + acct + " because some tags contained illegal characters. " +
		"The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'."
	long := strings.Repeat("a", 129)
	fifty := map[string]any{}
	for i := 0; i < 50; i++ {
		fifty[fmt.Sprintf("k%02d", i)] = ""
	}
	for _, tc := range []struct {
		name, op     string
		body         map[string]any
		typ, message string
	}{
		{"nothing", "AddTagsToStream", map[string]any{}, errValidation,
			"1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"},
		{"no tags", "AddTagsToStream", map[string]any{"StreamName": "t", "Tags": map[string]any{}}, errValidation,
			"1 validation error detected: Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"long key", "AddTagsToStream", map[string]any{"StreamName": "t", "Tags": map[string]any{long: "3", "a": "1"}}, errValidation,
			"1 validation error detected: Value '{a=1, " + long + "=3}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: " +
				"[Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
		{"long value", "AddTagsToStream", map[string]any{"StreamName": "t", "Tags": map[string]any{"c": strings.Repeat("v", 257)}}, errValidation,
			"1 validation error detected: Value '{c=" + strings.Repeat("v", 257) + "}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: " +
				"[Member must have length less than or equal to 256, Member must have length greater than or equal to 0]"},
		{"unknown stream", "AddTagsToStream", map[string]any{"StreamName": "nope", "Tags": map[string]any{"a": "b"}}, errResourceNotFound,
			"Stream nope" + acct + " not found."},
		{"semicolon in key", "AddTagsToStream", map[string]any{"StreamName": "t", "Tags": map[string]any{"abc;def": "1"}}, errInvalidArgument, invalidChars},
		{"tab in value", "AddTagsToStream", map[string]any{"StreamName": "t", "Tags": map[string]any{"a": "abc\tdef"}}, errInvalidArgument, invalidChars},
		{"comma in value", "AddTagsToStream", map[string]any{"StreamName": "t", "Tags": map[string]any{"a": "abc,def"}}, errInvalidArgument, invalidChars},
		{"percent in key", "AddTagsToStream", map[string]any{"StreamName": "t", "Tags": map[string]any{"abc%def": "1"}}, errInvalidArgument, percent},
		{"remove: no keys", "RemoveTagsFromStream", map[string]any{"StreamName": "t", "TagKeys": []string{}}, errValidation,
			"1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"remove: percent", "RemoveTagsFromStream", map[string]any{"StreamName": "t", "TagKeys": []string{"a%"}}, errInvalidArgument,
			"Failed to remove tags from stream t" + acct + " because some tags contained illegal characters. " +
				"The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'."},
		{"list: limit", "ListTagsForStream", map[string]any{"StreamName": "t", "Limit": 51}, errValidation,
			"1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50"},
		{"resource: no ARN", "ListTagsForResource", map[string]any{}, errValidation,
			"1 validation error detected: Value null at 'resourceARN' failed to satisfy constraint: Member must not be null"},
		{"resource: unknown stream", "ListTagsForResource", map[string]any{"ResourceARN": ts.streamARN("nope")}, errResourceNotFound,
			"Stream nope" + acct + " not found."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := ts.call(t, tc.op, tc.body)
			cpRawErr(t, status, out, tc.typ, tc.message)
		})
	}
	// 50 tags fit; the 51st does not.
	if status, out := ts.call(t, "AddTagsToStream", map[string]any{"StreamName": "t", "Tags": fifty}); status != 200 {
		t.Fatalf("50 tags: %d %v", status, out)
	}
	status, out := ts.call(t, "AddTagsToStream", map[string]any{"StreamName": "t", "Tags": map[string]any{"one-more": ""}})
	cpRawErr(t, status, out, errInvalidArgument,
		"Failed to add tags to stream t"+acct+" because a given stream cannot have more than 50 tags associated with it.")
	// Overwriting an existing key is no new tag.
	if status, out := ts.call(t, "AddTagsToStream", map[string]any{"StreamName": "t", "Tags": map[string]any{"k00": "x"}}); status != 200 {
		t.Fatalf("overwrite: %d %v", status, out)
	}
}
