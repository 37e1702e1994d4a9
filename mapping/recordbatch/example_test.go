package recordbatch_test

import (
	"fmt"
	"time"

	"github.com/streambridge/bridge/mapping/recordbatch"
)

// The store's append path: split a produce request's records, check each
// batch as a broker would, and assign offsets in place.
func Example_append() {
	// What a producer sends (here built with Encode).
	request, _ := recordbatch.Encode(nil, []recordbatch.Record{
		{Timestamp: time.UnixMilli(1700000000000), Key: []byte("k"), Value: []byte("v1")},
		{Timestamp: time.UnixMilli(1700000000001), Key: []byte("k"), Value: []byte("v2")},
	}, recordbatch.EncodeOptions{Codec: recordbatch.Zstd})

	batches, err := recordbatch.Split(request)
	if err != nil {
		panic(err) // CORRUPT_MESSAGE
	}
	next := int64(42) // the partition's next offset
	for _, b := range batches {
		info, err := recordbatch.CheckProduce(b)
		if err != nil {
			panic(err)
		}
		recordbatch.SetBaseOffset(b, next)
		next += int64(info.LastOffsetDelta) + 1
		fmt.Println(info.Codec(), info.NumRecords, "records, stored at", next-int64(info.NumRecords))
	}
	// Output: zstd 2 records, stored at 42
}

// The Kinesis read path: decode stored batches, reusing one Decoder.
func ExampleDecoder() {
	stored, _ := recordbatch.Encode(nil, []recordbatch.Record{
		{Offset: 7, Timestamp: time.UnixMilli(1700000000000), Key: []byte("pk"), Value: []byte("data")},
	}, recordbatch.EncodeOptions{LogAppendTime: true})

	var d recordbatch.Decoder
	_, records, err := d.Decode(stored)
	if err != nil {
		panic(err)
	}
	for _, r := range records {
		fmt.Printf("%d %s %s %d\n", r.Offset, r.Key, r.Value, r.Timestamp.UnixMilli())
	}
	// Output: 7 pk data 1700000000000
}
