package itest

// The Node testcontainers example (compose/examples/node-testcontainers),
// run as users would: node:test, testcontainers 11, kafkajs and the AWS SDK
// v3 SQS client against the image built from this checkout.

import (
	"fmt"
	"os/exec"
	"testing"
)

const nodeTestcontainersDir = "../compose/examples/node-testcontainers"

var checkNodeTestcontainers = cachedCheck("node testcontainers example", func() error {
	if _, err := exec.LookPath("node"); err != nil {
		return err
	}
	cmd := exec.Command("node", "-e", "require.resolve('testcontainers'); require.resolve('kafkajs'); require.resolve('@aws-sdk/client-sqs')")
	cmd.Dir = nodeTestcontainersDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
})

func TestContainerNodeTestcontainers(t *testing.T) {
	needDocker(t)
	need(t, "the Node testcontainers example's modules", checkNodeTestcontainers,
		"apt-get install -y nodejs npm && npm ci --prefix compose/examples/node-testcontainers")
	image := buildImage(t)
	out, err := runCmdIn(nodeTestcontainersDir, []string{
		"STREAMBRIDGE_IMAGE=" + image,
		"TESTCONTAINERS_RYUK_DISABLED=true",
		"TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1",
	}, "node", "--test", "streambridge.test.js")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("node --test:\n%s", tail(string(out), 2000))
}
