package itest

// The S3-style API against the real binary: boto3 (Debian's 1.26) runs
// every step of its scenario, the AWS CLI's high-level `aws s3` commands
// copy a multipart object in and out, and an object acknowledged before
// kill -9 is there after the restart. The same boto3 scenario runs against
// gofakes3, the S3 emulator the README compares with; its differences are
// logged, not required.

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

const s3Driver = "python/s3_boto3.py"

type s3Step struct {
	Step  string `json:"step"`
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

// s3Scenario runs the boto3 scenario against endpoint and returns its
// steps.
func s3Scenario(t *testing.T, endpoint, bucket string) []s3Step {
	t.Helper()
	readScript(t, s3Driver)
	out, err := runAWSTool(nil, systemPython, s3Driver, "scenario", "--endpoint", endpoint, "--bucket", bucket)
	if err != nil {
		t.Fatal(err)
	}
	var steps []s3Step
	err = parseJSONLines(out, func(line []byte) error {
		var s s3Step
		if err := json.Unmarshal(line, &s); err != nil {
			return err
		}
		steps = append(steps, s)
		return nil
	})
	if err != nil || len(steps) == 0 {
		t.Fatalf("boto3 scenario: %v (output %q)", err, out)
	}
	return steps
}

func TestS3Clients(t *testing.T) {
	need(t, "boto3", checkBoto3, installBoto3)
	need(t, "AWS CLI", checkAWSCLI, installAWSCLI)
	dataDir := t.TempDir()
	k := startKinesisBridgeIn(t, dataDir)

	for _, s := range s3Scenario(t, k.endpoint, "boto3-bucket") {
		if !s.OK {
			t.Errorf("boto3 %s: %s", s.Step, s.Error)
		}
	}

	// gofakes3 on the same scenario: what it does differently.
	ref := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer ref.Close()
	var diffs []string
	for _, s := range s3Scenario(t, ref.URL, "boto3-bucket") {
		if !s.OK {
			diffs = append(diffs, s.Step+": "+s.Error)
		}
	}
	t.Logf("gofakes3 differs from the bridge on %d steps:\n%s", len(diffs), strings.Join(diffs, "\n"))

	// The AWS CLI's aws s3: mb, a multipart cp in (15 MiB > its 8 MiB
	// threshold), ls, cp out, after kill -9 and a restart, rm, rb.
	dir := t.TempDir()
	src := filepath.Join(dir, "big.bin")
	data := make([]byte, 15<<20)
	_, _ = rand.Read(data)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s3cli := func(args ...string) []byte {
		t.Helper()
		return mustAWSTool(t, k.cliEnv, nil, awsCLI, append([]string{"--endpoint-url", k.endpoint, "s3"}, args...)...)
	}
	s3cli("mb", "s3://cli-bucket")
	s3cli("cp", src, "s3://cli-bucket/data/big.bin")
	if ls := string(s3cli("ls", "s3://cli-bucket/data/")); !strings.Contains(ls, "15728640 big.bin") {
		t.Errorf("aws s3 ls: %q", ls)
	}
	k.kill9()
	k = startKinesisBridgeIn(t, dataDir)
	s3cli = func(args ...string) []byte {
		t.Helper()
		return mustAWSTool(t, k.cliEnv, nil, awsCLI, append([]string{"--endpoint-url", k.endpoint, "s3"}, args...)...)
	}
	dst := filepath.Join(dir, "back.bin")
	s3cli("cp", "s3://cli-bucket/data/big.bin", dst)
	if back, err := os.ReadFile(dst); err != nil || !bytes.Equal(back, data) {
		t.Fatalf("aws s3 cp out after kill -9: %d bytes, %v; want the 15 MiB put before", len(back), err)
	}
	s3cli("rm", "s3://cli-bucket/data/big.bin")
	s3cli("rb", "s3://cli-bucket")
	if ls := string(s3cli("ls")); strings.Contains(ls, "cli-bucket") {
		t.Errorf("aws s3 ls after rb: %q", ls)
	}
}
