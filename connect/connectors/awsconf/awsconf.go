// Package awsconf is the AWS connection settings every built-in AWS connector
// (Kinesis, SQS, S3) shares: region, endpoint and credentials, and the
// aws.Config they make. Without an endpoint the SDK's own resolution and
// credential chain apply, so the same connector runs against real AWS, the
// bridge, kinesalite or any other endpoint.
package awsconf

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/internal/awsbody"
)

// The settings' names.
const (
	Region          = "aws.region"
	Endpoint        = "aws.endpoint.url"
	AccessKeyID     = "aws.access.key.id"
	SecretAccessKey = "aws.secret.access.key"
	SessionToken    = "aws.session.token"
)

// Def describes the settings; connectors append it to their own ConfigDef.
var Def = connect.ConfigDef{
	{Name: Region, Type: connect.ConfigString, Default: "us-east-1", Importance: connect.High, Group: "AWS",
		Doc: "The AWS region.", Check: connect.NonEmpty},
	{Name: Endpoint, Type: connect.ConfigString, Importance: connect.High, Group: "AWS",
		Doc: "The service endpoint (http://127.0.0.1:4566 for the bridge); empty for AWS's own.", Check: checkURL},
	{Name: AccessKeyID, Type: connect.ConfigString, Importance: connect.High, Group: "AWS",
		Doc: "Access key id; empty for the SDK's default credential chain (environment, shared files, instance roles)."},
	{Name: SecretAccessKey, Type: connect.ConfigPassword, Importance: connect.High, Group: "AWS",
		Doc: "Secret access key, with " + AccessKeyID + "."},
	{Name: SessionToken, Type: connect.ConfigPassword, Importance: connect.Low, Group: "AWS",
		Doc: "Session token of temporary credentials."},
}

func checkURL(v any) error {
	s := v.(string)
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("not an http or https URL")
	}
	return nil
}

// Load returns the aws.Config the parsed settings describe. Service clients
// take BaseEndpoint from it.
func Load(ctx context.Context, v connect.Values) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(v.String(Region))}
	if id := v.String(AccessKeyID); id != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, v.String(SecretAccessKey), v.String(SessionToken))))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	// Batches (PutRecords, SendMessageBatch) must not be written twice by
	// the SDK's retry of a request whose connection the SDK itself broke.
	cfg.HTTPClient = awsbody.OwnBody{Next: awshttp.NewBuildableClient()}
	if ep := v.String(Endpoint); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, nil
}
