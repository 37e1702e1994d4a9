package sqs

// The batch operations: SendMessageBatch, DeleteMessageBatch and
// ChangeMessageVisibilityBatch. A batch is refused whole for what is wrong
// with the batch (no entries, more than 10, an id that is invalid or
// repeated, over 1 MiB of messages); an entry's own refusal goes in Failed,
// with SenderFault and the error's Query code, as SQS answers.

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

func init() {
	register("SendMessageBatch", (*Handler).sendMessageBatch)
	register("DeleteMessageBatch", (*Handler).deleteMessageBatch)
	register("ChangeMessageVisibilityBatch", (*Handler).changeMessageVisibilityBatch)
}

// Batch limits, from the SQS API reference.
const (
	maxBatchEntries   = 10
	maxBatchIDLength  = 80
	maxBatchSendBytes = 1 << 20
)

type batchResultErrorEntry struct {
	Id          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message,omitempty"`
}

// entryError is the Failed entry for an entry refused with err.
func entryError(id string, err error) (batchResultErrorEntry, bool) {
	var se *Error
	if !errors.As(err, &se) {
		return batchResultErrorEntry{}, false
	}
	return batchResultErrorEntry{Id: id, SenderFault: true, Code: se.QueryCode, Message: se.Message}, true
}

// checkBatch refuses a batch for its entries' ids, which it returns in
// order; entry is the Query name of an entry (SendMessageBatchRequestEntry),
// which the messages quote.
func checkBatch[E any](entry string, entries []E, id func(E) string) ([]string, error) {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = id(e)
	}
	return ids, checkIDs(entry, ids)
}

func checkIDs(entry string, ids []string) error {
	if len(ids) == 0 {
		return &Error{Type: "EmptyBatchRequest", QueryCode: "AWS.SimpleQueueService.EmptyBatchRequest",
			Message: "There should be at least one " + entry + " in the request."}
	}
	if len(ids) > maxBatchEntries {
		return &Error{Type: "TooManyEntriesInBatchRequest", QueryCode: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
			Message: "Maximum number of entries per request are 10. You have sent " + strconv.Itoa(len(ids)) + "."}
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !validBatchID(id) {
			return &Error{Type: "InvalidBatchEntryId", QueryCode: "AWS.SimpleQueueService.InvalidBatchEntryId",
				Message: "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."}
		}
		if seen[id] {
			return &Error{Type: "BatchEntryIdsNotDistinct", QueryCode: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
				Message: "Id " + id + " repeated."}
		}
		seen[id] = true
	}
	return nil
}

