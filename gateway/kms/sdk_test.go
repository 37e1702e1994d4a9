package kms

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/streambridge/bridge/gateway/awsapi"
	localkms "github.com/streambridge/bridge/security/kms"
	"github.com/streambridge/bridge/security/sigv4"
)

// testServer is a Handler over a keyring file in a temporary directory,
// behind the AWS port's router as cmd/bridge mounts it, on 127.0.0.1.
type testServer struct {
	*Handler
	keys *localkms.Keyring
	url  string
}

func startTestServer(t testing.TB, cfgs ...func(*Config)) *testServer {
	t.Helper()
	keys, err := localkms.Open(t.TempDir()+"/keyring.json", "us-east-1", "000000000000")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Keyring: keys}
	for _, f := range cfgs {
		f(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rt := awsapi.NewRouter(nil)
	if err := rt.Register(awsapi.API{Name: "KMS", Handler: h, TargetPrefixes: []string{TargetPrefix},
		Signing: sigv4.Service{Name: SigningName}, AuthWording: awsapi.AuthJSON}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rt}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return &testServer{Handler: h, keys: keys, url: "http://" + ln.Addr().String()}
}

// client is an aws-sdk-go-v2 KMS client for the server, retries off
// (tests look at first answers), request bodies read-only (see
// readOnlyBodies).
func (ts *testServer) client() *awskms.Client {
	return awskms.New(awskms.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ts.url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   &http.Client{Transport: readOnlyBodies{http.DefaultTransport}},
	})
}

// readOnlyBodies hides the request body's WriteTo from net/http, working
// around aws/aws-sdk-go-v2#2737 as gateway/kinesis's tests do.
type readOnlyBodies struct{ rt http.RoundTripper }

func (r readOnlyBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req = req.Clone(req.Context())
		req.Body = struct{ io.ReadCloser }{req.Body}
	}
	return r.rt.RoundTrip(req)
}

// wantCode fails unless err is an API error with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

func createKey(t *testing.T, c *awskms.Client) *types.KeyMetadata {
	t.Helper()
	out, err := c.CreateKey(t.Context(), &awskms.CreateKeyInput{Description: aws.String("test key")})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata
}

