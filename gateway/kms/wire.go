package kms

import (
	"encoding/base64"
	"time"

	"github.com/streambridge/bridge/gateway/awsapi"
	localkms "github.com/streambridge/bridge/security/kms"
)

// The shapes KMS's JSON shares between operations, named and spelled as
// in its service model.

// keyIDInput is every input that is a KeyId and nothing else that
// matters here (GrantTokens are accepted and ignored: there are no grants).
type keyIDInput struct {
	KeyID       *string  `json:"KeyId"`
	GrantTokens []string `json:"GrantTokens,omitempty"`
}

func (in *keyIDInput) keyRef() string { return deref(in.KeyID) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// checkKeyID is KMS's validation of a required KeyId.
func checkKeyID(v *awsapi.Violations, field string, id *string) {
	if v.Required(field, id != nil) {
		v.Str(field, id, 1, 2048, nil)
	}
}

type tag struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

func tagsIn(ts []tag) []localkms.Tag {
	out := make([]localkms.Tag, len(ts))
	for i, t := range ts {
		out[i] = localkms.Tag{TagKey: t.TagKey, TagValue: t.TagValue}
	}
	return out
}

// keyMetadata is KMS's KeyMetadata.
type keyMetadata struct {
	AWSAccountID                string            `json:"AWSAccountId"`
	KeyID                       string            `json:"KeyId"`
	Arn                         string            `json:"Arn"`
	CreationDate                awsapi.Timestamp  `json:"CreationDate"`
	Enabled                     bool              `json:"Enabled"`
	Description                 string            `json:"Description"`
	KeyUsage                    string            `json:"KeyUsage"`
	KeyState                    string            `json:"KeyState"`
	DeletionDate                *awsapi.Timestamp `json:"DeletionDate,omitempty"`
	PendingDeletionWindowInDays int               `json:"PendingDeletionWindowInDays,omitempty"`
	Origin                      string            `json:"Origin"`
	KeyManager                  string            `json:"KeyManager"`
	CustomerMasterKeySpec       string            `json:"CustomerMasterKeySpec"`
	KeySpec                     string            `json:"KeySpec"`
	EncryptionAlgorithms        []string          `json:"EncryptionAlgorithms"`
	MultiRegion                 bool              `json:"MultiRegion"`
	CurrentKeyMaterialID        string            `json:"CurrentKeyMaterialId,omitempty"`
}

func metadataOut(md localkms.KeyMetadata) *keyMetadata {
	return &keyMetadata{
		AWSAccountID: md.AWSAccountID, KeyID: md.KeyID, Arn: md.Arn,
		CreationDate: awsapi.Timestamp{Time: md.CreationDate}, Enabled: md.Enabled,
		Description: md.Description, KeyUsage: md.KeyUsage, KeyState: md.KeyState,
		DeletionDate: ts(md.DeletionDate), PendingDeletionWindowInDays: md.PendingDeletionWindowInDays,
		Origin: md.Origin, KeyManager: md.KeyManager,
		CustomerMasterKeySpec: md.KeySpec, KeySpec: md.KeySpec,
		EncryptionAlgorithms: md.EncryptionAlgorithms, MultiRegion: md.MultiRegion,
		CurrentKeyMaterialID: md.CurrentKeyMaterialID,
	}
}

// ts is an optional timestamp: nil for the zero time.
func ts(t time.Time) *awsapi.Timestamp {
	if t.IsZero() {
		return nil
	}
	return &awsapi.Timestamp{Time: t}
}

// pageInput is the Limit and Marker of KMS's list operations.
type pageInput struct {
	Limit  *int    `json:"Limit"`
	Marker *string `json:"Marker"`
}

func (p *pageInput) check(v *awsapi.Violations, maxLimit int) {
	v.IntRange("limit", p.Limit, 1, maxLimit)
	v.Str("marker", p.Marker, 1, 1024, nil)
}

// pageOutput is the NextMarker and Truncated of KMS's list answers.
type pageOutput struct {
	NextMarker *string `json:"NextMarker,omitempty"`
	Truncated  bool    `json:"Truncated"`
}

// page returns the items after the marker, at most limit of them (def
// without one), and the marker of the next page. keyOf orders items
// (they are sorted by it); a marker is the last key returned, so items
// added or removed between pages neither repeat nor are skipped.
func page[T any](items []T, keyOf func(T) string, p pageInput, def int) ([]T, pageOutput, error) {
	start := 0
	if p.Marker != nil {
		after, err := base64.RawURLEncoding.DecodeString(*p.Marker)
		if err != nil || len(after) == 0 {
			return nil, pageOutput{}, &localkms.Error{Code: localkms.CodeInvalidMarker, Message: "Invalid marker"}
		}
		for start < len(items) && keyOf(items[start]) <= string(after) {
			start++
		}
	}
	limit := def
	if p.Limit != nil {
		limit = *p.Limit
	}
	items = items[start:]
	if len(items) <= limit {
		return items, pageOutput{}, nil
	}
	next := base64.RawURLEncoding.EncodeToString([]byte(keyOf(items[limit-1])))
	return items[:limit], pageOutput{NextMarker: &next, Truncated: true}, nil
}
