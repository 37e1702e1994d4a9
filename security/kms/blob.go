package kms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sort"
)

// A ciphertext blob names what made it, so Decrypt needs no key id:
//
//	version (1 byte, blobVersion)
//	key id (16 bytes, the UUID)
//	key material id (32 bytes)
//	nonce (12 bytes)
//	AES-256-GCM ciphertext and tag (len(plaintext) + 16 bytes)
//
// The header (version, key id, material id) and the encryption context
// are GCM's additional data: changing either, or the ciphertext, makes
// the blob fail to open.
const (
	blobVersion   = 1
	blobKeyID     = 1
	blobMaterial  = blobKeyID + 16
	blobNonce     = blobMaterial + 32
	blobSealed    = blobNonce + 12
	blobOverhead  = blobSealed + 16 // header and tag
	maxPlaintext  = 4096            // Encrypt's limit in AWS KMS
	maxDataKey    = 1024            // GenerateDataKey's NumberOfBytes limit
	maxCiphertext = 6144            // Decrypt's CiphertextBlob limit in AWS KMS
)

// blobHeader is what a blob says about its making.
type blobHeader struct {
	keyID      string
	materialID string
}

// parseBlob reads a blob's header; ok is false for anything that is not a
// blob of this version.
func parseBlob(b []byte) (h blobHeader, ok bool) {
	if len(b) < blobOverhead || len(b) > maxCiphertext || b[0] != blobVersion {
		return h, false
	}
	return blobHeader{
		keyID:      formatKeyID(b[blobKeyID:blobMaterial]),
		materialID: hex.EncodeToString(b[blobMaterial:blobNonce]),
	}, true
}

// seal encrypts plaintext under the key's material m, binding the
// encryption context.
func seal(keyID string, m *material, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	id, ok := parseKeyID(keyID)
	mid, err := hex.DecodeString(m.ID)
	if !ok || err != nil || len(mid) != 32 {
		return nil, &Error{Code: CodeInternal, Message: "malformed key id or key material id"}
	}
	aead, err := newGCM(m.Key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, blobSealed, blobOverhead+len(plaintext))
	out[0] = blobVersion
	copy(out[blobKeyID:], id[:])
	copy(out[blobMaterial:], mid)
	_, _ = rand.Read(out[blobNonce:blobSealed]) // never fails (Go 1.24+)
	return aead.Seal(out, out[blobNonce:blobSealed], plaintext, additionalData(out[:blobNonce], encCtx)), nil
}

// openBlob decrypts a blob made by seal with material m.
func openBlob(m *material, blob []byte, encCtx map[string]string) ([]byte, error) {
	aead, err := newGCM(m.Key)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, blob[blobNonce:blobSealed], blob[blobSealed:], additionalData(blob[:blobNonce], encCtx))
	if err != nil {
		return nil, errInvalidCiphertext()
	}
	return pt, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, &Error{Code: CodeInternal, Message: err.Error()}
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, &Error{Code: CodeInternal, Message: err.Error()}
	}
	return aead, nil
}

// additionalData is the blob's header followed by the encryption context
// in one canonical form: pairs sorted by key, each string preceded by its
// length, so no two contexts encode alike ({"a":"bc"} and {"ab":"c"}
// differ) and an empty context is the same as none, as in AWS KMS.
func additionalData(header []byte, encCtx map[string]string) []byte {
	ad := append([]byte(nil), header...)
	keys := make([]string, 0, len(encCtx))
	for k := range encCtx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(keys)))
	for _, k := range keys {
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(k)))
		ad = append(ad, k...)
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(encCtx[k])))
		ad = append(ad, encCtx[k]...)
	}
	return ad
}
