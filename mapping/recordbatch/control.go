package recordbatch

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Control records are the transaction markers a transaction coordinator
// writes into every partition a transaction touched (KIP-98): a batch with
// the control and transactional attributes, the producer's id and epoch,
// and one record whose key is (version int16 = 0, type int16) and whose
// value is (version int16 = 0, coordinator epoch int32). Readers never hand
// control records to applications; read_committed consumers use them to end
// a producer's transaction.

// ControlType is a control record's type: what the marker says.
type ControlType int16

const (
	ControlAbort  ControlType = 0
	ControlCommit ControlType = 1
)

func (t ControlType) String() string {
	switch t {
	case ControlAbort:
		return "ABORT"
	case ControlCommit:
		return "COMMIT"
	}
	return fmt.Sprintf("ControlType(%d)", int16(t))
}

// Control is one transaction marker.
type Control struct {
	Type             ControlType
	CoordinatorEpoch int32
}

// EncodeControl returns a control batch holding marker for the producer's
// transaction, timestamped at, with base offset 0 (the store sets it).
func EncodeControl(producerID int64, producerEpoch int16, marker Control, at time.Time) ([]byte, error) {
	key := binary.BigEndian.AppendUint16(nil, 0) // version
	key = binary.BigEndian.AppendUint16(key, uint16(marker.Type))
	value := binary.BigEndian.AppendUint16(nil, 0) // version
	value = binary.BigEndian.AppendUint32(value, uint32(marker.CoordinatorEpoch))
	return Encode(nil, []Record{{Key: key, Value: value, Timestamp: at}}, EncodeOptions{
		Idempotent:    true,
		ProducerID:    producerID,
		ProducerEpoch: producerEpoch,
		BaseSequence:  -1, // markers carry no sequence
		Transactional: true,
		Control:       true,
	})
}

// ParseControl reads the marker of a control batch (Info.Control). Kafka
// writes exactly one control record per batch; ErrCorrupt when the batch
// holds none or its key is malformed.
func ParseControl(batch []byte) (Control, error) {
	_, records, err := Decode(batch)
	if err != nil {
		return Control{}, err
	}
	if len(records) == 0 {
		return Control{}, fmt.Errorf("%w: control batch without a record", ErrCorrupt)
	}
	return ControlOf(records[0])
}

// ControlOf reads the marker a decoded control record carries.
func ControlOf(r Record) (Control, error) {
	if len(r.Key) < 4 {
		return Control{}, fmt.Errorf("%w: control record key of %d bytes", ErrCorrupt, len(r.Key))
	}
	if v := int16(binary.BigEndian.Uint16(r.Key)); v != 0 {
		return Control{}, fmt.Errorf("%w: control record key version %d", ErrCorrupt, v)
	}
	c := Control{Type: ControlType(binary.BigEndian.Uint16(r.Key[2:]))}
	if len(r.Value) >= 6 {
		c.CoordinatorEpoch = int32(binary.BigEndian.Uint32(r.Value[2:]))
	}
	return c, nil
}