func TestSDKEncryptDecrypt(t *testing.T) {
	ctx := t.Context()
	c := startTestServer(t).client()
	md := createKey(t, c)
	if md.KeyState != types.KeyStateEnabled || md.KeyManager != types.KeyManagerTypeCustomer || md.KeySpec != types.KeySpecSymmetricDefault ||
		!strings.HasPrefix(aws.ToString(md.Arn), "arn:aws:kms:us-east-1:000000000000:key/") || md.CreationDate == nil || aws.ToString(md.Description) != "test key" {
		t.Fatalf("CreateKey metadata %+v", md)
	}
	if _, err := c.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: md.KeyId}); err != nil {
		t.Fatal(err)
	}
	encCtx := map[string]string{"stream": "orders", "purpose": "test"}
	enc, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String("alias/app"), Plaintext: []byte("hello"), EncryptionContext: encCtx})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(enc.KeyId) != aws.ToString(md.Arn) || enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
		t.Fatalf("Encrypt answered key %s, algorithm %s", aws.ToString(enc.KeyId), enc.EncryptionAlgorithm)
	}
	for _, tc := range []struct {
		name   string
		encCtx map[string]string
		keyID  *string
		code   string
	}{
		{"same context", encCtx, nil, ""},
		{"expected key by alias ARN", encCtx, aws.String("arn:aws:kms:us-east-1:000000000000:alias/app"), ""},
		{"no context", nil, nil, "InvalidCiphertextException"},
		{"other context", map[string]string{"stream": "orders", "purpose": "prod"}, nil, "InvalidCiphertextException"},
		{"unknown expected key", encCtx, aws.String("alias/nope"), "NotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: tc.encCtx, KeyId: tc.keyID})
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil || string(dec.Plaintext) != "hello" || aws.ToString(dec.KeyId) != aws.ToString(md.Arn) {
				t.Fatalf("Decrypt = %q %s, %v", dec.Plaintext, aws.ToString(dec.KeyId), err)
			}
		})
	}
	var invalid *types.InvalidCiphertextException
	if _, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); !errors.As(err, &invalid) {
		t.Fatalf("wrong context: %T %v, want *types.InvalidCiphertextException", err, err)
	}

	// Rotation: the old ciphertext still decrypts, new ones use the new
	// key material.
	if _, err := c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: md.KeyId}); err != nil {
		t.Fatal(err)
	}
	rots, err := c.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: md.KeyId})
	if err != nil || len(rots.Rotations) != 1 || rots.Rotations[0].RotationType != types.RotationTypeOnDemand {
		t.Fatalf("ListKeyRotations = %+v, %v", rots, err)
	}
	if dec, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: encCtx}); err != nil || string(dec.Plaintext) != "hello" {
		t.Fatalf("Decrypt after rotation: %v", err)
	}
	enc2, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("again")})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(enc2.CiphertextBlob[:49], enc.CiphertextBlob[:49]) {
		t.Fatal("the ciphertext after rotation names the old key material")
	}

	// Data keys, with and without the plaintext.
	dk, err := c.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: md.KeyId, KeySpec: types.DataKeySpecAes256})
	if err != nil || len(dk.Plaintext) != 32 {
		t.Fatalf("GenerateDataKey = %d bytes, %v", len(dk.Plaintext), err)
	}
	if dec, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: dk.CiphertextBlob}); err != nil || !slices.Equal(dec.Plaintext, dk.Plaintext) {
		t.Fatalf("Decrypt of the data key: %v", err)
	}
	wp, err := c.GenerateDataKeyWithoutPlaintext(ctx, &awskms.GenerateDataKeyWithoutPlaintextInput{KeyId: md.KeyId, NumberOfBytes: aws.Int32(64)})
	if err != nil || len(wp.CiphertextBlob) == 0 {
		t.Fatalf("GenerateDataKeyWithoutPlaintext: %v", err)
	}
	if dec, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: wp.CiphertextBlob}); err != nil || len(dec.Plaintext) != 64 {
		t.Fatalf("Decrypt of the data key without plaintext: %v", err)
	}

	// Disabled: refused both ways; enabled again: fine.
	if _, err := c.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: md.KeyId}); err != nil {
		t.Fatal(err)
	}
	var disabled *types.DisabledException
	if _, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")}); !errors.As(err, &disabled) {
		t.Fatalf("Encrypt with a disabled key: %v", err)
	}
	_, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc2.CiphertextBlob})
	wantCode(t, err, "DisabledException")
	if _, err := c.EnableKey(ctx, &awskms.EnableKeyInput{KeyId: md.KeyId}); err != nil {
		t.Fatal(err)
	}

	// Pending deletion: KMSInvalidStateException; cancelled: Disabled.
	sched, err := c.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: md.KeyId, PendingWindowInDays: aws.Int32(7)})
	if err != nil || sched.KeyState != types.KeyStatePendingDeletion || aws.ToInt32(sched.PendingWindowInDays) != 7 || sched.DeletionDate == nil ||
		sched.DeletionDate.Before(time.Now().Add(7*24*time.Hour-time.Minute)) {
		t.Fatalf("ScheduleKeyDeletion = %+v, %v", sched, err)
	}
	var invalidState *types.KMSInvalidStateException
	if _, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc2.CiphertextBlob}); !errors.As(err, &invalidState) {
		t.Fatalf("Decrypt with a key pending deletion: %v", err)
	}
	if _, err := c.CancelKeyDeletion(ctx, &awskms.CancelKeyDeletionInput{KeyId: md.KeyId}); err != nil {
		t.Fatal(err)
	}
	if d, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String("alias/app")}); err != nil || d.KeyMetadata.KeyState != types.KeyStateDisabled {
		t.Fatalf("after CancelKeyDeletion: %+v, %v", d, err)
	}
}

