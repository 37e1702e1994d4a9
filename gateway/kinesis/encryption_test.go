package kinesis

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/security/kms"
)

// TestEncryptionWithSDK: StartStreamEncryption encrypts the records put
// after it (GetRecords says so per record), under any form of key
// reference; StopStreamEncryption stops it; a key that cannot be used is
// refused with the KMS*Exception AWS answers, by the change and by puts
// and reads, and works again once enabled.
func TestEncryptionWithSDK(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "e", 1)
	put := func(data string) error {
		_, err := kc.PutRecord(ctx, &awskinesis.PutRecordInput{StreamName: aws.String("e"), PartitionKey: aws.String("k"), Data: []byte(data)})
		return err
	}
	encrypt := func(key string) error {
		_, err := kc.StartStreamEncryption(ctx, &awskinesis.StartStreamEncryptionInput{
			StreamName: aws.String("e"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(key),
		})
		return err
	}
	if err := put("clear"); err != nil {
		t.Fatal(err)
	}
	key, err := ts.keyring.CreateKey(kms.CreateKeyInput{Description: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.keyring.CreateAlias("alias/mine", key.KeyID); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"alias/aws/kinesis", key.KeyID, key.Arn, "alias/mine", ts.keyring.AliasARN("alias/mine")} {
		if err := encrypt(ref); err != nil {
			t.Fatalf("StartStreamEncryption %s: %v", ref, err)
		}
		if err := put("under " + ref); err != nil {
			t.Fatal(err)
		}
	}
	cpSDKErr(t, encrypt("alias/nope"), errKMSNotFound, "")
	cpSDKErr(t, encrypt("1234abcd-12ab-34cd-56ef-1234567890ab"), errKMSNotFound, "")
	if d := cpDescribe(t, kc, "e"); d.EncryptionType != types.EncryptionTypeKms || aws.ToString(d.KeyId) != ts.keyring.AliasARN("alias/mine") {
		t.Fatalf("a refused change changed the stream: %s %v", d.EncryptionType, aws.ToString(d.KeyId))
	}
	if _, err := kc.StopStreamEncryption(ctx, &awskinesis.StopStreamEncryptionInput{
		StreamName: aws.String("e"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/mine"),
	}); err != nil {
		t.Fatal(err)
	}
	if err := put("clear again"); err != nil {
		t.Fatal(err)
	}

	read := func() ([]types.Record, error) {
		it, err := kc.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{StreamName: aws.String("e"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			return nil, err
		}
		out, err := kc.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			return nil, err
		}
		return out.Records, nil
	}
	recs, err := read()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 7 {
		t.Fatalf("%d records, want 7", len(recs))
	}
	for i, r := range recs {
		want := types.EncryptionTypeKms
		if i == 0 || i == 6 {
			want = ""
		}
		if r.EncryptionType != want {
			t.Errorf("record %d (%s): EncryptionType %q, want %q", i, r.Data, r.EncryptionType, want)
		}
	}

	// A disabled key stops puts and reads of what it encrypted.
	if err := encrypt("alias/mine"); err != nil {
		t.Fatal(err)
	}
	if err := ts.keyring.DisableKey(key.KeyID); err != nil {
		t.Fatal(err)
	}
	cpSDKErr(t, put("refused"), errKMSDisabled, "")
	_, err = read()
	cpSDKErr(t, err, errKMSDisabled, "")
	if err := ts.keyring.EnableKey(key.KeyID); err != nil {
		t.Fatal(err)
	}
	if err := put("after enable"); err != nil {
		t.Fatal(err)
	}
	if recs, err := read(); err != nil || len(recs) != 8 || string(recs[7].Data) != "after enable" {
		t.Fatalf("after enabling: %d records, %v", len(recs), err)
	}
	// A key pending deletion: KMSInvalidStateException.
	if _, err := ts.keyring.ScheduleKeyDeletion(key.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	cpSDKErr(t, put("refused"), errKMSInvalidState, "")
}
