package itest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestContainerMemoryLimit runs the image in a container limited to 512 MiB
// (docker run --memory) and moves 800 MiB through Kafka: the bridge reads the
// limit from its cgroup (--memory-limit auto), sizes its caches and memtables
// to it, and is still running at the end, not killed by the kernel's OOM
// killer. Before --memory-limit, and with --memory-limit none, the same
// container was OOM-killed within the second 100 MB.
func TestContainerMemoryLimit(t *testing.T) {
	needDocker(t)
	image := buildImage(t)
	const limit = 512 << 20
	kafkaAddr, adminAddr := "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	name := randomName("sbmem")
	mustCmd(t, nil, "docker", "run", "-d", "--name", name, "--network", "host",
		"--memory", strconv.Itoa(limit), "--memory-swap", strconv.Itoa(limit), image, "serve",
		"--kafka-addr", kafkaAddr, "--aws-addr", "127.0.0.1:"+freePort(t), "--admin-addr", adminAddr, "--log-format", "json")
	t.Cleanup(func() {
		if t.Failed() {
			if out, err := runCmd(nil, "docker", "logs", name); err == nil {
				t.Logf("bridge container log:\n%s", tail(string(out), 8000))
			}
		}
		_, _ = runCmd(nil, "docker", "rm", "-f", name)
	})
	waitReady(t, "http://"+adminAddr+"/readyz")

	// The start logs the limit it found and what it gave each cache.
	var plan logLine
	out := mustCmd(t, nil, "sh", "-c", "docker logs "+name+" 2>&1") // the log is the container's stderr
	for line := range strings.Lines(string(out)) {
		var l logLine
		if json.Unmarshal([]byte(line), &l) == nil && l.str("msg") == "memory limit" {
			plan = l
		}
	}
	if plan == nil || plan.str("from") != "cgroup" || plan["limit_bytes"] != float64(limit) {
		t.Fatalf(`the start logged %v; want "memory limit" from the cgroup, %d bytes`, plan, limit)
	}
	t.Logf("plan: block cache %.0f, tail cache %.0f, memtables %.0f, Go memory limit %.0f bytes",
		plan["block_cache_bytes"], plan["tail_cache_bytes"], plan["memtable_bytes"], plan["go_memory_limit_bytes"])

	// 800 MiB of incompressible 16 KiB records, produced and consumed.
	const (
		topic     = "memory-limit"
		valueSize = 16 << 10
		records   = 800 << 20 / valueSize
	)
	values := make([][]byte, 64)
	for i := range values {
		values[i] = make([]byte, valueSize)
		_, _ = rand.Read(values[i])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kafkaAddr), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation(),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ConsumeTopics(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// A container the OOM killer stopped ends the load at once, rather
	// than at the deadline of records that can no longer be delivered.
	stopWatching, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stopWatching:
				return
			case <-time.After(time.Second):
			}
			if state := containerState(t, name); !strings.HasPrefix(state, "running=true") {
				t.Errorf("container during the load: %s", state)
				cancel()
				return
			}
		}
	}()
	defer func() { close(stopWatching); <-watched }()
	begin := time.Now()
	var produceErr sync.Once
	for i := range records {
		cl.Produce(ctx, &kgo.Record{Value: values[i%len(values)]}, func(r *kgo.Record, err error) {
			if err != nil {
				produceErr.Do(func() { t.Errorf("produce: %v", err) })
				cancel()
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("flush: %v (container: %s)", err, containerState(t, name))
	}
	produced := time.Since(begin)
	for read := 0; read < records; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("consume after %d records: %v (container: %s)", read, err, containerState(t, name))
		}
		read += fs.NumRecords()
	}
	t.Logf("%d MiB produced in %v, consumed in %v", records*valueSize>>20, produced.Round(time.Millisecond), (time.Since(begin) - produced).Round(time.Millisecond))

	if state := containerState(t, name); state != "running=true oom-killed=false" {
		t.Errorf("container after 800 MiB: %s", state)
	}
	// Where the cgroup's own peak is readable (cgroup v1, cgroupfs), log it.
	id := strings.TrimSpace(string(mustCmd(t, nil, "docker", "inspect", "-f", "{{.Id}}", name)))
	if b, err := os.ReadFile(fmt.Sprintf("/sys/fs/cgroup/memory/docker/%s/memory.max_usage_in_bytes", id)); err == nil {
		t.Logf("the container's peak memory (page cache included): %s bytes", strings.TrimSpace(string(b)))
	}
}

// containerState says whether a container runs and whether the kernel's
// OOM killer stopped it.
func containerState(t *testing.T, name string) string {
	t.Helper()
	out, err := runCmd(nil, "docker", "inspect", "-f", "running={{.State.Running}} oom-killed={{.State.OOMKilled}}", name)
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(string(out))
}

// waitReady polls url until it answers 200.
func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %v: %v", url, startTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
