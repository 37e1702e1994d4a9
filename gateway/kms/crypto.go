package kms

import (
	"context"

	"github.com/streambridge/bridge/gateway/awsapi"
	localkms "github.com/streambridge/bridge/security/kms"
)

func init() {
	register("Encrypt", (*Handler).encrypt)
	register("Decrypt", (*Handler).decrypt)
	register("GenerateDataKey", (*Handler).generateDataKey)
	register("GenerateDataKeyWithoutPlaintext", (*Handler).generateDataKeyWithoutPlaintext)
	register("ReEncrypt", (*Handler).reEncrypt)
}

// symmetric is the one encryption algorithm of the keyring's keys.
const symmetric = localkms.AlgorithmSymmetric

// checkAlgorithm refuses an algorithm a symmetric key has not, as KMS
// does, and DryRun, which the keyring has no way to honour.
func checkAlgorithm(alg *string, dryRun bool) error {
	if alg != nil && *alg != symmetric {
		return &localkms.Error{Code: localkms.CodeInvalidKeyUsage, Message: "You cannot use the encryption algorithm " + *alg + " with this KMS key"}
	}
	if dryRun {
		return &localkms.Error{Code: localkms.CodeUnsupportedOperation, Message: "DryRun is not supported"}
	}
	return nil
}

type encryptInput struct {
	keyIDInput
	Plaintext           []byte            `json:"Plaintext"`
	EncryptionContext   map[string]string `json:"EncryptionContext"`
	EncryptionAlgorithm *string           `json:"EncryptionAlgorithm"`
	DryRun              bool              `json:"DryRun"`
}

type encryptOutput struct {
	CiphertextBlob      []byte `json:"CiphertextBlob"`
	KeyID               string `json:"KeyId"`
	EncryptionAlgorithm string `json:"EncryptionAlgorithm"`
}