func validBatchID(id string) bool {
	if id == "" || len(id) > maxBatchIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

type sendMessageBatchEntry struct {
	Id                      string                  `json:"Id"`
	MessageBody             *string                 `json:"MessageBody"`
	DelaySeconds            *int32                  `json:"DelaySeconds"`
	MessageAttributes       MessageAttributes       `json:"MessageAttributes" query:"MessageAttribute,flat,entry=Name/Value"`
	MessageSystemAttributes MessageSystemAttributes `json:"MessageSystemAttributes" query:"MessageSystemAttribute,flat,entry=Name/Value"`
	MessageDeduplicationId  *string                 `json:"MessageDeduplicationId"`
	MessageGroupId          string                  `json:"MessageGroupId"`
}

type sendMessageBatchInput struct {
	QueueUrl string                  `json:"QueueUrl"`
	Entries  []sendMessageBatchEntry `json:"Entries" query:"SendMessageBatchRequestEntry,flat"`
}

type sendMessageBatchResultEntry struct {
	Id string `json:"Id"`
	sendMessageOutput
}

type sendMessageBatchOutput struct {
	Successful []sendMessageBatchResultEntry `json:"Successful,omitempty" query:"SendMessageBatchResultEntry,flat"`
	Failed     []batchResultErrorEntry       `json:"Failed,omitempty" query:"BatchResultErrorEntry,flat"`
}

func (h *Handler) sendMessageBatch(ctx context.Context, _ *exchange, in *sendMessageBatchInput) (*sendMessageBatchOutput, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	_, err = checkBatch("SendMessageBatchRequestEntry", in.Entries, func(e sendMessageBatchEntry) string { return e.Id })
	if err != nil {
		return nil, err
	}
	total := 0
	for _, e := range in.Entries {
		if e.MessageBody != nil {
			total += MessageSize(*e.MessageBody, e.MessageAttributes)
		}
	}
	if t.fifo {
		// On a FIFO queue an entry without its group or its deduplication
		// id fails the whole batch, not the entry.
		for _, e := range in.Entries {
			if e.MessageGroupId == "" {
				return nil, newError(ErrInvalidParameterValue, "The request must contain the parameter MessageGroupId.")
			}
			if e.MessageDeduplicationId == nil && !strings.EqualFold(t.attrs[attrContentBasedDeduplication], "true") {
				return nil, errNoDeduplication
			}
		}
	}
	if total > maxBatchSendBytes {
		return nil, &Error{Type: "BatchRequestTooLong", QueryCode: "AWS.SimpleQueueService.BatchRequestTooLong",
			Message: "Batch requests cannot be longer than 1048576 bytes. You have sent " + strconv.Itoa(total) + " bytes."}
	}
	out := &sendMessageBatchOutput{Successful: []sendMessageBatchResultEntry{}, Failed: []batchResultErrorEntry{}}
	now := h.now()
	var msgs []*pendingSend
	var msgIDs []string
	for _, e := range in.Entries {
		m, err := h.prepare(t, &sendMessageInput{
			MessageBody: e.MessageBody, DelaySeconds: e.DelaySeconds,
			MessageAttributes: e.MessageAttributes, MessageSystemAttributes: e.MessageSystemAttributes,
			MessageDeduplicationId: e.MessageDeduplicationId, MessageGroupId: e.MessageGroupId,
		}, now)
		if err != nil {
			f, ok := entryError(e.Id, err)
			if !ok {
				return nil, err
			}
			// A batch entry's size refusal is worded apart from
			// SendMessage's.
			f.Message = strings.Replace(f.Message, "One or more parameters are invalid.", "One or more parameters cannot be validated.", 1)
			out.Failed = append(out.Failed, f)
			continue
		}
		msgs = append(msgs, m)
		msgIDs = append(msgIDs, e.Id)
	}
	if len(msgs) > 0 {
		if _, err := h.send(ctx, t, msgs); err != nil {
			return nil, err
		}
	}
	for i, m := range msgs {
		out.Successful = append(out.Successful, sendMessageBatchResultEntry{Id: msgIDs[i], sendMessageOutput: m.out})
	}
	return out, nil
}

type deleteMessageBatchEntry struct {
	Id            string `json:"Id"`
	ReceiptHandle string `json:"ReceiptHandle"`
}

type deleteMessageBatchInput struct {
	QueueUrl string                    `json:"QueueUrl"`
	Entries  []deleteMessageBatchEntry `json:"Entries" query:"DeleteMessageBatchRequestEntry,flat"`
}

type batchResultEntry struct {
	Id string `json:"Id"`
}

type deleteMessageBatchOutput struct {
	Successful []batchResultEntry      `json:"Successful,omitempty" query:"DeleteMessageBatchResultEntry,flat"`
	Failed     []batchResultErrorEntry `json:"Failed,omitempty" query:"BatchResultErrorEntry,flat"`
}

func (h *Handler) deleteMessageBatch(ctx context.Context, _ *exchange, in *deleteMessageBatchInput) (*deleteMessageBatchOutput, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids, err := checkBatch("DeleteMessageBatchRequestEntry", in.Entries, func(e deleteMessageBatchEntry) string { return e.Id })
	if err != nil {
		return nil, err
	}
	handles := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		handles[i] = e.ReceiptHandle
	}
	errs, err := h.deleteMessages(ctx, t, handles)
	if err != nil {
		return nil, err
	}
	out := &deleteMessageBatchOutput{}
	out.Successful, out.Failed, err = sortEntries(ids, errs)
	return out, err
}

// sortEntries answers a batch's entries by their outcomes: Successful for
// those without an error, Failed for those with an entry's refusal. Any
// other error fails the whole batch.
func sortEntries(ids []string, errs []error) (ok []batchResultEntry, failed []batchResultErrorEntry, err error) {
	for i, id := range ids {
		if errs[i] == nil {
			ok = append(ok, batchResultEntry{Id: id})
			continue
		}
		f, isEntry := entryError(id, errs[i])
		if !isEntry {
			return nil, nil, errs[i]
		}
		failed = append(failed, f)
	}
	return ok, failed, nil
}

type changeVisibilityBatchEntry struct {
	Id                string `json:"Id"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout *int32 `json:"VisibilityTimeout"`
}

type changeVisibilityBatchInput struct {
	QueueUrl string                       `json:"QueueUrl"`
	Entries  []changeVisibilityBatchEntry `json:"Entries" query:"ChangeMessageVisibilityBatchRequestEntry,flat"`
}

type changeVisibilityBatchOutput struct {
	Successful []batchResultEntry      `json:"Successful,omitempty" query:"ChangeMessageVisibilityBatchResultEntry,flat"`
	Failed     []batchResultErrorEntry `json:"Failed,omitempty" query:"BatchResultErrorEntry,flat"`
}

func (h *Handler) changeMessageVisibilityBatch(ctx context.Context, _ *exchange, in *changeVisibilityBatchInput) (*changeVisibilityBatchOutput, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids, err := checkBatch("ChangeMessageVisibilityBatchRequestEntry", in.Entries, func(e changeVisibilityBatchEntry) string { return e.Id })
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(in.Entries))
	for i, e := range in.Entries {
		errs[i] = h.changeVisibility(ctx, t, e.ReceiptHandle, e.VisibilityTimeout)
	}
	out := &changeVisibilityBatchOutput{}
	out.Successful, out.Failed, err = sortEntries(ids, errs)
	return out, err
}
