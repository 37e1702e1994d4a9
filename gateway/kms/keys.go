package kms

import (
	"context"
	"fmt"

	"github.com/streambridge/bridge/gateway/awsapi"
	localkms "github.com/streambridge/bridge/security/kms"
)

func init() {
	register("CreateKey", (*Handler).createKey)
	register("DescribeKey", (*Handler).describeKey)
	register("ListKeys", (*Handler).listKeys)
	register("EnableKey", keyOp((*localkms.Keyring).EnableKey))
	register("DisableKey", keyOp((*localkms.Keyring).DisableKey))
	register("ScheduleKeyDeletion", (*Handler).scheduleKeyDeletion)
	register("CancelKeyDeletion", (*Handler).cancelKeyDeletion)
	register("EnableKeyRotation", (*Handler).enableKeyRotation)
	register("DisableKeyRotation", keyOp((*localkms.Keyring).DisableKeyRotation))
	register("GetKeyRotationStatus", (*Handler).getKeyRotationStatus)
	register("RotateKeyOnDemand", (*Handler).rotateKeyOnDemand)
	register("ListKeyRotations", (*Handler).listKeyRotations)
	register("TagResource", (*Handler).tagResource)
	register("UntagResource", (*Handler).untagResource)
	register("ListResourceTags", (*Handler).listResourceTags)
}

type empty struct{}

// keyOp is an operation that takes a KeyId and answers nothing.
func keyOp(fn func(k *localkms.Keyring, ref string) error) func(*Handler, context.Context, *keyIDInput) (*empty, error) {
	return func(h *Handler, _ context.Context, in *keyIDInput) (*empty, error) {
		var v awsapi.Violations
		checkKeyID(&v, "keyId", in.KeyID)
		if err := v.Err(); err != nil {
			return nil, err
		}
		return &empty{}, fn(h.keys, *in.KeyID)
	}
}

type createKeyInput struct {
	Description                    *string `json:"Description"`
	KeyUsage                       *string `json:"KeyUsage"`
	KeySpec                        *string `json:"KeySpec"`
	CustomerMasterKeySpec          *string `json:"CustomerMasterKeySpec"`
	Origin                         *string `json:"Origin"`
	MultiRegion                    bool    `json:"MultiRegion"`
	Tags                           []tag   `json:"Tags"`
	Policy                         *string `json:"Policy"`
	BypassPolicyLockoutSafetyCheck bool    `json:"BypassPolicyLockoutSafetyCheck"`
	CustomKeyStoreID               *string `json:"CustomKeyStoreId"`
	XksKeyID                       *string `json:"XksKeyId"`
}

type keyMetadataOutput struct {
	KeyMetadata *keyMetadata `json:"KeyMetadata"`
}

func (h *Handler) createKey(_ context.Context, in *createKeyInput) (*keyMetadataOutput, error) {
	var v awsapi.Violations
	v.Str("description", in.Description, 0, 8192, nil)
	v.OneOf("keyUsage", in.KeyUsage, "SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT")
	v.OneOf("origin", in.Origin, "AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.CustomKeyStoreID != nil || in.XksKeyID != nil {
		return nil, &localkms.Error{Code: localkms.CodeUnsupportedOperation, Message: "Custom key stores are not supported"}
	}
	spec := deref(in.KeySpec)
	if spec == "" {
		spec = deref(in.CustomerMasterKeySpec) // the deprecated name
	}
	// Policy is accepted and not kept: the bridge authorizes by IAM
	// policies only (--aws-policies-file).
	md, err := h.keys.CreateKey(localkms.CreateKeyInput{
		Description: deref(in.Description), Tags: tagsIn(in.Tags),
		KeyUsage: deref(in.KeyUsage), KeySpec: spec, Origin: deref(in.Origin), MultiRegion: in.MultiRegion,
	})
	if err != nil {
		return nil, err
	}
	return &keyMetadataOutput{KeyMetadata: metadataOut(md)}, nil
}

func (h *Handler) describeKey(_ context.Context, in *keyIDInput) (*keyMetadataOutput, error) {
	var v awsapi.Violations
	checkKeyID(&v, "keyId", in.KeyID)
	if err := v.Err(); err != nil {
		return nil, err
	}
	md, err := h.keys.DescribeKey(*in.KeyID)
	if err != nil {
		return nil, err
	}
	return &keyMetadataOutput{KeyMetadata: metadataOut(md)}, nil
}

