package kms

// Authorization and auditing of KMS requests (Config.Authorizer,
// Config.Audit). Each operation is its IAM action, kms:OPERATION, on the
// ARN of the key the request names (an alias or alias ARN is resolved to
// its key, as KMS authorizes on the key), except: the alias operations
// are decided on the alias ARN and, for CreateAlias and UpdateAlias, on
// the target key too (AWS asks for both); Decrypt on the key the
// ciphertext names; ReEncrypt is kms:ReEncryptFrom on the source key and
// kms:ReEncryptTo on the destination, as AWS names them; CreateKey,
// ListKeys and ListAliases without a key are on "*".

import (
	"context"
	"net/http"

	"github.com/streambridge/bridge/gateway/awsapi"
)

// errAccessDenied is KMS's answer to a request IAM refuses.
const errAccessDenied = "AccessDeniedException"

// controlPlane are the operations the audit log records when they are let
// through: the ones that change a key or an alias.
var controlPlane = map[string]bool{
	"CreateKey": true, "CreateAlias": true, "UpdateAlias": true, "DeleteAlias": true,
	"EnableKey": true, "DisableKey": true, "ScheduleKeyDeletion": true, "CancelKeyDeletion": true,
	"EnableKeyRotation": true, "DisableKeyRotation": true, "RotateKeyOnDemand": true,
	"TagResource": true, "UntagResource": true, "UpdateKeyDescription": true,
}

// authCheck is one action on one resource a request needs.
type authCheck struct{ action, resource string }

// authorize is the operations' authorization step: it runs with the
// decoded input, before the operation does anything.
func authorize(ctx context.Context, h *Handler, x *exchange, in any) error {
	if h.cfg.Authorizer == nil && (h.cfg.Audit == nil || !controlPlane[x.Op]) {
		return nil // nothing to decide, nothing to record: no lookups
	}
	checks := h.checksOf(x.Op, in)
	x.Action, x.Resource = checks[0].action, checks[0].resource
	for _, ck := range checks {
		c := awsapi.Check{Source: "kms", Op: x.Op, Action: ck.action, Resource: ck.resource, DeniedCode: errAccessDenied}
		if d := awsapi.Authorize(ctx, h.cfg.Authorizer, h.cfg.Audit, h.log, x.R, c); d != nil {
			x.Denied = true
			return &awsapi.Error{Status: http.StatusBadRequest, Type: errAccessDenied, Message: d.Message(false)}
		}
	}
	return nil
}

// audit records a control-plane call that was let through, with the
// error type it was answered with ("" for success).
func (h *Handler) audit(x *exchange, errType, errMsg string) {
	if controlPlane[x.Op] {
		awsapi.RecordExchange(h.cfg.Audit, x, "kms", errType, errMsg)
	}
}

// keyRefHolder is every input that names a key by KeyId.
type keyRefHolder interface{ keyRef() string }

// checksOf is what a request needs allowed, the first one being what the
// audit log names.
func (h *Handler) checksOf(op string, in any) []authCheck {
	action := "kms:" + op
	switch in := in.(type) {
	case *aliasInput:
		cs := []authCheck{{action, h.aliasARN(in.AliasName)}}
		if in.TargetKeyID != nil {
			cs = append(cs, authCheck{action, h.keys.ResourceARN(*in.TargetKeyID)})
		}
		return cs
	case *decryptInput:
		if arn, ok := h.keys.CiphertextKeyARN(in.CiphertextBlob); ok {
			return []authCheck{{action, arn}}
		}
		return []authCheck{{action, h.refARN(in.KeyID)}}
	case *reEncryptInput:
		from := h.refARN(in.SourceKeyID)
		if arn, ok := h.keys.CiphertextKeyARN(in.CiphertextBlob); ok {
			from = arn
		}
		return []authCheck{{"kms:ReEncryptFrom", from}, {"kms:ReEncryptTo", h.refARN(in.DestinationKeyID)}}
	case *listAliasesInput:
		return []authCheck{{action, h.refARN(in.KeyID)}}
	case keyRefHolder:
		return []authCheck{{action, h.keys.ResourceARN(in.keyRef())}}
	}
	return []authCheck{{action, "*"}} // CreateKey, ListKeys
}

// refARN is the resource of an optional key reference; "*" without one.
func (h *Handler) refARN(ref *string) string {
	if ref == nil || *ref == "" {
		return "*"
	}
	if arn := h.keys.ResourceARN(*ref); arn != "" {
		return arn
	}
	return "*"
}

func (h *Handler) aliasARN(name *string) string {
	if name == nil {
		return "*"
	}
	return h.keys.AliasARN(*name)
}
