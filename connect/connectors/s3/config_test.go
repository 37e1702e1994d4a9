package s3

import (
	"strings"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
)

func TestConfigErrors(t *testing.T) {
	base := connect.Config{Bucket: "b", FlushSize: "10"}
	with := func(kv ...string) connect.Config {
		c := connect.Config{}
		for k, v := range base {
			c[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i]] = kv[i+1]
		}
		return c
	}
	for _, tc := range []struct {
		cfg     connect.Config
		setting string
		want    string
	}{
		{connect.Config{FlushSize: "1"}, Bucket, `Missing required configuration "s3.bucket.name"`},
		{connect.Config{Bucket: "b"}, FlushSize, `Missing required configuration "flush.size"`},
		{with(FlushSize, "0"), FlushSize, "Value must be at least 1"},
		{with(PartSize, "1024"), PartSize, "Value must be at least 5242880"},
		{with(Format, "avro"), Format, "String must be one of: json, bytes"},
		{with(Compression, "zstd"), Compression, "String must be one of: none, gzip"},
		{with(Partitioner, "time"), PathFormat, "Path format cannot be empty"},
		{with(Partitioner, "time", PathFormat, "'year'=YYYY/'q"), PathFormat, "unclosed quote"},
		{with(Partitioner, "time", PathFormat, "YYYY/ww"), PathFormat, "illegal pattern component: w"},
		{with(Partitioner, "field"), PartitionFieldName, "Partition field name cannot be empty"},
		{with(Timezone, "Mars/Olympus"), Timezone, "unknown timezone"},
		{with(RotateInterval, "0"), RotateInterval, "Value must be -1 or positive"},
		{with(TimestampExtractor, "RecordField"), TimestampExtractor, "String must be one of: Record, Wallclock"},
	} {
		errs := Def.Validate(tc.cfg)
		for k, v := range validate(tc.cfg) {
			if errs == nil {
				errs = map[string][]string{}
			}
			errs[k] = append(errs[k], v...)
		}
		if !strings.Contains(strings.Join(errs[tc.setting], "|"), tc.want) {
			t.Errorf("%v: errors of %s = %q, want %q", tc.cfg, tc.setting, errs[tc.setting], tc.want)
		}
		if _, err := parse(tc.cfg); err == nil {
			t.Errorf("%v: parse accepted it", tc.cfg)
		}
		if err := (&Connector{}).Start(t.Context(), nil, tc.cfg); err == nil {
			t.Errorf("%v: Start accepted it", tc.cfg)
		}
	}
	if _, err := parse(base); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	var r connect.Registry
	r.Register(Plugins()...)
	if _, ok := r.Lookup("S3Sink"); !ok {
		t.Error("S3Sink alias not registered")
	}
}

func TestPathFormat(t *testing.T) {
	at := time.Date(2026, 7, 4, 15, 6, 7, 890_000_000, time.UTC)
	for _, tc := range []struct{ pattern, want string }{
		{"'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", "year=2026/month=07/day=04/hour=15"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSS", "2026-07-04T15:06:07.890"},
		{"yy/M/d/H/m/s", "26/7/4/15/6/7"},
		{"MMM MMMM E EEEE", "Jul July Sat Saturday"},
		{"hh a kk KK DDD", "03 PM 15 03 185"},
		{"'it''s' ''", "it's '"},
		{"'dt'=yyyyMMdd", "dt=20260704"},
		{"Z ZZ", "+0000 +00:00"},
	} {
		pf, err := parsePathFormat(tc.pattern)
		if err != nil {
			t.Errorf("%q: %v", tc.pattern, err)
			continue
		}
		if got := pf.format(at); got != tc.want {
			t.Errorf("%q formats %q, want %q", tc.pattern, got, tc.want)
		}
	}
}

func TestObjectNames(t *testing.T) {
	for _, tc := range []struct {
		key       string
		partition int32
		start     int64
		ok        bool
	}{
		{"topics/orders/partition=3/orders+3+0000000042.json", 3, 42, true},
		{"orders/x/orders+0+12345678901.json.gz", 0, 12345678901, true},
		{"topics/orders/partition=3/orders+3+0000000042", 3, 42, true},
		{"topics/orders/partition=3/other+3+0000000042.json", 0, 0, false},
		{"topics/orders/orders+x+1.json", 0, 0, false},
		{"topics/orders/orders+1+-5.json", 0, 0, false},
		{"topics/orders/orders+1+.json", 0, 0, false},
		{"topics/orders/orders+1", 0, 0, false},
	} {
		p, s, ok := parseObjectName(tc.key, "orders")
		if p != tc.partition || s != tc.start || ok != tc.ok {
			t.Errorf("parseObjectName(%q) = %d %d %v, want %d %d %v", tc.key, p, s, ok, tc.partition, tc.start, tc.ok)
		}
	}
	if got := objectKey("", "t", "a=1/b=2", 7, 9, ".bin"); got != "t/a=1/b=2/t+7+0000000009.bin" {
		t.Errorf("objectKey = %q", got)
	}
}

func FuzzParseObjectName(f *testing.F) {
	f.Add("topics/orders/partition=3/orders+3+0000000042.json", "orders")
	f.Add("a+1+2", "a")
	f.Add("x/y+-1+99999999999999999999", "y")
	f.Fuzz(func(t *testing.T, key, topic string) {
		p, s, ok := parseObjectName(key, topic)
		if !ok {
			return
		}
		if p < 0 || s < 0 {
			t.Fatalf("%q: negative partition %d or offset %d", key, p, s)
		}
		// What a name gives back names the same object position.
		if p2, s2, ok2 := parseObjectName(objectKey("d", topic, "e", p, s, ".json"), topic); !ok2 || p2 != p || s2 != s {
			t.Fatalf("%q → %d %d does not round-trip: %d %d %v", key, p, s, p2, s2, ok2)
		}
	})
}

func FuzzPathFormat(f *testing.F) {
	f.Add("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", int64(0))
	f.Add("''''x'", int64(-1))
	f.Add("SSSSSSSSSSSS ZZ a", int64(1<<40))
	f.Fuzz(func(t *testing.T, pattern string, ms int64) {
		pf, err := parsePathFormat(pattern)
		if err != nil {
			return
		}
		_ = pf.format(time.UnixMilli(ms % (1 << 45)).UTC())
	})
}