type listKeysOutput struct {
	Keys []keyListEntry `json:"Keys"`
	pageOutput
}

type keyListEntry struct {
	KeyID  string `json:"KeyId"`
	KeyArn string `json:"KeyArn"`
}

func (h *Handler) listKeys(_ context.Context, in *pageInput) (*listKeysOutput, error) {
	var v awsapi.Violations
	in.check(&v, 1000)
	if err := v.Err(); err != nil {
		return nil, err
	}
	items, po, err := page(h.keys.ListKeys(), func(e localkms.KeyListEntry) string { return e.KeyID }, *in, 100)
	if err != nil {
		return nil, err
	}
	out := &listKeysOutput{Keys: make([]keyListEntry, len(items)), pageOutput: po}
	for i, e := range items {
		out.Keys[i] = keyListEntry{KeyID: e.KeyID, KeyArn: e.KeyArn}
	}
	return out, nil
}

type scheduleKeyDeletionInput struct {
	keyIDInput
	PendingWindowInDays *int `json:"PendingWindowInDays"`
}

type scheduleKeyDeletionOutput struct {
	KeyID               string            `json:"KeyId"`
	DeletionDate        *awsapi.Timestamp `json:"DeletionDate,omitempty"`
	KeyState            string            `json:"KeyState"`
	PendingWindowInDays int               `json:"PendingWindowInDays"`
}

func (h *Handler) scheduleKeyDeletion(_ context.Context, in *scheduleKeyDeletionInput) (*scheduleKeyDeletionOutput, error) {
	var v awsapi.Violations
	checkKeyID(&v, "keyId", in.KeyID)
	v.IntRange("pendingWindowInDays", in.PendingWindowInDays, 1, 365)
	if err := v.Err(); err != nil {
		return nil, err
	}
	days := 0
	if in.PendingWindowInDays != nil {
		days = *in.PendingWindowInDays
	}
	md, err := h.keys.ScheduleKeyDeletion(*in.KeyID, days)
	if err != nil {
		return nil, err
	}
	return &scheduleKeyDeletionOutput{KeyID: md.Arn, DeletionDate: ts(md.DeletionDate), KeyState: md.KeyState, PendingWindowInDays: md.PendingDeletionWindowInDays}, nil
}

type keyIDOutput struct {
	KeyID string `json:"KeyId"`
}

func (h *Handler) cancelKeyDeletion(_ context.Context, in *keyIDInput) (*keyIDOutput, error) {
	var v awsapi.Violations
	checkKeyID(&v, "keyId", in.KeyID)
	if err := v.Err(); err != nil {
		return nil, err
	}
	md, err := h.keys.CancelKeyDeletion(*in.KeyID)
	if err != nil {
		return nil, err
	}
	return &keyIDOutput{KeyID: md.Arn}, nil
}

type enableKeyRotationInput struct {
	keyIDInput
	RotationPeriodInDays *int `json:"RotationPeriodInDays"`
}

func (h *Handler) enableKeyRotation(_ context.Context, in *enableKeyRotationInput) (*empty, error) {
	var v awsapi.Violations
	checkKeyID(&v, "keyId", in.KeyID)
	v.IntRange("rotationPeriodInDays", in.RotationPeriodInDays, localkms.MinRotationPeriodDays, localkms.MaxRotationPeriodDays)
	if err := v.Err(); err != nil {
		return nil, err
	}
	days := 0
	if in.RotationPeriodInDays != nil {
		days = *in.RotationPeriodInDays
	}
	return &empty{}, h.keys.EnableKeyRotation(*in.KeyID, days)
}

type rotationStatusOutput struct {
	KeyID                     string            `json:"KeyId"`
	KeyRotationEnabled        bool              `json:"KeyRotationEnabled"`
	RotationPeriodInDays      *int              `json:"RotationPeriodInDays,omitempty"`
	NextRotationDate          *awsapi.Timestamp `json:"NextRotationDate,omitempty"`
	OnDemandRotationStartDate *awsapi.Timestamp `json:"OnDemandRotationStartDate,omitempty"`
}

func (h *Handler) getKeyRotationStatus(_ context.Context, in *keyIDInput) (*rotationStatusOutput, error) {
	var v awsapi.Violations
	checkKeyID(&v, "keyId", in.KeyID)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := h.keys.GetKeyRotationStatus(*in.KeyID)
	if err != nil {
		return nil, err
	}
	out := &rotationStatusOutput{KeyID: st.KeyID, KeyRotationEnabled: st.KeyRotationEnabled, NextRotationDate: ts(st.NextRotationDate)}
	if st.RotationPeriodInDays != 0 {
		out.RotationPeriodInDays = &st.RotationPeriodInDays
	}
	return out, nil
}

