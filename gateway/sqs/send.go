package sqs

// SendMessage and SendMessageBatch. A sent message is a record appended to
// one of the queue's partitions (record.go): round-robin on a standard
// queue, by MessageGroupId on a FIFO queue (and for a fair queue's groups),
// placed as Kafka's default partitioner places a key, so Kafka producers
// and SQS senders agree on where a group lives. The append is durable
// before the answer.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

func init() {
	register("SendMessage", (*Handler).sendMessage)
}

type sendMessageInput struct {
	QueueUrl                string                  `json:"QueueUrl"`
	MessageBody             *string                 `json:"MessageBody"`
	DelaySeconds            *int32                  `json:"DelaySeconds"`
	MessageAttributes       MessageAttributes       `json:"MessageAttributes" query:"MessageAttribute,flat,entry=Name/Value"`
	MessageSystemAttributes MessageSystemAttributes `json:"MessageSystemAttributes" query:"MessageSystemAttribute,flat,entry=Name/Value"`
	MessageDeduplicationId  *string                 `json:"MessageDeduplicationId"`
	MessageGroupId          string                  `json:"MessageGroupId"`
}

type sendMessageOutput struct {
	MD5OfMessageBody             string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes       string `json:"MD5OfMessageAttributes,omitempty"`
	MD5OfMessageSystemAttributes string `json:"MD5OfMessageSystemAttributes,omitempty"`
	MessageId                    string `json:"MessageId"`
	SequenceNumber               string `json:"SequenceNumber,omitempty"`
}

func (h *Handler) sendMessage(ctx context.Context, _ *exchange, in *sendMessageInput) (*sendMessageOutput, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	m, err := h.prepare(t, in, h.now())
	if err != nil {
		return nil, err
	}
	res, err := h.send(ctx, t, []*pendingSend{m})
	if err != nil {
		return nil, err
	}
	if res[0].err != nil {
		return nil, res[0].err
	}
	return &res[0].out, nil
}

// pendingSend is one message of a send, checked and ready to append.
type pendingSend struct {
	msg   outgoing
	dedup string // the FIFO deduplication key; "" on standard queues
	// pointer: the message is in the extended clients' pointer form; its
	// batch is marked Offloaded (offload.go).
	pointer bool
	out     sendMessageOutput
	err     error
}

// prepare checks a message against the queue, as SendMessage does, and
// returns it ready to append.
func (h *Handler) prepare(t *target, in *sendMessageInput, now time.Time) (*pendingSend, error) {
	if in.MessageBody == nil {
		return nil, missingParameter("MessageBody")
	}
	body := *in.MessageBody
	delay := t.attrInt(attrDelaySeconds)
	if in.DelaySeconds != nil {
		d := *in.DelaySeconds
		if d < 0 || d > 900 {
			return nil, invalidParameter("DelaySeconds", strconv.Itoa(int(d)), "DelaySeconds must be >= 0 and <= 900.")
		}
		if t.fifo {
			return nil, invalidParameter("DelaySeconds", strconv.Itoa(int(d)), "The request include parameter that is not valid for this queue type.")
		}
		delay = int64(d)
	}
	for name := range in.MessageAttributes {
		if isReservedHeader(name) {
			// The bridge keeps these names for itself (record.go); SQS would
			// take them.
			return nil, newError(ErrInvalidParameterValue, "Message (user) attribute name '%s' is reserved by the bridge.", name)
		}
	}
	if err := ValidateMessage(body, in.MessageAttributes, in.MessageSystemAttributes, int(t.attrInt(attrMaximumMessageSize))); err != nil {
		return nil, err
	}
	m := &pendingSend{msg: outgoing{body: body, attributes: in.MessageAttributes, system: in.MessageSystemAttributes, groupID: in.MessageGroupId}}
	if delay > 0 {
		m.msg.delayUntil = now.UnixMilli() + delay*1000
	}
	if err := h.checkFIFO(t, in, m); err != nil {
		return nil, err
	}
	if h.cfg.Offload != nil {
		var err error
		if m.pointer, err = sentPointer(&m.msg); err != nil {
			return nil, err
		}
	}
	m.out = sendMessageOutput{
		MD5OfMessageBody:             MD5OfBody(body),
		MD5OfMessageAttributes:       MD5OfMessageAttributes(in.MessageAttributes),
		MD5OfMessageSystemAttributes: MD5OfMessageSystemAttributes(in.MessageSystemAttributes),
	}
	return m, nil
}

