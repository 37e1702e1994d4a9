package main

import (
	"fmt"
	"log/slog"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/security/iampolicy"
)

// awsAuthorizer is the Kinesis and SQS APIs' authorizer: nil (everything
// allowed) without --aws-policies-file, else the policies of the file
// attached to the keys of the credentials file. The file is loaded now,
// so a bad document, or a key the credentials file does not have (a
// policy that could never apply, most likely a typo), stops the start.
func (o *securityOptions) awsAuthorizer(account string, log *slog.Logger) (awsapi.Authorizer, error) {
	if o.awsPoliciesFile == "" {
		return nil, nil
	}
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
	log.Info("aws: IAM policies enforced", "policies_file", o.awsPoliciesFile, "keys", len(byKey), "account", account)
	return set, nil
}
