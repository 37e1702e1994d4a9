package awsapi

import "testing"

func TestParseARN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ARN
	}{
		{"arn:aws:kinesis:us-east-1:000000000000:stream/s", ARN{"aws", "kinesis", "us-east-1", "000000000000", "stream/s"}},
		{"arn:aws:kinesis:eu-west-1:123456789012:stream/s/consumer/app:1700000000", ARN{"aws", "kinesis", "eu-west-1", "123456789012", "stream/s/consumer/app:1700000000"}},
		{"arn:aws:sqs:us-east-1:000000000000:orders.fifo", ARN{"aws", "sqs", "us-east-1", "000000000000", "orders.fifo"}},
		{"arn:aws:s3:::bucket", ARN{"aws", "s3", "", "", "bucket"}},
		{"arn:aws:s3:::bucket/key/with:colon", ARN{"aws", "s3", "", "", "bucket/key/with:colon"}},
		{"arn:aws-cn:kinesis:cn-north-1:000000000000:stream/s", ARN{"aws-cn", "kinesis", "cn-north-1", "000000000000", "stream/s"}},
	} {
		got, ok := ParseARN(tc.in)
		if !ok || got != tc.want {
			t.Errorf("ParseARN(%q) = %+v, %v; want %+v", tc.in, got, ok, tc.want)
			continue
		}
		if s := got.String(); s != tc.in {
			t.Errorf("ParseARN(%q).String() = %q", tc.in, s)
		}
	}
	for _, bad := range []string{
		"", "arn", "arn:", "arn:aws:kinesis:us-east-1:000000000000", "arn:aws:kinesis:us-east-1:000000000000:",
		"arn::kinesis:us-east-1:0:stream/s", "arn:aws::us-east-1:0:stream/s", "urn:aws:kinesis:r:a:stream/s", "stream/s",
	} {
		if a, ok := ParseARN(bad); ok {
			t.Errorf("ParseARN(%q) = %+v, want refused", bad, a)
		}
	}
}

func TestARNScope(t *testing.T) {
	kinesis := ARNScope{Service: "kinesis", Region: "us-east-1", Account: "000000000000"}
	sqs := ARNScope{Service: "sqs", Region: "eu-west-1", Account: "123456789012"}
	s3 := ARNScope{Service: "s3"}
	for _, tc := range []struct {
		scope    ARNScope
		resource string
		want     string
	}{
		{kinesis, "stream/s", "arn:aws:kinesis:us-east-1:000000000000:stream/s"},
		{kinesis, "stream/s/consumer/c:1700000000", "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000"},
		{sqs, "q", "arn:aws:sqs:eu-west-1:123456789012:q"},
		{s3, "bucket", "arn:aws:s3:::bucket"},
		{ARNScope{Partition: "aws-us-gov", Service: "sqs", Region: "us-gov-west-1", Account: "1"}, "q", "arn:aws-us-gov:sqs:us-gov-west-1:1:q"},
	} {
		arn := tc.scope.ARN(tc.resource)
		if arn != tc.want {
			t.Errorf("ARN(%q) = %q, want %q", tc.resource, arn, tc.want)
		}
		if res, ok := tc.scope.Resource(arn); !ok || res != tc.resource {
			t.Errorf("Resource(%q) = %q, %v", arn, res, ok)
		}
	}
	for _, other := range []string{
		"arn:aws:kinesis:us-west-2:000000000000:stream/s", // another region
		"arn:aws:kinesis:us-east-1:111111111111:stream/s", // another account
		"arn:aws:firehose:us-east-1:000000000000:stream/s",
		"arn:aws-cn:kinesis:us-east-1:000000000000:stream/s",
		"arn:aws:kinesis:us-east-1:000000000000:",
		"not an arn",
	} {
		if res, ok := kinesis.Resource(other); ok {
			t.Errorf("Resource(%q) = %q: in scope", other, res)
		}
	}
}
