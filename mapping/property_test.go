package mapping

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// Property tests: hand-rolled over a seeded generator so that a failure is
// reproducible from the test name alone. math/big serves as the reference
// implementation; it is fine here and deliberately absent from the package.

var two128 = new(big.Int).Lsh(big.NewInt(1), 128)

func bigOf(h HashKey) *big.Int {
	b := h.Bytes()
	return new(big.Int).SetBytes(b[:])
}

// randomHashKey draws from a mix of uniform keys and the edge cases where
// carries, chunk boundaries and digit counts change.
func randomHashKey(rng *rand.Rand) HashKey {
	switch rng.IntN(6) {
	case 0:
		return HashKey{Lo: rng.Uint64N(1000)}
	case 1:
		return HashKey{Lo: rng.Uint64()}
	case 2: // 2^64-1, 2^64 or 2^64+1
		return HashKey{Hi: 1}.add(HashKey{Lo: rng.Uint64N(3)}).Prev()
	case 3: // 2^s-1, 2^s or 2^s+1
		s := rng.IntN(128)
		p := HashKey{Lo: 1 << s}
		if s >= 64 {
			p = HashKey{Hi: 1 << (s - 64)}
		}
		return p.add(HashKey{Lo: rng.Uint64N(3)}).Prev()
	case 4: // the last few keys
		return HashKey{Hi: ^uint64(0), Lo: ^uint64(0) - rng.Uint64N(4)}
	}
	return HashKey{Hi: rng.Uint64(), Lo: rng.Uint64()}
}

func TestPropertyHashKeyDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	for i := 0; i < 50000; i++ {
		h := randomHashKey(rng)
		s := h.String()
		if want := bigOf(h).String(); s != want {
			t.Fatalf("%#x/%#x: String() = %s, math/big says %s", h.Hi, h.Lo, s, want)
		}
		back, err := ParseHashKey(s)
		if err != nil || back != h {
			t.Fatalf("ParseHashKey(%s) = %v, %v; want %#x/%#x", s, back, err, h.Hi, h.Lo)
		}
		if got := string(h.AppendDecimal([]byte("x"))); got != "x"+s {
			t.Fatalf("AppendDecimal = %q, want %q", got, "x"+s)
		}
	}
}

// TestPropertyParseHashKeyDigits feeds random digit strings of every length
// up to 40 and checks acceptance and value against math/big.
func TestPropertyParseHashKeyDigits(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for i := 0; i < 50000; i++ {
		n := 1 + rng.IntN(40)
		var sb strings.Builder
		for j := 0; j < n; j++ {
			// Bias the first digit toward 3 so that 39-digit strings straddle 2^128.
			if j == 0 && n == 39 && rng.IntN(2) == 0 {
				sb.WriteByte('3')
				continue
			}
			sb.WriteByte(byte('0' + rng.IntN(10)))
		}
		s := sb.String()
		want, _ := new(big.Int).SetString(s, 10)
		wantOK := want.Cmp(two128) < 0 && (len(s) == 1 || s[0] != '0')
		got, err := ParseHashKey(s)
		if (err == nil) != wantOK {
			t.Fatalf("ParseHashKey(%s): err = %v, want ok = %v", s, err, wantOK)
		}
		if wantOK && bigOf(got).Cmp(want) != 0 {
			t.Fatalf("ParseHashKey(%s) = %s", s, got)
		}
	}
}

func TestPropertyHashKeyArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	one := big.NewInt(1)
	for i := 0; i < 20000; i++ {
		a, b := randomHashKey(rng), randomHashKey(rng)
		if got, want := a.Cmp(b), bigOf(a).Cmp(bigOf(b)); got != want {
			t.Fatalf("%s.Cmp(%s) = %d, want %d", a, b, got, want)
		}
		next := new(big.Int).Add(bigOf(a), one)
		next.Mod(next, two128)
		if got := a.Next(); bigOf(got).Cmp(next) != 0 {
			t.Fatalf("%s.Next() = %s, want %s", a, got, next)
		}
		prev := new(big.Int).Sub(bigOf(a), one)
		prev.Mod(prev, two128)
		if got := a.Prev(); bigOf(got).Cmp(prev) != 0 {
			t.Fatalf("%s.Prev() = %s, want %s", a, got, prev)
		}
		d := 1 + rng.Uint64N(math.MaxUint64)
		q, r := a.divMod(d)
		wq, wr := new(big.Int).DivMod(bigOf(a), new(big.Int).SetUint64(d), new(big.Int))
		if bigOf(q).Cmp(wq) != 0 || wr.Uint64() != r {
			t.Fatalf("%s.divMod(%d) = %s, %d; want %s, %s", a, d, q, r, wq, wr)
		}
		// Byte order agrees with numeric order, as storage keys need.
		ab, bb := a.Bytes(), b.Bytes()
		if got, want := strings.Compare(string(ab[:]), string(bb[:])), a.Cmp(b); got != want {
			t.Fatalf("byte order %d disagrees with Cmp %d for %s, %s", got, want, a, b)
		}
	}
}

// TestPropertyEvenSplitTiles checks that EvenSplit(n) covers [0, 2^128-1]
// exactly, that every range but the last has the AWS step floor(2^128/n),
// and that the last absorbs the remainder.
func TestPropertyEvenSplitTiles(t *testing.T) {
	for n := 1; n <= 1000; n++ {
		ranges := EvenSplit(n)
		if len(ranges) != n {
			t.Fatalf("EvenSplit(%d) has %d ranges", n, len(ranges))
		}
		step := new(big.Int).Div(two128, big.NewInt(int64(n)))
		if ranges[0].Start != (HashKey{}) {
			t.Fatalf("EvenSplit(%d) starts at %s", n, ranges[0].Start)
		}
		if ranges[n-1].End != MaxHashKey {
			t.Fatalf("EvenSplit(%d) ends at %s", n, ranges[n-1].End)
		}
		for i, r := range ranges {
			if !r.Valid() {
				t.Fatalf("EvenSplit(%d)[%d] = %v is empty", n, i, r)
			}
			if i > 0 && ranges[i-1].End.Next() != r.Start {
				t.Fatalf("EvenSplit(%d): gap or overlap between %d and %d", n, i-1, i)
			}
			wantStart := new(big.Int).Mul(step, big.NewInt(int64(i)))
			if bigOf(r.Start).Cmp(wantStart) != 0 {
				t.Fatalf("EvenSplit(%d)[%d].Start = %s, want %s", n, i, r.Start, wantStart)
			}
		}
	}
}

// randomTiling returns sorted ranges tiling the hash space that are not an
// even split: random cut points, like a stream after uneven reshards.
func randomTiling(rng *rand.Rand, n int) []HashRange {
	cuts := map[HashKey]bool{}
	for len(cuts) < n-1 {
		c := randomHashKey(rng)
		if c != (HashKey{}) {
			cuts[c] = true
		}
	}
	starts := []HashKey{{}}
	for c := range cuts {
		starts = append(starts, c)
	}
	sortHashKeys(starts)
	ranges := make([]HashRange, n)
	for i, s := range starts {
		ranges[i].Start = s
		if i+1 < n {
			ranges[i].End = starts[i+1].Prev()
		} else {
			ranges[i].End = MaxHashKey
		}
	}
	return ranges
}

func sortHashKeys(keys []HashKey) {
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j].Cmp(keys[j-1]) < 0; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
}

func linearShardForHashKey(ranges []HashRange, h HashKey) int {
	for i, r := range ranges {
		if r.Contains(h) {
			return i
		}
	}
	return -1
}

func TestPropertyShardForHashKeyLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	for round := 0; round < 300; round++ {
		n := 1 + rng.IntN(64)
		var ranges []HashRange
		if round%2 == 0 {
			ranges = EvenSplit(n)
		} else {
			ranges = randomTiling(rng, n)
		}
		if round%5 == 0 && n > 1 {
			// Drop a range to create a gap.
			k := rng.IntN(n)
			ranges = append(ranges[:k:k], ranges[k+1:]...)
		}
		probes := []HashKey{{}, MaxHashKey}
		for _, r := range ranges {
			probes = append(probes, r.Start, r.End, r.Start.Prev(), r.End.Next())
		}
		for i := 0; i < 200; i++ {
			probes = append(probes, randomHashKey(rng))
		}
		for _, h := range probes {
			if got, want := ShardForHashKey(ranges, h), linearShardForHashKey(ranges, h); got != want {
				t.Fatalf("round %d: ShardForHashKey(%s) = %d, linear scan says %d", round, h, got, want)
			}
		}
	}
}

func randomSequencePosition(rng *rand.Rand) (int, int64) {
	var shard int
	var offset int64
	switch rng.IntN(3) {
	case 0:
		shard, offset = rng.IntN(10), rng.Int64N(100)
	case 1:
		shard, offset = rng.IntN(MaxShardIndex+1), rng.Int64()
	default:
		shard, offset = MaxShardIndex-rng.IntN(2), math.MaxInt64-rng.Int64N(2)
	}
	return shard, offset
}

func TestPropertySequenceNumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 19))
	for i := 0; i < 50000; i++ {
		s1, o1 := randomSequencePosition(rng)
		s2, o2 := randomSequencePosition(rng)
		a, b := SequenceNumber(s1, o1), SequenceNumber(s2, o2)
		for _, c := range []struct {
			seq    string
			shard  int
			offset int64
		}{{a, s1, o1}, {b, s2, o2}} {
			if len(c.seq) != 56 || c.seq[0] == '0' {
				t.Fatalf("SequenceNumber(%d, %d) = %q is not 56 digits without a leading zero", c.shard, c.offset, c.seq)
			}
			shard, offset, err := ParseSequenceNumber(c.seq)
			if err != nil || shard != c.shard || offset != c.offset {
				t.Fatalf("ParseSequenceNumber(%q) = %d, %d, %v", c.seq, shard, offset, err)
			}
		}
		// Same-length digit strings: string order is numeric order, and it
		// must be (shard, offset) order.
		var want int
		switch {
		case s1 != s2:
			want = cmpInt(int64(s1), int64(s2))
		default:
			want = cmpInt(o1, o2)
		}
		if got := strings.Compare(a, b); got != want {
			t.Fatalf("SequenceNumber(%d,%d) vs (%d,%d): order %d, want %d", s1, o1, s2, o2, got, want)
		}
		// Numeric check with math/big to avoid relying on the width argument.
		ab, _ := new(big.Int).SetString(a, 10)
		bb, _ := new(big.Int).SetString(b, 10)
		if got := ab.Cmp(bb); got != want {
			t.Fatalf("numeric order %d, want %d", got, want)
		}
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestPropertyShardID(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 21))
	for i := 0; i < 50000; i++ {
		var index int
		if i%2 == 0 {
			index = rng.IntN(1_000_000)
		} else {
			index = rng.IntN(MaxShardIndex + 1)
		}
		id := ShardID(index)
		back, err := ParseShardID(id)
		if err != nil || back != index {
			t.Fatalf("ParseShardID(%q) = %d, %v; want %d", id, back, err, index)
		}
		if want := "shardId-" + leftPad(strconv.Itoa(index), 12); id != want {
			t.Fatalf("ShardID(%d) = %q, want %q", index, id, want)
		}
	}
}

func leftPad(s string, width int) string {
	if len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + s
}

func TestPropertyTimestampRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 23))
	for i := 0; i < 50000; i++ {
		ms := int64(rng.Uint64())
		if i%2 == 0 {
			ms = rng.Int64N(4102444800000) // up to year 2100
		}
		if ArrivalTimestamp(ms).IsZero() {
			continue // the documented exception
		}
		if got := KafkaTimestamp(ArrivalTimestamp(ms)); got != ms {
			t.Fatalf("KafkaTimestamp(ArrivalTimestamp(%d)) = %d", ms, got)
		}
	}
}