func (h *Handler) encrypt(_ context.Context, in *encryptInput) (*encryptOutput, error) {
	var v awsapi.Violations
	checkKeyID(&v, "keyId", in.KeyID)
	v.Required("plaintext", in.Plaintext != nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := checkAlgorithm(in.EncryptionAlgorithm, in.DryRun); err != nil {
		return nil, err
	}
	out, err := h.keys.Encrypt(*in.KeyID, in.Plaintext, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return &encryptOutput{CiphertextBlob: out.CiphertextBlob, KeyID: out.KeyARN, EncryptionAlgorithm: symmetric}, nil
}

type decryptInput struct {
	CiphertextBlob      []byte            `json:"CiphertextBlob"`
	EncryptionContext   map[string]string `json:"EncryptionContext"`
	KeyID               *string           `json:"KeyId"`
	EncryptionAlgorithm *string           `json:"EncryptionAlgorithm"`
	GrantTokens         []string          `json:"GrantTokens"`
	DryRun              bool              `json:"DryRun"`
	Recipient           any               `json:"Recipient"`
}

type decryptOutput struct {
	Plaintext           []byte `json:"Plaintext"`
	KeyID               string `json:"KeyId"`
	EncryptionAlgorithm string `json:"EncryptionAlgorithm"`
	KeyMaterialID       string `json:"KeyMaterialId,omitempty"`
}

func (h *Handler) decrypt(_ context.Context, in *decryptInput) (*decryptOutput, error) {
	var v awsapi.Violations
	if v.Required("ciphertextBlob", in.CiphertextBlob != nil) && (len(in.CiphertextBlob) < 1 || len(in.CiphertextBlob) > 6144) {
		v.Fail("ciphertextBlob", "java.nio.HeapByteBuffer", "have length between 1 and 6144")
	}
	v.Str("keyId", in.KeyID, 1, 2048, nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := checkAlgorithm(in.EncryptionAlgorithm, in.DryRun); err != nil {
		return nil, err
	}
	if in.Recipient != nil {
		return nil, &localkms.Error{Code: localkms.CodeUnsupportedOperation, Message: "Recipient (Nitro Enclaves) is not supported"}
	}
	out, err := h.keys.DecryptCiphertext(localkms.DecryptInput{CiphertextBlob: in.CiphertextBlob, EncryptionContext: in.EncryptionContext, KeyID: deref(in.KeyID)})
	if err != nil {
		return nil, err
	}
	return &decryptOutput{Plaintext: out.Plaintext, KeyID: out.KeyARN, EncryptionAlgorithm: symmetric, KeyMaterialID: out.KeyMaterialID}, nil
}

type generateDataKeyInput struct {
	keyIDInput
	KeySpec           *string           `json:"KeySpec"`
	NumberOfBytes     *int              `json:"NumberOfBytes"`
	EncryptionContext map[string]string `json:"EncryptionContext"`
	DryRun            bool              `json:"DryRun"`
	Recipient         any               `json:"Recipient"`
}

type generateDataKeyOutput struct {
	CiphertextBlob []byte `json:"CiphertextBlob"`
	Plaintext      []byte `json:"Plaintext,omitempty"`
	KeyID          string `json:"KeyId"`
	KeyMaterialID  string `json:"KeyMaterialId,omitempty"`
}

func (h *Handler) newDataKey(in *generateDataKeyInput) (*generateDataKeyOutput, error) {
	var v awsapi.Violations
	checkKeyID(&v, "keyId", in.KeyID)
	v.OneOf("keySpec", in.KeySpec, "AES_256", "AES_128")
	v.IntRange("numberOfBytes", in.NumberOfBytes, 1, 1024)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := checkAlgorithm(nil, in.DryRun); err != nil {
		return nil, err
	}
	if in.Recipient != nil {
		return nil, &localkms.Error{Code: localkms.CodeUnsupportedOperation, Message: "Recipient (Nitro Enclaves) is not supported"}
	}
	n := 0
	if in.NumberOfBytes != nil {
		n = *in.NumberOfBytes
	}
	out, err := h.keys.NewDataKey(localkms.GenerateDataKeyInput{KeyID: *in.KeyID, KeySpec: deref(in.KeySpec), NumberOfBytes: n, EncryptionContext: in.EncryptionContext})
	if err != nil {
		return nil, err
	}
	return &generateDataKeyOutput{CiphertextBlob: out.CiphertextBlob, Plaintext: out.Plaintext, KeyID: out.KeyARN, KeyMaterialID: out.KeyMaterialID}, nil
}

func (h *Handler) generateDataKey(_ context.Context, in *generateDataKeyInput) (*generateDataKeyOutput, error) {
	return h.newDataKey(in)
}

// generateDataKeyWithoutPlaintext is GenerateDataKey that keeps the
// plaintext to itself: the caller decrypts the blob when it needs the key.
func (h *Handler) generateDataKeyWithoutPlaintext(_ context.Context, in *generateDataKeyInput) (*generateDataKeyOutput, error) {
	if in.Recipient != nil {
		return nil, awsapi.Violations{"Recipient is not a member of GenerateDataKeyWithoutPlaintext"}.Err()
	}
	out, err := h.newDataKey(in)
	if out != nil {
		out.Plaintext = nil
	}
	return out, err
}

type reEncryptInput struct {
	CiphertextBlob                 []byte            `json:"CiphertextBlob"`
	SourceEncryptionContext        map[string]string `json:"SourceEncryptionContext"`
	SourceKeyID                    *string           `json:"SourceKeyId"`
	DestinationKeyID               *string           `json:"DestinationKeyId"`
	DestinationEncryptionContext   map[string]string `json:"DestinationEncryptionContext"`
	SourceEncryptionAlgorithm      *string           `json:"SourceEncryptionAlgorithm"`
	DestinationEncryptionAlgorithm *string           `json:"DestinationEncryptionAlgorithm"`
	GrantTokens                    []string          `json:"GrantTokens"`
	DryRun                         bool              `json:"DryRun"`
}

type reEncryptOutput struct {
	CiphertextBlob                 []byte `json:"CiphertextBlob"`
	SourceKeyID                    string `json:"SourceKeyId"`
	KeyID                          string `json:"KeyId"`
	SourceEncryptionAlgorithm      string `json:"SourceEncryptionAlgorithm"`
	DestinationEncryptionAlgorithm string `json:"DestinationEncryptionAlgorithm"`
}

func (h *Handler) reEncrypt(_ context.Context, in *reEncryptInput) (*reEncryptOutput, error) {
	var v awsapi.Violations
	v.Required("ciphertextBlob", in.CiphertextBlob != nil)
	checkKeyID(&v, "destinationKeyId", in.DestinationKeyID)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := checkAlgorithm(in.SourceEncryptionAlgorithm, in.DryRun); err != nil {
		return nil, err
	}
	if err := checkAlgorithm(in.DestinationEncryptionAlgorithm, false); err != nil {
		return nil, err
	}
	out, err := h.keys.ReEncrypt(localkms.ReEncryptInput{
		CiphertextBlob: in.CiphertextBlob, SourceEncryptionContext: in.SourceEncryptionContext, SourceKeyID: deref(in.SourceKeyID),
		DestinationKeyID: *in.DestinationKeyID, DestinationEncryptionContext: in.DestinationEncryptionContext,
	})
	if err != nil {
		return nil, err
	}
	return &reEncryptOutput{CiphertextBlob: out.CiphertextBlob, SourceKeyID: out.SourceKeyARN, KeyID: out.KeyARN, SourceEncryptionAlgorithm: symmetric, DestinationEncryptionAlgorithm: symmetric}, nil
}
