package sqs

import (
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/mapping/recordbatch"
)

// A message is a record (ARCHITECTURE.md, "Queues"): the body is its
// value; on FIFO queues (and fair standard queues) the MessageGroupId is
// its key; each message attribute is a header whose key is the attribute's
// name and whose value is its bytes. What a Kafka consumer would not guess
// travels in headers of the bridge's own. Their names are valid attribute
// names, so SendMessage must refuse them as attribute names (a documented
// difference from SQS, which would take them; not enforced yet, as the API
// is not served yet):
//
//   - headerAttributeTypes: a JSON object of the data types of the
//     attributes that are not plain String;
//   - headerTraceHeader: the AWSTraceHeader system attribute;
//   - headerDelayUntil: the end of the message's delay, Unix ms.
//
// A Kafka record produced to a queue's topic reads as a message the same
// way: its headers become String attributes when their value is UTF-8 SQS
// allows, Binary ones otherwise.
const (
	headerAttributeTypes = "sqs-attribute-types"
	headerTraceHeader    = "sqs-aws-trace-header"
	// headerDelayUntil carries a message's DelaySeconds as the Unix ms it
	// becomes visible at; a record without it is visible at once.
	headerDelayUntil = "sqs-delay-until"
	// headerDedupID is a FIFO message's MessageDeduplicationId.
	headerDedupID = "sqs-deduplication-id"
	// headerDeadLetterSource is the ARN of the queue a dead-lettered
	// message came from (DeadLetterQueueSourceArn).
	headerDeadLetterSource = "sqs-dead-letter-source"
)

// isReservedHeader reports whether a header is the bridge's, not an
// attribute.
func isReservedHeader(key string) bool {
	switch key {
	case headerAttributeTypes, headerTraceHeader, headerDelayUntil, headerDedupID, headerDeadLetterSource:
		return true
	}
	return false
}

// outgoing is a message on its way into a queue.
type outgoing struct {
	body       string
	attributes MessageAttributes
	system     MessageSystemAttributes
	groupID    string // "" for none
	dedupID    string // FIFO queues
	delayUntil int64  // Unix ms; 0 for no delay
}

// record returns the message as a record to append.
func (m *outgoing) record() recordbatch.Record {
	r := recordbatch.Record{Value: readOnlyBytes(m.body)}
	if m.groupID != "" {
		r.Key = []byte(m.groupID)
	}
	types := map[string]string{}
	for _, name := range sortedNames(m.attributes) {
		v := m.attributes[name]
		value := v.BinaryValue
		if v.StringValue != nil {
			value = []byte(*v.StringValue)
		}
		r.Headers = append(r.Headers, recordbatch.Header{Key: name, Value: value})
		if v.DataType != typeString {
			types[name] = v.DataType
		}
	}
	if len(types) > 0 {
		b, _ := json.Marshal(types) // a map of strings always encodes
		r.Headers = append(r.Headers, recordbatch.Header{Key: headerAttributeTypes, Value: b})
	}
	if v, ok := m.system[AWSTraceHeader]; ok && v.StringValue != nil {
		r.Headers = append(r.Headers, recordbatch.Header{Key: headerTraceHeader, Value: []byte(*v.StringValue)})
	}
	if m.delayUntil > 0 {
		r.Headers = append(r.Headers, recordbatch.Header{Key: headerDelayUntil, Value: strconv.AppendInt(nil, m.delayUntil, 10)})
	}
	if m.dedupID != "" {
		r.Headers = append(r.Headers, recordbatch.Header{Key: headerDedupID, Value: []byte(m.dedupID)})
	}
	return r
}

// readOnlyBytes views s as bytes, without the copy a conversion makes,
// for bytes that are only read: a message's body is the largest thing a
// send handles, and its record is only ever encoded into a batch (which
// copies it) or inspected.
func readOnlyBytes(s string) []byte {
	if s == "" {
		return []byte{} // empty, not nil: a nil value is a Kafka null
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// incoming is a message as a receive returns it.
type incoming struct {
	body       string
	attributes MessageAttributes
	system     MessageSystemAttributes
	groupID    string
	sent       time.Time

	dedupID          string
	deadLetterSource string
}

// messageOf reads a stored record as a message; any record is one.
func messageOf(r recordbatch.Record) incoming {
	m := incoming{body: string(r.Value), groupID: string(r.Key), sent: r.Timestamp}
	var types map[string]string
	for _, h := range r.Headers {
		if h.Key == headerAttributeTypes {
			_ = json.Unmarshal(h.Value, &types) // a foreign or broken one types nothing
		}
	}
	for _, h := range r.Headers {
		switch {
		case h.Key == headerTraceHeader:
			s := string(h.Value)
			m.system = MessageSystemAttributes{AWSTraceHeader: {DataType: typeString, StringValue: &s}}
		case h.Key == headerDedupID:
			m.dedupID = string(h.Value)
		case h.Key == headerDeadLetterSource:
			m.deadLetterSource = string(h.Value)
		case isReservedHeader(h.Key):
		default:
			if m.attributes == nil {
				m.attributes = MessageAttributes{}
			}
			m.attributes[h.Key] = attributeOf(h.Value, types[h.Key])
		}
	}
	return m
}

// attributeOf is a header value as an attribute of dataType, or, for a
// header without one (produced by Kafka), String when SQS would take the
// value as one and Binary otherwise.
func attributeOf(value []byte, dataType string) MessageAttributeValue {
	if dataType == "" {
		dataType = typeBinary
		if _, bad := firstDisallowed(string(value)); !bad && utf8.Valid(value) && len(value) > 0 {
			dataType = typeString
		}
	}
	if base, _, _ := strings.Cut(dataType, "."); base == typeBinary {
		return MessageAttributeValue{DataType: dataType, BinaryValue: value}
	}
	s := string(value)
	return MessageAttributeValue{DataType: dataType, StringValue: &s}
}

// messageID returns the MessageId of the message at offset of partition of
// a queue (stream created at created): derived, not stored, so every read
// gives the same one, and Kafka-produced messages have one too. It has a
// UUID's form; its bits are the position, not randomness (version 8, RFC
// 9562's custom layout).
func messageID(queue string, created time.Time, partition int32, offset int64) string {
	h := fnv.New32a()
	h.Write([]byte(queue))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(created.UnixMilli())))
	var id uuid.UUID
	binary.BigEndian.PutUint32(id[0:], h.Sum32())
	binary.BigEndian.PutUint32(id[4:], uint32(partition))
	binary.BigEndian.PutUint64(id[8:], uint64(offset))
	// The version and variant bits overwrite bits 12-15 of the partition
	// and the top 2 of the offset, which queues of fewer than 4096
	// partitions and 2^62 messages never use.
	id[6] = id[6]&0x0f | 0x80
	id[8] = id[8]&0x3f | 0x80
	return id.String()
}

// delayUntil returns when a message's delay ends (Unix ms), 0 for none.
func delayUntil(r recordbatch.Record) int64 {
	i := slices.IndexFunc(r.Headers, func(h recordbatch.Header) bool { return h.Key == headerDelayUntil })
	if i < 0 {
		return 0
	}
	ms, err := strconv.ParseInt(string(r.Headers[i].Value), 10, 64)
	if err != nil {
		return 0
	}
	return ms
}
