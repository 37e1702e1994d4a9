package awsapi

import "strings"

// ARN is an Amazon Resource Name,
// arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE. Region and account are
// empty for global resources (arn:aws:s3:::bucket); the resource may hold
// ':' and '/' (a Kinesis consumer: stream/NAME/consumer/CNAME:TIMESTAMP).
type ARN struct {
	Partition string
	Service   string
	Region    string
	Account   string
	Resource  string
}

// ParseARN splits an ARN into its parts. It checks the form only (six
// parts, a partition, a service and a resource); what a resource means is
// the service's business.
func ParseARN(s string) (ARN, bool) {
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return ARN{}, false
	}
	var parts [4]string
	for i := range parts {
		var found bool
		if parts[i], rest, found = strings.Cut(rest, ":"); !found {
			return ARN{}, false
		}
	}
	a := ARN{Partition: parts[0], Service: parts[1], Region: parts[2], Account: parts[3], Resource: rest}
	if a.Partition == "" || a.Service == "" || a.Resource == "" {
		return ARN{}, false
	}
	return a, true
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// ARNScope builds and reads the ARNs of one service in one region and
// account, the ones an API hands out and accepts: the bridge plays one
// account in one region (--region, --account).
type ARNScope struct {
	// Partition is "aws" when empty.
	Partition string
	Service   string
	// Region and Account are empty for a global service (S3 buckets).
	Region  string
	Account string
}

func (s ARNScope) partition() string {
	if s.Partition == "" {
		return "aws"
	}
	return s.Partition
}

// ARN returns the ARN of resource in the scope:
// ARNScope{Service: "kinesis", Region: "us-east-1", Account: "000000000000"}.ARN("stream/s")
// is arn:aws:kinesis:us-east-1:000000000000:stream/s.
func (s ARNScope) ARN(resource string) string {
	return ARN{Partition: s.partition(), Service: s.Service, Region: s.Region, Account: s.Account, Resource: resource}.String()
}

// Resource returns the resource an ARN names if the ARN is in the scope:
// the same partition, service, region and account.
func (s ARNScope) Resource(arn string) (string, bool) {
	a, ok := ParseARN(arn)
	if !ok || a.Partition != s.partition() || a.Service != s.Service || a.Region != s.Region || a.Account != s.Account {
		return "", false
	}
	return a.Resource, true
}
