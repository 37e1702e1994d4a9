package itest

// The container image and the compose files, for real: the image is built
// from a static binary (compose/build-image.sh), the user-facing compose
// files are checked with `docker-compose config`, and compose/docker-compose.yml
// is brought up in its host-network override (compose/docker-compose.host.yml)
// on loopback ports picked here: this machine's dockerd has no bridge
// network, and no test traffic may leave 127.0.0.0/8. Kafka (kcat, franz-go,
// the kafka-python example app), Kinesis and SQS (AWS CLI, the boto3 example
// app) are driven against the container; it is restarted, then recreated,
// and the data is found again on the volume; `down -v` leaves nothing behind.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.yaml.in/yaml/v3"
)

// composeDir holds the user-facing container files, from itest/.
const composeDir = "../compose"

const installDocker = "apt-get install -y docker.io docker-compose, and a running dockerd (.ci/run starts one: dockerd --bridge=none --iptables=false)"

var (
	checkDocker        = cachedCheck("docker", runCheck("docker", "info"))
	checkDockerCompose = cachedCheck("docker-compose", runCheck("docker-compose", "version"))
)

// needDocker fails (CI=true) or skips the test without docker and compose.
func needDocker(t *testing.T) {
	t.Helper()
	need(t, "docker", checkDocker, installDocker)
	need(t, "docker-compose", checkDockerCompose, installDocker)
}

// randomName is a name no parallel run shares.
func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// dockerTimeout bounds one docker or compose command (a hang, not slowness):
// building the image compiles the whole binary on a loaded machine.
const dockerTimeout = 15 * time.Minute

// runCmd runs name with env added to cleanEnv and returns stdout; a failure
// carries stderr.
func runCmd(env []string, name string, args ...string) ([]byte, error) {
	return runCmdIn("", env, name, args...)
}

// runCmdIn is runCmd in directory dir ("" for the current one).
func runCmdIn(dir string, env []string, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err,
			tail(stdout.String(), 2000), tail(stderr.String(), 4000))
	}
	return stdout.Bytes(), nil
}

