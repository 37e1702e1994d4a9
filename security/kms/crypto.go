package kms

import (
	"crypto/rand"
)

// EncryptOutput is what Encrypt returns, as AWS KMS's Encrypt does.
type EncryptOutput struct {
	CiphertextBlob []byte
	KeyARN         string // KMS's KeyId in the response: the key's ARN
	KeyMaterialID  string
}

// Encrypt encrypts up to 4096 bytes under the current key material of the
// key ref names, binding encCtx (KMS's EncryptionContext): Decrypt must be
// given the same context.
func (k *Keyring) Encrypt(ref string, plaintext []byte, encCtx map[string]string) (EncryptOutput, error) {
	if len(plaintext) == 0 {
		return EncryptOutput{}, errValidation("Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(plaintext) > maxPlaintext {
		return EncryptOutput{}, errValidation("Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to %d", maxPlaintext)
	}
	var out EncryptOutput
	err := k.write(func() (bool, error) {
		ky, changed, err := k.useLocked(ref)
		if err != nil {
			return changed, err
		}
		m := ky.current()
		blob, err := seal(ky.ID, m, plaintext, encCtx)
		out = EncryptOutput{CiphertextBlob: blob, KeyARN: k.KeyARN(ky.ID), KeyMaterialID: m.ID}
		return changed, err
	})
	return out, err
}

// useLocked resolves ref for encrypting: an AWS-managed alias creates its
// key, and a key that is not enabled is refused.
func (k *Keyring) useLocked(ref string) (*key, bool, error) {
	ky, changed, err := k.resolve(ref, true)
	if err != nil {
		return nil, changed, err
	}
	return ky, changed, k.usableLocked(ky)
}

// DecryptInput is AWS KMS's Decrypt request.
type DecryptInput struct {
	CiphertextBlob    []byte
	EncryptionContext map[string]string
	// KeyID, if set, is the key the caller expects made the blob (any
	// reference form); another key's blob is refused (IncorrectKeyException).
	KeyID string
}

// DecryptOutput is AWS KMS's Decrypt response.
type DecryptOutput struct {
	Plaintext     []byte
	KeyARN        string
	KeyMaterialID string
}

// DecryptCiphertext decrypts a blob Encrypt, NewDataKey or
// GenerateDataKey made, with whichever key material made it: rotation
// never makes a blob unreadable. A blob of an unknown or deleted key is
// NotFoundException; a disabled key's, DisabledException; a key pending
// deletion's, KMSInvalidStateException; anything that does not open
// (tampered, another context, another keyring's material),
// InvalidCiphertextException.
func (k *Keyring) DecryptCiphertext(in DecryptInput) (DecryptOutput, error) {
	h, ok := parseBlob(in.CiphertextBlob)
	if !ok {
		return DecryptOutput{}, errInvalidCiphertext()
	}
	var out DecryptOutput
	err := k.read(func() error {
		ky, m, err := k.openerLocked(h, in.KeyID)
		if err != nil {
			return err
		}
		pt, err := openBlob(m, in.CiphertextBlob, in.EncryptionContext)
		if err != nil {
			return err
		}
		out = DecryptOutput{Plaintext: pt, KeyARN: k.KeyARN(ky.ID), KeyMaterialID: m.ID}
		return nil
	})
	return out, err
}

// openerLocked finds the key and material a blob names, checking the key
// is the expected one (if any) and usable.
func (k *Keyring) openerLocked(h blobHeader, expected string) (*key, *material, error) {
	ky := k.keys[h.keyID]
	if ky == nil {
		return nil, nil, errKeyNotFound(k.KeyARN(h.keyID))
	}
	if expected != "" {
		want, _, err := k.resolve(expected, false)
		if err != nil {
			return nil, nil, err
		}
		if want != ky {
			return nil, nil, newError(CodeIncorrectKey, "The key ID in the request does not identify a CMK that can perform this operation.")
		}
	}
	if err := k.usableLocked(ky); err != nil {
		return nil, nil, err
	}
	m := ky.material(h.materialID)
	if m == nil {
		return nil, nil, errInvalidCiphertext()
	}
	return ky, m, nil
}

// GenerateDataKeyInput is AWS KMS's GenerateDataKey request: KeySpec
// (AES_256, AES_128) or NumberOfBytes (1..1024), not both.
type GenerateDataKeyInput struct {
	KeyID             string
	KeySpec           string
	NumberOfBytes     int
	EncryptionContext map[string]string
}

// GenerateDataKeyOutput is AWS KMS's GenerateDataKey response.
type GenerateDataKeyOutput struct {
	Plaintext      []byte
	CiphertextBlob []byte
	KeyARN         string
	KeyMaterialID  string
}

// NewDataKey is AWS KMS's GenerateDataKey: random bytes, returned in the
// clear and encrypted under the key in.KeyID names (GenerateDataKey, the
// store's, asks for 32 bytes and no context).
func (k *Keyring) NewDataKey(in GenerateDataKeyInput) (GenerateDataKeyOutput, error) {
	n, err := dataKeySize(in.KeySpec, in.NumberOfBytes)
	if err != nil {
		return GenerateDataKeyOutput{}, err
	}
	plaintext := make([]byte, n)
	_, _ = rand.Read(plaintext) // never fails (Go 1.24+)
	enc, err := k.Encrypt(in.KeyID, plaintext, in.EncryptionContext)
	if err != nil {
		return GenerateDataKeyOutput{}, err
	}
	return GenerateDataKeyOutput{Plaintext: plaintext, CiphertextBlob: enc.CiphertextBlob, KeyARN: enc.KeyARN, KeyMaterialID: enc.KeyMaterialID}, nil
}

func dataKeySize(spec string, numberOfBytes int) (int, error) {
	switch {
	case (spec == "") == (numberOfBytes == 0):
		return 0, newError(CodeValidation, "Please specify either number of bytes or key spec.")
	case spec == "AES_256":
		return 32, nil
	case spec == "AES_128":
		return 16, nil
	case spec != "":
		return 0, errValidation("Value '%s' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]", spec)
	case numberOfBytes < 1 || numberOfBytes > maxDataKey:
		return 0, errIntRange("numberOfBytes", numberOfBytes, 1, maxDataKey)
	}
	return numberOfBytes, nil
}

// ReEncryptInput is AWS KMS's ReEncrypt request.
type ReEncryptInput struct {
	CiphertextBlob               []byte
	SourceEncryptionContext      map[string]string
	SourceKeyID                  string
	DestinationKeyID             string
	DestinationEncryptionContext map[string]string
}

// ReEncryptOutput is AWS KMS's ReEncrypt response.
type ReEncryptOutput struct {
	CiphertextBlob []byte
	SourceKeyARN   string
	KeyARN         string
}

// ReEncrypt decrypts a blob and encrypts its plaintext under another key
// (or the same key's current material) without handing it out.
func (k *Keyring) ReEncrypt(in ReEncryptInput) (ReEncryptOutput, error) {
	dec, err := k.DecryptCiphertext(DecryptInput{CiphertextBlob: in.CiphertextBlob, EncryptionContext: in.SourceEncryptionContext, KeyID: in.SourceKeyID})
	if err != nil {
		return ReEncryptOutput{}, err
	}
	enc, err := k.Encrypt(in.DestinationKeyID, dec.Plaintext, in.DestinationEncryptionContext)
	if err != nil {
		return ReEncryptOutput{}, err
	}
	return ReEncryptOutput{CiphertextBlob: enc.CiphertextBlob, SourceKeyARN: dec.KeyARN, KeyARN: enc.KeyARN}, nil
}
