package kms

import (
	"context"

	"github.com/streambridge/bridge/gateway/awsapi"
	localkms "github.com/streambridge/bridge/security/kms"
)

func init() {
	register("CreateAlias", (*Handler).createAlias)
	register("UpdateAlias", (*Handler).updateAlias)
	register("DeleteAlias", (*Handler).deleteAlias)
	register("ListAliases", (*Handler).listAliases)
}

// aliasNamePattern is AliasName's pattern in KMS's service model; the
// keyring words the finer refusals (alias/ prefix, alias/aws/).
var aliasNamePattern = awsapi.Anchored("^[a-zA-Z0-9:/_-]+$")

// aliasInput is CreateAlias's, UpdateAlias's and DeleteAlias's input.
type aliasInput struct {
	AliasName   *string `json:"AliasName"`
	TargetKeyID *string `json:"TargetKeyId"`
}

func (in *aliasInput) check(withTarget bool) error {
	var v awsapi.Violations
	if v.Required("aliasName", in.AliasName != nil) {
		v.Str("aliasName", in.AliasName, 1, 256, aliasNamePattern)
	}
	if withTarget {
		checkKeyID(&v, "targetKeyId", in.TargetKeyID)
	}
	if err := v.Err(); err != nil {
		return err
	}
	return nil
}

func (h *Handler) createAlias(_ context.Context, in *aliasInput) (*empty, error) {
	if err := in.check(true); err != nil {
		return nil, err
	}
	return &empty{}, h.keys.CreateAlias(*in.AliasName, *in.TargetKeyID)
}

func (h *Handler) updateAlias(_ context.Context, in *aliasInput) (*empty, error) {
	if err := in.check(true); err != nil {
		return nil, err
	}
	return &empty{}, h.keys.UpdateAlias(*in.AliasName, *in.TargetKeyID)
}

func (h *Handler) deleteAlias(_ context.Context, in *aliasInput) (*empty, error) {
	if err := in.check(false); err != nil {
		return nil, err
	}
	return &empty{}, h.keys.DeleteAlias(*in.AliasName)
}

type listAliasesInput struct {
	KeyID *string `json:"KeyId"`
	pageInput
}

type aliasListEntry struct {
	AliasName       string            `json:"AliasName"`
	AliasArn        string            `json:"AliasArn"`
	TargetKeyID     string            `json:"TargetKeyId,omitempty"`
	CreationDate    *awsapi.Timestamp `json:"CreationDate,omitempty"`
	LastUpdatedDate *awsapi.Timestamp `json:"LastUpdatedDate,omitempty"`
}

type listAliasesOutput struct {
	Aliases []aliasListEntry `json:"Aliases"`
	pageOutput
}

func (h *Handler) listAliases(_ context.Context, in *listAliasesInput) (*listAliasesOutput, error) {
	var v awsapi.Violations
	v.Str("keyId", in.KeyID, 1, 2048, nil)
	in.check(&v, 100)
	if err := v.Err(); err != nil {
		return nil, err
	}
	all, err := h.keys.ListAliases(deref(in.KeyID))
	if err != nil {
		return nil, err
	}
	items, po, err := page(all, func(a localkms.AliasListEntry) string { return a.AliasName }, in.pageInput, 50)
	if err != nil {
		return nil, err
	}
	out := &listAliasesOutput{Aliases: make([]aliasListEntry, len(items)), pageOutput: po}
	for i, a := range items {
		out.Aliases[i] = aliasListEntry{AliasName: a.AliasName, AliasArn: a.AliasArn, TargetKeyID: a.TargetKeyID, CreationDate: ts(a.CreationDate), LastUpdatedDate: ts(a.LastUpdatedDate)}
	}
	return out, nil
}
