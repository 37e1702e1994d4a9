package sqs

// Tags (TagQueue, UntagQueue, ListQueueTags) and permissions (AddPermission,
// RemovePermission). Tags live in the stream's Config beside the
// attributes; permissions are statements of the queue's Policy attribute,
// as in SQS, and enforced with the rest of that policy when the bridge
// authorizes requests (authz.go).

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/streambridge/bridge/store"
)

func init() {
	register("TagQueue", (*Handler).tagQueue)
	register("UntagQueue", (*Handler).untagQueue)
	register("ListQueueTags", (*Handler).listQueueTags)
	register("AddPermission", (*Handler).addPermission)
	register("RemovePermission", (*Handler).removePermission)
}

// Tag limits, from the SQS developer guide.
const (
	maxTags           = 50
	maxTagKeyLength   = 128
	maxTagValueLength = 256
)

// checkTags refuses tags SQS would, for a queue that has existing tags.
func checkTags(tags map[string]string, existing int) error {
	if existing+len(tags) > maxTags {
		return newError(ErrInvalidParameterValue, "Too many tags added for queue. Each queue can have at most %d tags.", maxTags)
	}
	for k, v := range tags {
		if k == "" || utf8.RuneCountInString(k) > maxTagKeyLength {
			return newError(ErrInvalidParameterValue, "Tag keys must be between 1 and %d characters in length.", maxTagKeyLength)
		}
		if utf8.RuneCountInString(v) > maxTagValueLength {
			return newError(ErrInvalidParameterValue, "Tag values may only be up to %d characters in length.", maxTagValueLength)
		}
	}
	return nil
}

type tagQueueInput struct {
	QueueUrl string            `json:"QueueUrl"`
	Tags     map[string]string `json:"Tags" query:"Tag,flat,entry=Key/Value"`
}

func (h *Handler) tagQueue(ctx context.Context, _ *exchange, in *tagQueueInput) (*empty, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, missingParameter("Tags")
	}
	_, err = h.store.UpdateStream(ctx, t.name, func(st *store.Stream) error {
		if !isQueue(*st) {
			return errNotQueue
		}
		added := 0
		for k := range in.Tags {
			if _, ok := st.Config[cfgTag+k]; !ok {
				added++
			}
		}
		if err := checkTags(in.Tags, len(queueTags(*st))+added-len(in.Tags)); err != nil {
			return err
		}
		for k, v := range in.Tags {
			st.Config[cfgTag+k] = v
		}
		return nil
	})
	return &empty{}, err
}

type untagQueueInput struct {
	QueueUrl string   `json:"QueueUrl"`
	TagKeys  []string `json:"TagKeys" query:"TagKey,flat"`
}

func (h *Handler) untagQueue(ctx context.Context, _ *exchange, in *untagQueueInput) (*empty, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, missingParameter("TagKeys")
	}
	_, err = h.store.UpdateStream(ctx, t.name, func(st *store.Stream) error {
		if !isQueue(*st) {
			return errNotQueue
		}
		for _, k := range in.TagKeys {
			delete(st.Config, cfgTag+k)
		}
		return nil
	})
	return &empty{}, err
}

type tagsOutput struct {
	Tags map[string]string `json:"Tags,omitempty" query:"Tag,flat,entry=Key/Value"`
}

func (h *Handler) listQueueTags(ctx context.Context, _ *exchange, in *queueInput) (*tagsOutput, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return &tagsOutput{Tags: queueTags(t.st)}, nil
}

type addPermissionInput struct {
	QueueUrl      string   `json:"QueueUrl"`
	Label         string   `json:"Label"`
	AWSAccountIds []string `json:"AWSAccountIds" query:"AWSAccountId,flat"`
	Actions       []string `json:"Actions" query:"ActionName,flat"`
}

// policy is the part of an IAM policy document AddPermission writes.
type policy struct {
	Version   string            `json:"Version"`
	ID        string            `json:"Id,omitempty"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid       string `json:"Sid"`
	Effect    string `json:"Effect"`
	Principal struct {
		AWS []string `json:"AWS"`
	} `json:"Principal"`
	Action   []string `json:"Action"`
	Resource string   `json:"Resource"`
}

// permissionActions are the actions AddPermission may grant.
var permissionActions = []string{"*", "ChangeMessageVisibility", "DeleteMessage", "GetQueueAttributes",
	"GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue", "ReceiveMessage", "SendMessage", "ListQueueTags"}

func (h *Handler) addPermission(ctx context.Context, _ *exchange, in *addPermissionInput) (*empty, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Label == "":
		return nil, missingParameter("Label")
	case len(in.AWSAccountIds) == 0:
		return nil, missingParameter("AWSAccountIds")
	case len(in.Actions) == 0:
		return nil, missingParameter("Actions")
	}
	for _, a := range in.Actions {
		if !slices.Contains(permissionActions, a) {
			return nil, invalidParameter("ActionName", "SQS:"+a, "Please refer to the appropriate WSDL for a list of valid actions.")
		}
	}
	return &empty{}, h.changePolicy(ctx, t.name, func(p *policy) error {
		if slices.ContainsFunc(p.Statement, func(s policyStatement) bool { return s.Sid == in.Label }) {
			return invalidParameter("Label", in.Label, "Already exists.")
		}
		s := policyStatement{Sid: in.Label, Effect: "Allow", Resource: h.queueARN(t.name)}
		for _, id := range in.AWSAccountIds {
			s.Principal.AWS = append(s.Principal.AWS, "arn:aws:iam::"+id+":root")
		}
		for _, a := range in.Actions {
			s.Action = append(s.Action, "SQS:"+a)
		}
		p.Statement = append(p.Statement, s)
		return nil
	})
}

type removePermissionInput struct {
	QueueUrl string `json:"QueueUrl"`
	Label    string `json:"Label"`
}

func (h *Handler) removePermission(ctx context.Context, _ *exchange, in *removePermissionInput) (*empty, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if in.Label == "" {
		return nil, missingParameter("Label")
	}
	return &empty{}, h.changePolicy(ctx, t.name, func(p *policy) error {
		i := slices.IndexFunc(p.Statement, func(s policyStatement) bool { return s.Sid == in.Label })
		if i < 0 {
			return invalidParameter("Label", in.Label, "can't find label.")
		}
		p.Statement = slices.Delete(p.Statement, i, i+1)
		return nil
	})
}

// changePolicy rewrites a queue's Policy attribute with change; a policy
// left without statements is removed, as SQS removes it.
func (h *Handler) changePolicy(ctx context.Context, name string, change func(*policy) error) error {
	_, err := h.store.UpdateStream(ctx, name, func(st *store.Stream) error {
		if !isQueue(*st) {
			return errNotQueue
		}
		p := policy{Version: "2012-10-17", ID: h.queueARN(name) + "/SQSDefaultPolicy"}
		if v := st.Config[cfgAttr+attrPolicy]; v != "" {
			if err := json.Unmarshal([]byte(v), &p); err != nil {
				return fmt.Errorf("sqs: queue %s: stored policy: %w", name, err)
			}
		}
		if err := change(&p); err != nil {
			return err
		}
		if len(p.Statement) == 0 {
			delete(st.Config, cfgAttr+attrPolicy)
		} else {
			b, err := json.Marshal(p)
			if err != nil {
				return err
			}
			st.Config[cfgAttr+attrPolicy] = string(b)
		}
		st.Config[cfgModified] = strconv.FormatInt(h.now().Unix(), 10)
		return nil
	})
	return err
}
