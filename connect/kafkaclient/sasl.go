package kafkaclient

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/twmb/franz-go/pkg/sasl"
	kaws "github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// The SASL settings and the values read from them.
const (
	SASLMechanism           = "sasl.mechanism"
	SASLJAASConfig          = "sasl.jaas.config"
	SASLLoginCallback       = "sasl.login.callback.handler.class"
	SASLClientCallback      = "sasl.client.callback.handler.class"
	MechanismPlain          = "PLAIN"
	MechanismSCRAMSHA256    = "SCRAM-SHA-256"
	MechanismSCRAMSHA512    = "SCRAM-SHA-512"
	MechanismAWSMSKIAM      = "AWS_MSK_IAM"
	MechanismOAuthBearer    = "OAUTHBEARER"
	PlainLoginModule        = "org.apache.kafka.common.security.plain.PlainLoginModule"
	ScramLoginModule        = "org.apache.kafka.common.security.scram.ScramLoginModule"
	IAMLoginModule          = "software.amazon.msk.auth.iam.IAMLoginModule"
	OAuthBearerLoginModule  = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	IAMOAuthBearerCallback  = "software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler"
	IAMClientCallback       = "software.amazon.msk.auth.iam.IAMClientCallbackHandler"
	kafkaDefaultSASLMech    = "GSSAPI"
	mskIAMUserAgent         = "streambridge-connect"
	mskIAMTokenLifetimeSecs = 900
)

// Mechanisms are the sasl.mechanism values read.
var Mechanisms = []string{MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512, MechanismAWSMSKIAM, MechanismOAuthBearer}

// loginModules is the JAAS login module each mechanism takes.
var loginModules = map[string]string{
	MechanismPlain:       PlainLoginModule,
	MechanismSCRAMSHA256: ScramLoginModule,
	MechanismSCRAMSHA512: ScramLoginModule,
	MechanismAWSMSKIAM:   IAMLoginModule,
	MechanismOAuthBearer: OAuthBearerLoginModule,
}

// Mechanism is the franz-go SASL mechanism of sasl.mechanism with the
// credentials of sasl.jaas.config. PLAIN and SCRAM take username and
// password; AWS_MSK_IAM (IAMLoginModule) and OAUTHBEARER with the MSK IAM
// login callback handler sign with the default AWS credential chain, or
// the awsProfileName profile of the shared configuration files.
func Mechanism(get Lookup) (sasl.Mechanism, error) {
	mech := get.value(SASLMechanism)
	if mech == "" {
		mech = kafkaDefaultSASLMech
	}
	want, ok := loginModules[mech]
	if !ok {
		return nil, fmt.Errorf("%s %s is not supported: want one of %s", SASLMechanism, mech, strings.Join(Mechanisms, ", "))
	}
	raw := get.value(SASLJAASConfig)
	if raw == "" {
		return nil, fmt.Errorf("Could not find a 'KafkaClient' entry in the JAAS configuration. System property 'java.security.auth.login.config' is not set: set %s (%s required ...;)", SASLJAASConfig, want)
	}
	entries, err := ParseJAAS(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SASLJAASConfig, err)
	}
	if len(entries) != 1 {
		return nil, fmt.Errorf("%s: JAAS config property contains %d login modules, should be 1 module", SASLJAASConfig, len(entries))
	}
	e := entries[0]
	if e.Module != want {
		return nil, fmt.Errorf("%s: %s logs in with %s, not %s", SASLJAASConfig, mech, want, e.Module)
	}
	switch mech {
	case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
		user, pass := e.Options["username"], e.Options["password"]
		if user == "" || e.Options["password"] == "" {
			return nil, fmt.Errorf("%s: %s needs username and password options", SASLJAASConfig, e.Module)
		}
		switch mech {
		case MechanismPlain:
			return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
		case MechanismSCRAMSHA256:
			return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(), nil
		default:
			return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(), nil
		}
	case MechanismAWSMSKIAM:
		creds, _, err := awsCredentials(e.Options)
		if err != nil {
			return nil, err
		}
		if cb := get.value(SASLClientCallback); cb != "" && cb != IAMClientCallback {
			return nil, fmt.Errorf("%s %s: AWS_MSK_IAM takes %s", SASLClientCallback, cb, IAMClientCallback)
		}
		// franz-go takes the signing region from an MSK broker's host
		// name, else from AWS_REGION.
		return kaws.ManagedStreamingIAM(func(ctx context.Context) (kaws.Auth, error) {
			c, err := creds.Retrieve(ctx)
			if err != nil {
				return kaws.Auth{}, err
			}
			return kaws.Auth{AccessKey: c.AccessKeyID, SecretKey: c.SecretAccessKey, SessionToken: c.SessionToken, UserAgent: mskIAMUserAgent}, nil
		}), nil
	default: // OAUTHBEARER
		if cb := get.value(SASLLoginCallback); cb != IAMOAuthBearerCallback {
			return nil, fmt.Errorf("%s %q: OAUTHBEARER tokens are made by MSK IAM's %s only (OIDC token endpoints are not supported)", SASLLoginCallback, cb, IAMOAuthBearerCallback)
		}
		creds, region, err := awsCredentials(e.Options)
		if err != nil {
			return nil, err
		}
		if region == "" {
			return nil, errors.New("OAUTHBEARER with MSK IAM needs a region: set AWS_REGION or the profile's region")
		}
		return oauth.Oauth(func(ctx context.Context) (oauth.Auth, error) {
			c, err := creds.Retrieve(ctx)
			if err != nil {
				return oauth.Auth{}, err
			}
			tok, err := MSKIAMToken(ctx, c, region, time.Now())
			return oauth.Auth{Token: tok}, err
		}), nil
	}
}