// Limits of FIFO ids, from the SQS API reference.
const maxFIFOIDLength = 128

// errNoDeduplication refuses a FIFO message without a deduplication id on a
// queue without content-based deduplication.
var errNoDeduplication = newError(ErrInvalidParameterValue, "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")

// checkFIFO checks the FIFO parameters, MessageGroupId and
// MessageDeduplicationId, and sets m's deduplication key.
func (h *Handler) checkFIFO(t *target, in *sendMessageInput, m *pendingSend) error {
	if !t.fifo {
		if in.MessageDeduplicationId != nil {
			return invalidParameter("MessageDeduplicationId", *in.MessageDeduplicationId, "The request includes a parameter that is not valid for this queue type.")
		}
		if in.MessageGroupId != "" && !validFIFOID(in.MessageGroupId) {
			return invalidParameter("MessageGroupId", in.MessageGroupId, "MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
		}
		return nil
	}
	if in.MessageGroupId == "" {
		return missingParameter("MessageGroupId")
	}
	if !validFIFOID(in.MessageGroupId) {
		return invalidParameter("MessageGroupId", in.MessageGroupId, "MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
	}
	var id string
	switch {
	case in.MessageDeduplicationId != nil:
		if id = *in.MessageDeduplicationId; !validFIFOID(id) {
			return invalidParameter("MessageDeduplicationId", id, "MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
		}
	case !strings.EqualFold(t.attrs[attrContentBasedDeduplication], "true"):
		return errNoDeduplication
	default:
		sum := sha256.Sum256([]byte(m.msg.body))
		id = hex.EncodeToString(sum[:])
	}
	m.dedup, m.msg.dedupID = id, id
	if t.attrs[attrDeduplicationScope] == "messageGroup" {
		m.dedup = in.MessageGroupId + "\x00" + id
	}
	return nil
}

// validFIFOID: 1 to 128 of alphanumerics and punctuation (!"#$%&'()*+,-./
// :;<=>?@[\]^_`{|}~), the rule for MessageGroupId and
// MessageDeduplicationId.
func validFIFOID(s string) bool {
	if len(s) == 0 || len(s) > maxFIFOIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < '!' || c > '~' {
			return false
		}
	}
	return true
}

// send appends the messages, grouped by partition, and fills in each one's
// MessageId (and SequenceNumber on FIFO queues). A FIFO message whose
// deduplication id was seen in the last 5 minutes is not appended again:
// it answers with the first one's ids, as SQS does. An error is the whole
// send's.
func (h *Handler) send(ctx context.Context, t *target, msgs []*pendingSend) ([]*pendingSend, error) {
	now := h.now()
	if t.fifo {
		// Deduplication is check-then-append: FIFO sends to one queue take
		// turns (SQS itself limits a FIFO queue to 300 sends a second
		// without high throughput mode).
		t.q.sendMu.Lock()
		defer t.q.sendMu.Unlock()
	}
	for _, m := range msgs {
		if m.pointer && !h.mayRead(ctx, &m.msg) {
			m.pointer = false // stored as sent, unmarked: read as the pointer it is
		}
	}
	byPartition := map[int32][]*pendingSend{}
	var order []int32
	repeats := map[*pendingSend]*pendingSend{} // a repeat within the request → its first
	firsts := map[string]*pendingSend{}
	for _, m := range msgs {
		if t.fifo {
			if first, ok := firsts[m.dedup]; ok {
				repeats[m] = first
				continue
			}
			dup, ok, err := dedupLookup(ctx, h.store, t.name, m.dedup, now.UnixMilli())
			if err != nil {
				return nil, err
			}
			if ok {
				m.out.MessageId = messageID(t.name, t.st.Created, dup.partition, dup.offset)
				m.out.SequenceNumber = sequenceNumber(dup.partition, dup.offset)
				continue
			}
			firsts[m.dedup] = m
		}
		p := t.q.partitionFor(m.msg.groupID)
		if _, ok := byPartition[p]; !ok {
			order = append(order, p)
		}
		byPartition[p] = append(byPartition[p], m)
	}
	pendings := make([]store.Pending, len(order))
	predicted := make([]int64, len(order))
	var firstErr error
	for i, p := range order {
		var state []store.KV
		if t.fifo {
			// The deduplication entries commit with the messages, at the
			// offsets they will most likely get (FIFO sends take turns; only a
			// Kafka producer writing to the same partition meanwhile moves
			// them, and then they are corrected below).
			_, hw, err := h.store.Offsets(ctx, t.name, p)
			if err != nil {
				firstErr = err
				break
			}
			predicted[i] = hw
			state = dedupWrites(t.name, p, hw, byPartition[p], now)
		}
		batch, err := encodeSends(byPartition[p], now)
		if err == nil {
			pendings[i], err = h.store.StartAppendBatch(ctx, t.name, p, batch, store.AppendOptions{State: state})
		}
		if err != nil {
			firstErr = err
			break
		}
	}
	// Every started append is waited on, even after a failure (store.Pending).
	for i, p := range order {
		if pendings[i] == nil {
			continue
		}
		res, err := pendings[i].Wait()
		if err != nil {
			firstErr = err
			continue
		}
		for j, m := range byPartition[p] {
			off := res.BaseOffset + int64(j)
			m.out.MessageId = messageID(t.name, t.st.Created, p, off)
			if t.fifo {
				m.out.SequenceNumber = sequenceNumber(p, off)
			}
		}
		if t.fifo && res.BaseOffset != predicted[i] {
			if err := h.store.Update(ctx, dedupWrites(t.name, p, res.BaseOffset, byPartition[p], now)...); err != nil {
				firstErr = err
			}
		}
	}
	if firstErr != nil {
		return nil, fmt.Errorf("sqs: send to %s: %w", t.name, firstErr)
	}
	for m, first := range repeats {
		m.out.MessageId, m.out.SequenceNumber = first.out.MessageId, first.out.SequenceNumber
	}
	return msgs, nil
}

// encodeSends encodes messages as one record batch, marked ClientPointers when
// one of them is in pointer form: the mark is what makes readers look for
// pointer records (a Kafka consumer's fetch restores them). No object goes
// in the append's references: the client that wrote it owns it.
func encodeSends(msgs []*pendingSend, now time.Time) ([]byte, error) {
	recs := make([]recordbatch.Record, len(msgs))
	pointers := false
	for i, m := range msgs {
		recs[i] = m.msg.record()
		recs[i].Timestamp = now
		pointers = pointers || m.pointer
	}
	return recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{ClientPointers: pointers})
}

// partitionFor is the partition a message of group goes to.
func (q *queue) partitionFor(group string) int32 {
	n := len(q.parts)
	if n == 1 {
		return 0
	}
	if group != "" {
		return int32(mapping.KafkaPartition([]byte(group), n))
	}
	return int32(q.sends.Add(1) % uint32(n))
}

// sequenceNumber is a FIFO message's SequenceNumber: its position, as the
// 20-digit decimal SQS writes.
func sequenceNumber(partition int32, offset int64) string {
	return fmt.Sprintf("%020d", uint64(partition)<<48|uint64(offset))
}