func (h *Handler) rotateKeyOnDemand(_ context.Context, in *keyIDInput) (*keyIDOutput, error) {
	var v awsapi.Violations
	checkKeyID(&v, "keyId", in.KeyID)
	if err := v.Err(); err != nil {
		return nil, err
	}
	id, err := h.keys.RotateKeyOnDemand(*in.KeyID)
	if err != nil {
		return nil, err
	}
	return &keyIDOutput{KeyID: id}, nil
}

type listKeyRotationsInput struct {
	keyIDInput
	pageInput
	IncludeKeyMaterial *string `json:"IncludeKeyMaterial"`
}

type rotationEntry struct {
	KeyID         string           `json:"KeyId"`
	KeyMaterialID string           `json:"KeyMaterialId,omitempty"`
	RotationDate  awsapi.Timestamp `json:"RotationDate"`
	RotationType  string           `json:"RotationType"`
}

type listKeyRotationsOutput struct {
	Rotations []rotationEntry `json:"Rotations"`
	pageOutput
}

func (h *Handler) listKeyRotations(_ context.Context, in *listKeyRotationsInput) (*listKeyRotationsOutput, error) {
	var v awsapi.Violations
	checkKeyID(&v, "keyId", in.KeyID)
	in.check(&v, 1000)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rots, err := h.keys.ListKeyRotations(*in.KeyID)
	if err != nil {
		return nil, err
	}
	// Rotations are in the order they happened; a marker is a position.
	type indexed struct {
		i int
		r localkms.Rotation
	}
	all := make([]indexed, len(rots))
	for i, r := range rots {
		all[i] = indexed{i, r}
	}
	items, po, err := page(all, func(x indexed) string { return fmt.Sprintf("%010d", x.i) }, in.pageInput, 100)
	if err != nil {
		return nil, err
	}
	out := &listKeyRotationsOutput{Rotations: make([]rotationEntry, len(items)), pageOutput: po}
	for i, x := range items {
		out.Rotations[i] = rotationEntry{KeyID: x.r.KeyID, KeyMaterialID: x.r.KeyMaterialID, RotationDate: awsapi.Timestamp{Time: x.r.RotationDate}, RotationType: x.r.RotationType}
	}
	return out, nil
}

type tagResourceInput struct {
	keyIDInput
	Tags []tag `json:"Tags"`
}

func (h *Handler) tagResource(_ context.Context, in *tagResourceInput) (*empty, error) {
	var v awsapi.Violations
	checkKeyID(&v, "keyId", in.KeyID)
	v.Required("tags", in.Tags != nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return &empty{}, h.keys.TagResource(*in.KeyID, tagsIn(in.Tags))
}

type untagResourceInput struct {
	keyIDInput
	TagKeys []string `json:"TagKeys"`
}

func (h *Handler) untagResource(_ context.Context, in *untagResourceInput) (*empty, error) {
	var v awsapi.Violations
	checkKeyID(&v, "keyId", in.KeyID)
	v.Required("tagKeys", in.TagKeys != nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return &empty{}, h.keys.UntagResource(*in.KeyID, in.TagKeys)
}

type listResourceTagsInput struct {
	keyIDInput
	pageInput
}

type listResourceTagsOutput struct {
	Tags []tag `json:"Tags"`
	pageOutput
}

func (h *Handler) listResourceTags(_ context.Context, in *listResourceTagsInput) (*listResourceTagsOutput, error) {
	var v awsapi.Violations
	checkKeyID(&v, "keyId", in.KeyID)
	in.check(&v, 50)
	if err := v.Err(); err != nil {
		return nil, err
	}
	tags, err := h.keys.ListResourceTags(*in.KeyID)
	if err != nil {
		return nil, err
	}
	items, po, err := page(tags, func(t localkms.Tag) string { return t.TagKey }, in.pageInput, 50)
	if err != nil {
		return nil, err
	}
	out := &listResourceTagsOutput{Tags: make([]tag, len(items)), pageOutput: po}
	for i, t := range items {
		out.Tags[i] = tag{TagKey: t.TagKey, TagValue: t.TagValue}
	}
	return out, nil
}