func mustCmd(t *testing.T, env []string, name string, args ...string) []byte {
	t.Helper()
	out, err := runCmd(env, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// testImage is the image the container tests share: built once per run,
// under a tag of its own, removed when the tests end (removeTestImage).
var testImage struct {
	once sync.Once
	tag  string
	err  error
}

// buildImage builds the image with compose/build-image.sh, the first time a
// test asks, and returns its tag.
func buildImage(t *testing.T) string {
	t.Helper()
	testImage.once.Do(func() {
		tag := "streambridge/bridge:" + randomName("itest-")
		if _, testImage.err = runCmd(nil, "bash", filepath.Join(composeDir, "build-image.sh"), tag); testImage.err == nil {
			testImage.tag = tag
		}
	})
	if testImage.err != nil {
		t.Fatal(testImage.err)
	}
	return testImage.tag
}

// removeTestImage removes the image buildImage built, if it did.
func removeTestImage() error {
	if testImage.tag == "" {
		return nil
	}
	_, err := runCmd(nil, "docker", "rmi", testImage.tag)
	return err
}

// composeProject is a compose project under a unique name.
type composeProject struct {
	t    *testing.T
	name string
	file string
	env  []string
}

func (p *composeProject) run(args ...string) []byte {
	p.t.Helper()
	return mustCmd(p.t, p.env, "docker-compose", append([]string{"-p", p.name, "-f", p.file}, args...)...)
}

// containerID is the id of the project's bridge container.
func (p *composeProject) containerID() string {
	p.t.Helper()
	id := strings.TrimSpace(string(p.run("ps", "-q", "bridge")))
	if id == "" {
		p.t.Fatal("no bridge container in the project")
	}
	return id
}

// waitHealthy polls the container's health until docker says healthy and
// returns how long that took from since.
func (p *composeProject) waitHealthy(since time.Time) time.Duration {
	p.t.Helper()
	id := p.containerID()
	deadline := time.Now().Add(startTimeout)
	for {
		out, err := runCmd(nil, "docker", "inspect", "-f", "{{.State.Health.Status}}", id)
		status := strings.TrimSpace(string(out))
		if err == nil && status == "healthy" {
			return time.Since(since)
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("container %s not healthy after %v: %q %v", id, startTimeout, status, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leftovers lists what docker still has of the project, by compose's label.
func (p *composeProject) leftovers() []string {
	p.t.Helper()
	label := "label=com.docker.compose.project=" + p.name
	var left []string
	for _, c := range [][]string{
		{"ps", "-a", "-q", "--filter", label},
		{"volume", "ls", "-q", "--filter", label},
		{"network", "ls", "-q", "--filter", label},
	} {
		for _, l := range strings.Fields(string(mustCmd(p.t, nil, "docker", c...))) {
			left = append(left, c[0]+" "+l)
		}
	}
	return left
}

// hostPorts are the loopback ports the host-network override is given.
type hostPorts struct{ kafka, kafkaExternal, aws, admin string }

func (h hostPorts) env() []string {
	return []string{
		"BRIDGE_KAFKA_PORT=" + h.kafka,
		"BRIDGE_KAFKA_EXTERNAL_PORT=" + h.kafkaExternal,
		"BRIDGE_AWS_PORT=" + h.aws,
		"BRIDGE_ADMIN_PORT=" + h.admin,
		// Docker 20.10 probes first one interval after the start.
		"BRIDGE_HEALTHCHECK_INTERVAL=100ms",
	}
}

// hostNetworkFile resolves compose/docker-compose.yml with the host-network
// override into one file, less what compose 1.29 refuses or must not do
// here: the base file's published ports ("host" network_mode is
// incompatible with port_bindings, and an override cannot remove a list in
// compose v1) and its build section (the image is built beforehand; the
// multi-stage build would pull golang).
func hostNetworkFile(t *testing.T, env []string) string {
	t.Helper()
	out := mustCmd(t, env, "docker-compose",
		"-f", filepath.Join(composeDir, "docker-compose.yml"),
		"-f", filepath.Join(composeDir, "docker-compose.host.yml"), "config")
	var doc map[string]any
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("docker-compose config output: %v\n%s", err, out)
	}
	services, _ := doc["services"].(map[string]any)
	bridge, _ := services["bridge"].(map[string]any)
	if bridge == nil || bridge["network_mode"] != "host" {
		t.Fatalf("resolved compose file has no host-network bridge service:\n%s", out)
	}
	delete(bridge, "ports")
	delete(bridge, "build")
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "docker-compose.yml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestComposeConfig checks the user-facing compose files as compose reads
// them: each combination users are told to run must parse.
func TestComposeConfig(t *testing.T) {
	needDocker(t)
	for _, files := range [][]string{
		{"docker-compose.yml"},
		{"docker-compose.yml", "docker-compose.host.yml"},
		{"docker-compose.yml", "examples/docker-compose.yml"},
	} {
		var args []string
		for _, f := range files {
			args = append(args, "-f", filepath.Join(composeDir, f))
		}
		mustCmd(t, nil, "docker-compose", append(args, "config", "-q")...)
	}
	out := mustCmd(t, nil, "docker-compose", "-f", filepath.Join(composeDir, "docker-compose.yml"),
		"-f", filepath.Join(composeDir, "examples/docker-compose.yml"), "config")
	for _, want := range []string{"condition: service_healthy", "KAFKA_BOOTSTRAP_SERVERS: bridge:9092",
		"AWS_ENDPOINT_URL: http://bridge:4566", "INTERNAL://bridge:9092,EXTERNAL://localhost:9094", "read_only: true"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("examples config lacks %q:\n%s", want, out)
		}
	}
}

func TestContainerCompose(t *testing.T) {
	needDocker(t)
	need(t, "kcat", checkKcat, installKcat)
	need(t, "kafka-python", checkKafkaPython, installKafkaPython)
	need(t, "boto3", checkBoto3, installBoto3)
	need(t, "AWS CLI", checkAWSCLI, installAWSCLI)

	image := buildImage(t)
	ports := hostPorts{kafka: freePort(t), kafkaExternal: freePort(t), aws: freePort(t), admin: freePort(t)}
	env := append(ports.env(), "BRIDGE_IMAGE="+image)
	p := &composeProject{t: t, name: randomName("sbitest"), file: hostNetworkFile(t, env), env: env}
	t.Cleanup(func() {
		if t.Failed() {
			if out, err := runCmd(p.env, "docker-compose", "-p", p.name, "-f", p.file, "logs", "--no-color"); err == nil {
				t.Logf("bridge container log:\n%s", tail(string(out), 8000))
			}
		}
		_, _ = runCmd(p.env, "docker-compose", "-p", p.name, "-f", p.file, "down", "-v", "--remove-orphans")
	})

	// The aim for the image is under 40 MB; a size, not a time.
	size := strings.TrimSpace(string(mustCmd(t, nil, "docker", "image", "inspect", "-f", "{{.Size}}", image)))
	if n, err := strconv.ParseInt(size, 10, 64); err != nil || n > 40e6 {
		t.Errorf("image size %s bytes (%v), want under 40 MB", size, err)
	}
	t.Logf("image size: %s bytes", size)

	start := time.Now()
	p.run("up", "-d")
	t.Logf("up -d to healthy: %v", p.waitHealthy(start).Round(time.Millisecond))
	// Non-root, read-only root filesystem, host network, the named volume
	// and compose/init.yaml mounted read-only.
	got := strings.Fields(string(mustCmd(t, nil, "docker", "inspect", "-f",
		"{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.NetworkMode}} {{range .Mounts}} {{.Type}}:{{.Name}}:{{.Destination}}:{{.RW}}{{end}}", p.containerID())))
	slices.Sort(got[min(3, len(got)):])
	want := []string{"65532:65532", "true", "host", "bind::/etc/bridge/init.yaml:false", "volume:" + p.name + "_bridge-data:/data:true"}
	if !slices.Equal(got, want) {
		t.Errorf("container settings %q, want %q", got, want)
	}

	internal, external := "127.0.0.1:"+ports.kafka, "127.0.0.1:"+ports.kafkaExternal
	endpoint := "http://127.0.0.1:" + ports.aws
	awsCLIEnv := []string{"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1"}
	aws := func(args ...string) []byte {
		t.Helper()
		return mustAWSTool(t, awsCLIEnv, nil, awsCLI, append([]string{"--endpoint-url", endpoint, "--no-cli-pager",
			"--output", "json", "--cli-binary-format", "raw-in-base64-out"}, args...)...)
	}

	// compose/init.yaml's fixtures exist once the container is healthy.
	checkFixtures(t, internal, aws)

	// Each listener advertises itself, so a client stays on the listener
	// it came in on.
	for _, addr := range []string{internal, external} {
		checkAdvertised(t, addr)
	}

	// kcat writes through one listener and reads through the other.
	kcatIn := "k1:v1\nk2:v2\nk3:v3\n"
	runTool(t, []byte(kcatIn), "kcat", "-b", external, "-P", "-t", "container-kcat", "-K:")
	readKcat := func(addr string) {
		t.Helper()
		out := runTool(t, nil, "kcat", "-b", addr, "-C", "-t", "container-kcat", "-o", "beginning", "-e", "-q", "-f", "%k:%s\\n")
		if string(out) != kcatIn {
			t.Errorf("kcat read through %s: %q, want %q", addr, out, kcatIn)
		}
	}
	readKcat(internal)

	// franz-go the other way round.
	kgoProduceConsume(t, internal, external, "container-kgo", 20)

	// The example apps of compose/examples, from the host.
	out := mustCmd(t, []string{"KAFKA_BOOTSTRAP_SERVERS=" + internal, "PYTHONDONTWRITEBYTECODE=1", "PYTHONPATH="},
		systemPython, filepath.Join(composeDir, "examples/kafka-python/app.py"))
	t.Logf("kafka-python example: %s", bytes.TrimSpace(out))
	out = mustAWSTool(t, []string{"AWS_ENDPOINT_URL=" + endpoint}, nil, systemPython, filepath.Join(composeDir, "examples/aws-python/app.py"))
	t.Logf("boto3 example: %s", bytes.TrimSpace(out))

	// Kinesis and SQS with the AWS CLI; what they leave is read again
	// after the restarts.
	aws("kinesis", "create-stream", "--stream-name", "container-cli", "--shard-count", "1")
	aws("kinesis", "wait", "stream-exists", "--stream-name", "container-cli")
	aws("kinesis", "put-record", "--stream-name", "container-cli", "--partition-key", "pk", "--data", "kinesis via the cli")
	var q struct{ QueueUrl string }
	if err := json.Unmarshal(aws("sqs", "create-queue", "--queue-name", "container-q"), &q); err != nil {
		t.Fatal(err)
	}
	if want := endpoint + "/000000000000/container-q"; q.QueueUrl != want {
		t.Errorf("queue URL %q, want %q (--sqs-queue-url-host from the override)", q.QueueUrl, want)
	}
	aws("sqs", "send-message", "--queue-url", q.QueueUrl, "--message-body", "sqs via the cli")

	checkData := func(when string) {
		t.Helper()
		readKcat(external)
		var it struct{ ShardIterator string }
		if err := json.Unmarshal(aws("kinesis", "get-shard-iterator", "--stream-name", "container-cli",
			"--shard-id", "shardId-000000000000", "--shard-iterator-type", "TRIM_HORIZON"), &it); err != nil {
			t.Fatal(err)
		}
		var recs struct{ Records []struct{ Data []byte } }
		if err := json.Unmarshal(aws("kinesis", "get-records", "--shard-iterator", it.ShardIterator), &recs); err != nil {
			t.Fatal(err)
		}
		if len(recs.Records) != 1 || string(recs.Records[0].Data) != "kinesis via the cli" {
			t.Errorf("%s: Kinesis records %+v, want the one put before", when, recs.Records)
		}
		var attrs struct{ Attributes map[string]string }
		if err := json.Unmarshal(aws("sqs", "get-queue-attributes", "--queue-url", q.QueueUrl,
			"--attribute-names", "ApproximateNumberOfMessages"), &attrs); err != nil {
			t.Fatal(err)
		}
		if n := attrs.Attributes["ApproximateNumberOfMessages"]; n != "1" {
			t.Errorf("%s: queue holds %s messages, want 1", when, n)
		}
	}

	// A restart keeps the container and its volume; the data is there,
	// and start-to-healthy is timed a few times.
	var restarts []time.Duration
	for range 5 {
		start := time.Now()
		p.run("restart", "-t", "10", "bridge")
		restarts = append(restarts, p.waitHealthy(start))
	}
	checkData("after restart")
	slices.Sort(restarts)
	t.Logf("restart to healthy, median of %d: %v (all %v)", len(restarts), restarts[len(restarts)/2].Round(time.Millisecond), restarts)

	// down without -v removes the container and keeps the volume: a new
	// container (the root filesystem is read-only anyway) finds the data.
	oldID := p.containerID()
	p.run("down")
	start = time.Now()
	p.run("up", "-d")
	t.Logf("recreated to healthy: %v", p.waitHealthy(start).Round(time.Millisecond))
	if p.containerID() == oldID {
		t.Fatal("up after down reused the container")
	}
	checkData("in a new container on the same volume")

	p.run("down", "-v")
	if left := p.leftovers(); len(left) > 0 {
		t.Errorf("down -v left %v", left)
	}
}

// checkAdvertised asks addr's listener for metadata and wants it to name
// addr as the broker.
func checkAdvertised(t *testing.T, addr string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	m, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range m.Brokers {
		got = append(got, net.JoinHostPort(b.Host, fmt.Sprint(b.Port)))
	}
	if len(got) != 1 || got[0] != addr {
		t.Errorf("metadata through %s names brokers %v, want [%s]", addr, got, addr)
	}
}

// kgoProduceConsume produces n records through one address and consumes
// them through another.
func kgoProduceConsume(t *testing.T, produceAddr, consumeAddr, topic string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	pr, err := kgo.NewClient(kgo.SeedBrokers(produceAddr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var want []string
	for i := range n {
		v := fmt.Sprintf("kgo-%d", i)
		want = append(want, v)
		if err := pr.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	co, err := kgo.NewClient(kgo.SeedBrokers(consumeAddr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	var got []string
	for len(got) < n {
		fs := co.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("franz-go consumed %d of %d records: %v", len(got), n, err)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Errorf("fetch: %v", err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("franz-go through %s read %v, want %v", consumeAddr, got, want)
	}
}

// checkFixtures finds what compose/init.yaml declares (BRIDGE_INIT_FILE in
// compose/docker-compose.yml): the topic through Kafka, the stream, queues
// and bucket through the AWS CLI.
func checkFixtures(t *testing.T, kafkaAddr string, aws func(args ...string) []byte) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kafkaAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics, err := adm.ListTopics(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if td, ok := topics["orders"]; !ok || td.Err != nil || len(td.Partitions) != 3 {
		t.Errorf("init.yaml topic orders: %+v", topics)
	}
	var summary struct{ StreamDescriptionSummary struct{ OpenShardCount int } }
	if err := json.Unmarshal(aws("kinesis", "describe-stream-summary", "--stream-name", "clicks"), &summary); err != nil {
		t.Fatal(err)
	}
	if n := summary.StreamDescriptionSummary.OpenShardCount; n != 2 {
		t.Errorf("init.yaml stream clicks: %d open shards, want 2", n)
	}
	var q struct{ QueueUrl string }
	if err := json.Unmarshal(aws("sqs", "get-queue-url", "--queue-name", "jobs.fifo"), &q); err != nil {
		t.Fatal(err)
	}
	var attrs struct{ Attributes map[string]string }
	if err := json.Unmarshal(aws("sqs", "get-queue-attributes", "--queue-url", q.QueueUrl, "--attribute-names", "FifoQueue"), &attrs); err != nil {
		t.Fatal(err)
	}
	if attrs.Attributes["FifoQueue"] != "true" {
		t.Errorf("init.yaml queue jobs.fifo: %v", attrs.Attributes)
	}
	aws("sqs", "get-queue-url", "--queue-name", "jobs")
	aws("s3api", "head-bucket", "--bucket", "uploads")
}
