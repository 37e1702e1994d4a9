package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/gateway/kafka"
	"github.com/streambridge/bridge/security/iampolicy"
	"github.com/streambridge/bridge/security/mskauthz"
	"github.com/streambridge/bridge/security/sasl"
	"github.com/streambridge/bridge/store"
)

// awsPoliciesOnce loads --aws-policies-file once for the ports that are
// authorized by it (the AWS port's Kinesis and SQS, the Kafka port's MSK
// IAM principals), which the server may build concurrently: both then
// decide by the one Set, so a key has the same policies on both.
type awsPoliciesOnce struct {
	once sync.Once
	set  *iampolicy.Set
	err  error
}

// awsPolicies is the Set of --aws-policies-file, nil without one. The
// file is loaded on first use, so a bad document, or a key the
// credentials file does not have (a policy that could never apply, most
// likely a typo), stops the start.
func (o *securityOptions) awsPolicies(account string, log *slog.Logger) (*iampolicy.Set, error) {
	if o.awsPoliciesFile == "" {
		return nil, nil
	}
	o.awsPols.once.Do(func() {
		o.awsPols.set, o.awsPols.err = o.loadAWSPolicies(account, log)
	})
	return o.awsPols.set, o.awsPols.err
}

func (o *securityOptions) loadAWSPolicies(account string, log *slog.Logger) (*iampolicy.Set, error) {
	creds, err := o.awsCredentials()
	if err != nil {
		return nil, err
	}
	byKey, err := iampolicy.LoadFile(o.awsPoliciesFile)
	if err != nil {
		return nil, fmt.Errorf("--aws-policies-file: %w", err)
	}
	set := iampolicy.NewSet(account)
	for key := range byKey {
		if _, ok := creds.Lookup(key); !ok {
			return nil, fmt.Errorf("--aws-policies-file: %s: access key id %s is not in --aws-credentials-file %s", o.awsPoliciesFile, key, o.awsCredentialsFile)
		}
	}
	for _, key := range creds.AccessKeyIDs() {
		c, _ := creds.Lookup(key)
		set.AddKey(key, c.Name, byKey[key]...)
		if len(byKey[key]) == 0 {
			log.Info("aws: access key has no policies: only resource policies can allow it anything", "access_key_id", key, "credential", c.Name)
		}
	}
	log.Info("aws: IAM policies loaded", "policies_file", o.awsPoliciesFile, "keys", len(byKey), "account", account)
	return set, nil
}

// awsAuthorizer is the Kinesis and SQS APIs' authorizer: nil (everything
// allowed) without --aws-policies-file, else the policies of the file
// attached to the keys of the credentials file.
func (o *securityOptions) awsAuthorizer(account string, log *slog.Logger) (awsapi.Authorizer, error) {
	set, err := o.awsPolicies(account, log)
	if set == nil || err != nil {
		return nil, err // never a typed nil: that would not read as "no authorizer"
	}
	return set, nil
}

// mskIAMAuthorizer is the authorizer of the Kafka port's MSK IAM
// principals: nil unless --aws-policies-file is set and AWS_MSK_IAM or
// OAUTHBEARER is enabled. Their requests are then decided by the key's
// kafka-cluster:* policies (and their logins need kafka-cluster:Connect),
// not by --authorizer, as on MSK, where Kafka ACLs do not apply to IAM
// identities; every other principal stays with --authorizer.
func (o *serveOptions) mskIAMAuthorizer(ctx context.Context, st store.State, log *slog.Logger) (*mskauthz.Authorizer, error) {
	if o.security.sasl.needsAWSCredentials() == "" {
		return nil, nil
	}
	set, err := o.security.awsPolicies(o.aws.account, log)
	if set == nil || err != nil {
		return nil, err
	}
	cid, err := kafka.LoadClusterID(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("kafka cluster id: %w", err)
	}
	a, err := mskauthz.New(mskauthz.Config{
		Policies: set, Region: o.aws.region, Account: o.aws.account,
		ClusterName: o.security.mskClusterName, ClusterUUID: cid, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	log.Info("kafka: MSK IAM principals authorized by --aws-policies-file", "cluster_arn", a.ClusterARN())
	return a, nil
}

// mskIAMAuthorizers is Config.SASLAuthorizers for a: the enabled MSK IAM
// mechanisms, each decided by a.
func (o *saslOptions) mskIAMAuthorizers(a *mskauthz.Authorizer) map[string]kafka.Authorizer {
	if a == nil {
		return nil
	}
	out := map[string]kafka.Authorizer{}
	for _, name := range o.enabled {
		if sasl.NeedsAWSCredentials(name) {
			out[name] = a
		}
	}
	return out
}

// checkMSKClusterName refuses a name that would not make a valid ARN
// segment, or that policies could not name literally.
func checkMSKClusterName(name string) error {
	if name == "" || strings.ContainsAny(name, "/*?: ") {
		return fmt.Errorf("--msk-cluster-name %q: want a name without /, :, *, ? or spaces (it is a segment of the cluster's ARN)", name)
	}
	return nil
}