// awsCredentials is the credential chain IAMLoginModule's options name:
// the default chain (environment, shared files, container and instance
// roles), or awsProfileName's profile (which may assume a role with
// role_arn). awsRoleArn itself is refused: it would need STS, which a
// profile with role_arn and source_profile gives the same way.
func awsCredentials(opts map[string]string) (aws.CredentialsProvider, string, error) {
	if arn := opts["awsRoleArn"]; arn != "" {
		return nil, "", fmt.Errorf("%s: awsRoleArn is not supported: put role_arn (and source_profile) in a profile of ~/.aws/config and name it with awsProfileName", SASLJAASConfig)
	}
	var lo []func(*awsconfig.LoadOptions) error
	if p := opts["awsProfileName"]; p != "" {
		lo = append(lo, awsconfig.WithSharedConfigProfile(p))
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), lo...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: AWS configuration: %w", SASLJAASConfig, err)
	}
	if cfg.Credentials == nil {
		return nil, "", fmt.Errorf("%s: no AWS credentials found", SASLJAASConfig)
	}
	region := cfg.Region
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	return cfg.Credentials, region, nil
}

// emptySHA256 is the payload hash of a presigned GET.
var emptySHA256 = func() string { h := sha256.Sum256(nil); return hex.EncodeToString(h[:]) }()

// MSKIAMToken is the OAUTHBEARER token AWS's MSK IAM signer libraries
// make: a presigned GET of https://kafka.REGION.amazonaws.com/ with
// Action=kafka-cluster:Connect, valid 15 minutes, User-Agent added after
// signing, as unpadded base64url.
func MSKIAMToken(ctx context.Context, c aws.Credentials, region string, now time.Time) (string, error) {
	host := "kafka." + region + ".amazonaws.com"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+"/", nil)
	if err != nil {
		return "", err
	}
	q := req.URL.Query()
	q.Set("Action", "kafka-cluster:Connect")
	q.Set("X-Amz-Expires", fmt.Sprint(mskIAMTokenLifetimeSecs))
	req.URL.RawQuery = q.Encode()
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, c, req, emptySHA256, "kafka-cluster", region, now.UTC())
	if err != nil {
		return "", err
	}
	signed += "&User-Agent=" + mskIAMUserAgent
	return base64.RawURLEncoding.EncodeToString([]byte(signed)), nil
}
