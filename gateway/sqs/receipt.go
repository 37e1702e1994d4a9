package sqs

import (
	"context"
	"encoding/base64"
	"encoding/binary"

	"github.com/streambridge/bridge/internal/seal"
)

// A receipt handle names one receive of one message: its queue, partition
// and offset, and the receive's nonce (messageState.nonce), sealed so a
// client cannot make one up or point it elsewhere. A handle from an earlier
// receive of the same message carries an older nonce: the index tells it
// from the latest.
//
//	<version:1> <partition:4> <offset:8> <nonce:4> <queue name> <MAC>
//
// in unpadded base64url, which needs no escaping in a form or a URL.

const receiptVersion = 1

// Where the receipt signing key lives in the store's state area.
const (
	receiptKeyNamespace = "sqs.receipts"
	receiptKeyName      = "hmac-key"
)

type receipt struct {
	queue     string
	partition int32
	offset    int64
	nonce     uint32
}

const receiptFixed = 1 + 4 + 8 + 4

func encodeReceipt(ctx context.Context, key *seal.Key, r receipt) (string, error) {
	b := make([]byte, 0, receiptFixed+len(r.queue)+seal.MACSize)
	b = append(b, receiptVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(r.partition))
	b = binary.BigEndian.AppendUint64(b, uint64(r.offset))
	b = binary.BigEndian.AppendUint32(b, r.nonce)
	b = append(b, r.queue...)
	b, err := key.Seal(ctx, b)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeReceipt returns what a handle names; ok is false for one this
// bridge did not issue (SQS's ReceiptHandleIsInvalid).
func decodeReceipt(ctx context.Context, key *seal.Key, handle string) (r receipt, ok bool, err error) {
	b, derr := base64.RawURLEncoding.DecodeString(handle)
	if derr != nil || len(b) < receiptFixed+1+seal.MACSize || b[0] != receiptVersion {
		return receipt{}, false, nil
	}
	body, ok, err := key.Open(ctx, b)
	if !ok || err != nil {
		return receipt{}, false, err
	}
	be := binary.BigEndian
	r = receipt{
		partition: int32(be.Uint32(body[1:])),
		offset:    int64(be.Uint64(body[5:])),
		nonce:     be.Uint32(body[13:]),
		queue:     string(body[receiptFixed:]),
	}
	if r.partition < 0 || r.offset < 0 {
		return receipt{}, false, nil
	}
	return r, true, nil
}
