package mapping

import "sort"

// HashRange is the inclusive range [Start, End] of hash keys a shard owns.
// A well-formed range has Start <= End; inclusive bounds are what Kinesis
// reports (StartingHashKey, EndingHashKey) and let one range cover the whole
// space, which a half-open range over 128 bits could not express.
type HashRange struct{ Start, End HashKey }

// FullHashRange is [0, 2^128-1], the range of a one-shard stream.
var FullHashRange = HashRange{Start: HashKey{}, End: MaxHashKey}

// Contains reports whether Start <= h <= End.
func (r HashRange) Contains(h HashKey) bool {
	return r.Start.Cmp(h) <= 0 && h.Cmp(r.End) <= 0
}

// Valid reports whether Start <= End.
func (r HashRange) Valid() bool {
	return r.Start.Cmp(r.End) <= 0
}

// EvenSplit splits the whole hash space into n ranges the way AWS does for a
// new stream: step = floor(2^128 / n), range i is [i*step, (i+1)*step-1], and
// the last range ends at 2^128-1, absorbing the remainder (at most n-1 keys).
//
// The result is sorted and tiles [0, 2^128-1] exactly: ranges are
// consecutive, non-empty and do not overlap. EvenSplit panics if n < 1.
func EvenSplit(n int) []HashRange {
	if n < 1 {
		panic("mapping: EvenSplit needs at least one range")
	}
	if n == 1 {
		// step would be 2^128, which does not fit in a HashKey.
		return []HashRange{FullHashRange}
	}
	step := evenStep(uint64(n))
	ranges := make([]HashRange, n)
	start := HashKey{}
	for i := range ranges {
		next := start.add(step)
		ranges[i] = HashRange{Start: start, End: next.Prev()}
		start = next
	}
	ranges[n-1].End = MaxHashKey
	return ranges
}

// evenStep returns floor(2^128 / n) for n >= 2.
//
// 2^128 itself is not representable, so divide 2^128-1 instead: the floor
// goes up by one exactly when n divides 2^128, i.e. when the remainder of
// (2^128-1)/n is n-1.
func evenStep(n uint64) HashKey {
	q, r := MaxHashKey.divMod(n)
	if r == n-1 {
		q = q.Next()
	}
	return q
}

// ShardForHashKey returns the index in ranges of the range that contains h,
// found by binary search, or -1 if no range contains it.
//
// ranges must be sorted by Start and must not overlap; the open shards of a
// stream, ordered by hash key, satisfy this and tile the space, in which case
// the result is never -1. The -1 case exists so a caller holding a set of
// ranges with gaps (for example a subset of shards) gets an answer it can
// check rather than a wrong index.
func ShardForHashKey(ranges []HashRange, h HashKey) int {
	// First range whose End is >= h; because ranges are sorted and disjoint,
	// it is the only candidate that can contain h.
	i := sort.Search(len(ranges), func(i int) bool {
		return ranges[i].End.Cmp(h) >= 0
	})
	if i == len(ranges) || !ranges[i].Contains(h) {
		return -1
	}
	return i
}
