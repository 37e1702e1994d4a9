package itest

// franz-go's own kgo test suite against the bridge: the tests kfake's
// run_tests.sh runs (pkg/kgo's *_test.go, from the module cache at the
// version go.mod requires), with KGO_SEEDS pointing at a `bridge serve`
// on a loopback port and KGO_TEST_RF=1. Those tests produce, consume,
// commit, rebalance, create and delete topics and run transactions, each
// checking what it gets back as against a real broker; many of the
// package's tests need no broker at all and pass either way.
//
// KGO_TEST_RECORDS keeps the run short for CI (kgoSuiteRecords; the
// suite's default is 500000). Set ITEST_KGO_RECORDS to run with more.
// The SCRAM tests get a SASL_PLAINTEXT listener (KGO_TEST_SCRAM_SEEDS);
// the OAUTHBEARER one skips itself (the bridge has no OAUTHBEARER), as do
// the share-group tests (KIP-932: no ShareFetch) and, until KIP-848 lands,
// the tests needing ConsumerGroupHeartbeat.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// kgoSuiteRecords is KGO_TEST_RECORDS for CI: enough that the
// produce/consume/group/transaction tests move records across batches,
// partitions and rebalances, few enough for a 2-core machine.
const kgoSuiteRecords = 2000

// kgoExpectedFailures are the suite's tests that fail against the bridge
// today, with why. They are skipped (go test -skip), not run: some hang
// until the suite's timeout (a transactional producer retrying forever).
// Each entry goes when its feature lands (the integrator empties the
// list); any other test that fails, fails TestKgoSuite.
var kgoExpectedFailures = map[string]string{}

func TestKgoSuite(t *testing.T) {
	need(t, "the go command", func() error { return exec.Command(goTool, "version").Run() }, "a Go toolchain on PATH")
	// A second listener with SASL for the SCRAM tests (alice: SCRAM-SHA-256).
	k := startKafka(t, "--kafka-listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
		"--sasl-users-file", writeUsersFile(t))
	var scramEnv []string
	if k.bridge != nil { // not under kfake (ITEST_KAFKA_TARGET), which has no SASL listener here
		k.addr = k.bridge.kafkaListeners["PLAINTEXT"]
		scramAddr := k.bridge.kafkaListeners["SASL_PLAINTEXT"]
		if k.addr == "" || scramAddr == "" {
			t.Fatalf("listeners %v", k.bridge.kafkaListeners)
		}
		scramEnv = []string{"KGO_TEST_SCRAM_SEEDS=" + scramAddr, "KGO_TEST_SCRAM=alice:alice-secret:256"}
	}
	records := kgoSuiteRecords
	if n, err := strconv.Atoi(os.Getenv("ITEST_KGO_RECORDS")); err == nil && n > 0 {
		records = n
	}
	run := os.Getenv("ITEST_KGO_RUN") // a -run pattern, to rerun some
	args := []string{"test", "-json", "-count=1", "-timeout", "20m"}
	if run != "" {
		args = append(args, "-run", run)
	}
	if len(kgoExpectedFailures) > 0 {
		var skip []string
		for name := range kgoExpectedFailures {
			skip = append(skip, "^"+name+"$")
		}
		slices.Sort(skip)
		args = append(args, "-skip", strings.Join(skip, "|"))
	}
	args = append(args, "github.com/twmb/franz-go/pkg/kgo")
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Env = append(os.Environ(),
		"KGO_SEEDS="+k.addr,
		"KGO_TEST_RF=1",
		"KGO_TEST_RECORDS="+strconv.Itoa(records),
		"KGO_LOG_LEVEL=",
	)
	cmd.Env = append(cmd.Env, scramEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	res := parseTestJSON(out)
	if len(res.status) == 0 {
		t.Fatalf("go %s: %v: no test results\n%s\n%s", strings.Join(args, " "), err, stderr.Bytes(), tail(string(out), 4000))
	}

	var failed, unexpected []string
	var passed, skipped int
	for name, st := range res.status {
		top, _, _ := strings.Cut(name, "/")
		switch st {
		case "pass":
			if top == name {
				passed++
			}
		case "skip":
			if top == name {
				skipped++
			}
		case "fail":
			failed = append(failed, name)
			if name == top {
				unexpected = append(unexpected, name)
			}
		}
	}
	slices.Sort(failed)
	slices.Sort(unexpected)
	t.Logf("kgo suite, KGO_TEST_RECORDS=%d: %d tests passed, %d skipped, failed: %v (%.0fs)", records, passed, skipped, failed, res.elapsed)
	if k.bridge != nil {
		t.Logf("the bridge's fetches by session kind: %v", fetchKinds(t, k))
	}
	for name, why := range kgoExpectedFailures {
		t.Logf("not run, expected to fail until it lands: %s (%s)", name, why)
	}
	for _, name := range unexpected {
		t.Errorf("%s failed:\n%s", name, tail(res.output[name], 6000))
	}
	if err != nil && len(failed) == 0 {
		t.Errorf("go test: %v\n%s\n%s", err, stderr.Bytes(), tail(string(out), 4000))
	}
}

// testResults is what `go test -json` said, by test name.
type testResults struct {
	status  map[string]string // pass, fail, skip
	output  map[string]string
	elapsed float64 // the package's seconds
}

func parseTestJSON(out []byte) testResults {
	res := testResults{status: map[string]string{}, output: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Action  string
			Test    string
			Output  string
			Elapsed float64
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch {
		case ev.Test == "" && (ev.Action == "pass" || ev.Action == "fail"):
			res.elapsed = ev.Elapsed
		case ev.Test == "":
		case ev.Action == "output":
			res.output[ev.Test] += ev.Output
		case ev.Action == "pass" || ev.Action == "fail" || ev.Action == "skip":
			res.status[ev.Test] = ev.Action
		}
	}
	return res
}