func TestSDKRotationSettings(t *testing.T) {
	ctx := t.Context()
	c := startTestServer(t).client()
	md := createKey(t, c)
	if _, err := c.EnableKeyRotation(ctx, &awskms.EnableKeyRotationInput{KeyId: md.KeyId, RotationPeriodInDays: aws.Int32(180)}); err != nil {
		t.Fatal(err)
	}
	st, err := c.GetKeyRotationStatus(ctx, &awskms.GetKeyRotationStatusInput{KeyId: md.KeyId})
	if err != nil || !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 180 || st.NextRotationDate == nil {
		t.Fatalf("GetKeyRotationStatus = %+v, %v", st, err)
	}
	if _, err := c.DisableKeyRotation(ctx, &awskms.DisableKeyRotationInput{KeyId: md.KeyId}); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.GetKeyRotationStatus(ctx, &awskms.GetKeyRotationStatusInput{KeyId: md.KeyId}); st.KeyRotationEnabled || st.NextRotationDate != nil {
		t.Fatalf("after DisableKeyRotation: %+v", st)
	}
	if _, err := c.TagResource(ctx, &awskms.TagResourceInput{KeyId: md.KeyId, Tags: []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("data")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListResourceTags(ctx, &awskms.ListResourceTagsInput{KeyId: md.KeyId})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].TagKey) != "team" {
		t.Fatalf("ListResourceTags = %+v, %v", tags, err)
	}
	if _, err := c.UntagResource(ctx, &awskms.UntagResourceInput{KeyId: md.KeyId, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
}

// The refusals, each with KMS's exception code.
func TestSDKRefusals(t *testing.T) {
	ctx := t.Context()
	c := startTestServer(t).client()
	md := createKey(t, c)
	managed, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String("alias/aws/kinesis")})
	if err != nil || managed.KeyMetadata.KeyManager != types.KeyManagerTypeAws {
		t.Fatalf("DescribeKey(alias/aws/kinesis) = %+v, %v", managed, err)
	}
	awsKey := managed.KeyMetadata.KeyId
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"CreateAlias under alias/aws/", func() error {
			_, err := c.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/aws/mine"), TargetKeyId: md.KeyId})
			return err
		}, "NotAuthorizedException"},
		{"DeleteAlias under alias/aws/", func() error {
			_, err := c.DeleteAlias(ctx, &awskms.DeleteAliasInput{AliasName: aws.String("alias/aws/kinesis")})
			return err
		}, "NotAuthorizedException"},
		{"UpdateAlias under alias/aws/", func() error {
			_, err := c.UpdateAlias(ctx, &awskms.UpdateAliasInput{AliasName: aws.String("alias/aws/kinesis"), TargetKeyId: md.KeyId})
			return err
		}, "NotAuthorizedException"},
		{"DisableKey of an AWS managed key", func() error {
			_, err := c.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: awsKey})
			return err
		}, "UnsupportedOperationException"},
		{"ScheduleKeyDeletion of an AWS managed key", func() error {
			_, err := c.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: awsKey})
			return err
		}, "UnsupportedOperationException"},
		{"alias without alias/", func() error {
			_, err := c.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("app"), TargetKeyId: md.KeyId})
			return err
		}, "ValidationException"},
		{"alias twice", func() error {
			in := &awskms.CreateAliasInput{AliasName: aws.String("alias/twice"), TargetKeyId: md.KeyId}
			if _, err := c.CreateAlias(ctx, in); err != nil {
				return err
			}
			_, err := c.CreateAlias(ctx, in)
			return err
		}, "AlreadyExistsException"},
		{"unknown key", func() error {
			_, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String("11111111-2222-4333-8444-555555555555"), Plaintext: []byte("x")})
			return err
		}, "NotFoundException"},
		{"key of another account", func() error {
			_, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(strings.Replace(aws.ToString(md.Arn), "000000000000", "111111111111", 1))})
			return err
		}, "NotFoundException"},
		{"rotation period too short", func() error {
			_, err := c.EnableKeyRotation(ctx, &awskms.EnableKeyRotationInput{KeyId: md.KeyId, RotationPeriodInDays: aws.Int32(30)})
			return err
		}, "ValidationException"},
		{"pending window too short", func() error {
			_, err := c.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: md.KeyId, PendingWindowInDays: aws.Int32(3)})
			return err
		}, "ValidationException"},
		{"plaintext too long", func() error {
			_, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: md.KeyId, Plaintext: make([]byte, 4097)})
			return err
		}, "ValidationException"},
		{"garbage ciphertext", func() error {
			_, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: []byte("not a ciphertext")})
			return err
		}, "InvalidCiphertextException"},
		{"data key spec and bytes", func() error {
			_, err := c.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: md.KeyId, KeySpec: types.DataKeySpecAes128, NumberOfBytes: aws.Int32(16)})
			return err
		}, "ValidationException"},
		{"asymmetric key", func() error {
			_, err := c.CreateKey(ctx, &awskms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify})
			return err
		}, "UnsupportedOperationException"},
		{"bad marker", func() error {
			_, err := c.ListKeys(ctx, &awskms.ListKeysInput{Marker: aws.String("!!")})
			return err
		}, "InvalidMarkerException"},
		{"limit 0", func() error {
			_, err := c.ListAliases(ctx, &awskms.ListAliasesInput{Limit: aws.Int32(0)})
			return err
		}, "ValidationException"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}
}

func TestSDKPaging(t *testing.T) {
	ctx := t.Context()
	c := startTestServer(t).client()
	var ids, aliases []string
	for i := range 7 {
		md := createKey(t, c)
		ids = append(ids, aws.ToString(md.KeyId))
		name := "alias/a" + string(rune('0'+i))
		if _, err := c.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String(name), TargetKeyId: md.KeyId}); err != nil {
			t.Fatal(err)
		}
		aliases = append(aliases, name)
	}
	slices.Sort(ids)

	var got []string
	var pages []int
	p := awskms.NewListKeysPaginator(c, &awskms.ListKeysInput{Limit: aws.Int32(3)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(out.Keys))
		for _, k := range out.Keys {
			got = append(got, aws.ToString(k.KeyId))
		}
	}
	if !slices.Equal(got, ids) || !slices.Equal(pages, []int{3, 3, 1}) {
		t.Fatalf("ListKeys pages %v: %v, want %v", pages, got, ids)
	}

	got, pages = nil, nil
	pa := awskms.NewListAliasesPaginator(c, &awskms.ListAliasesInput{Limit: aws.Int32(2)})
	for pa.HasMorePages() {
		out, err := pa.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(out.Aliases))
		for _, a := range out.Aliases {
			got = append(got, aws.ToString(a.AliasName))
		}
	}
	if !slices.Equal(got, aliases) || !slices.Equal(pages, []int{2, 2, 2, 1}) {
		t.Fatalf("ListAliases pages %v: %v, want %v", pages, got, aliases)
	}
	one, err := c.ListAliases(ctx, &awskms.ListAliasesInput{KeyId: aws.String(ids[0])})
	if err != nil || len(one.Aliases) != 1 || one.Truncated {
		t.Fatalf("ListAliases of one key = %+v, %v", one, err)
	}
}
