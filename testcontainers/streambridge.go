// Package streambridge starts the StreamBridge image for a Go test with
// testcontainers-go: one container in place of a Kafka broker and
// LocalStack's Kinesis, SQS and S3.
//
//	c, err := streambridge.Run(ctx, "streambridge/bridge:dev")
//	testcontainers.CleanupContainer(t, c) // before checking err
//	if err != nil { ... }
//	bootstrap, _ := c.KafkaBootstrap(ctx) // 127.0.0.1:PORT
//	endpoint, _ := c.AWSEndpoint(ctx)     // http://127.0.0.1:PORT
//
// The container runs on the host network with its Kafka, AWS and admin
// ports on 127.0.0.1, picked when it starts. That makes the address Kafka
// advertises the one the test dials, with no port mapping to translate,
// and it works where dockerd has no bridge network. This is a module of its
// own (see ARCHITECTURE.md) so the bridge's module does not take
// testcontainers-go's dependencies.
package streambridge

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Container is a running StreamBridge container.
type Container struct {
	*testcontainers.DockerContainer
	kafkaAddr string // 127.0.0.1:PORT
	awsAddr   string
	adminAddr string
}

// HealthcheckInterval is how often the container's HEALTHCHECK probes
// /readyz here: the image's 1s would make every start wait a second, since
// Docker runs the first probe one interval after the start.
const HealthcheckInterval = 100 * time.Millisecond

// Run starts image (built from compose/Dockerfile) and waits until its
// healthcheck says ready. opts come after Run's own settings, so they can
// override them: testcontainers.WithEnv(map[string]string{"BRIDGE_IN_MEMORY":
// "true"}) keeps the data in memory, any BRIDGE_* variable sets the flag it
// names. The data is on the image's /data volume, an anonymous one removed
// with the container.
func Run(ctx context.Context, image string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	c := &Container{
		kafkaAddr: net.JoinHostPort("127.0.0.1", ports[0]),
		awsAddr:   net.JoinHostPort("127.0.0.1", ports[1]),
		adminAddr: net.JoinHostPort("127.0.0.1", ports[2]),
	}
	base := []testcontainers.ContainerCustomizer{
		// Environment, not flags: the healthcheck reads BRIDGE_ADMIN_ADDR.
		testcontainers.WithEnv(map[string]string{
			"BRIDGE_KAFKA_ADDR":            c.kafkaAddr,
			"BRIDGE_ADVERTISED_KAFKA_ADDR": c.kafkaAddr,
			"BRIDGE_AWS_ADDR":              c.awsAddr,
			"BRIDGE_ADMIN_ADDR":            c.adminAddr,
			"BRIDGE_SQS_QUEUE_URL_HOST":    c.awsAddr,
		}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.NetworkMode = "host"
			hc.ReadonlyRootfs = true
		}),
		// testcontainers attaches containers to its default network; a
		// host-network container can be on no other.
		testcontainers.WithEndpointSettingsModifier(func(s map[string]*network.EndpointSettings) {
			clear(s)
		}),
		testcontainers.WithConfigModifier(func(cfg *container.Config) {
			cfg.Healthcheck = &container.HealthConfig{
				Test:        []string{"CMD", "/bridge", "healthcheck"},
				Interval:    HealthcheckInterval,
				Timeout:     3 * time.Second,
				StartPeriod: 30 * time.Second,
				Retries:     3,
			}
		}),
		testcontainers.WithWaitStrategy(wait.ForHealthCheck().WithStartupTimeout(2 * time.Minute)),
	}
	ctr, err := testcontainers.Run(ctx, image, append(base, opts...)...)
	if ctr == nil {
		// Nothing was created: a nil *Container, which
		// testcontainers.TerminateContainer and CleanupContainer skip.
		return nil, fmt.Errorf("streambridge: run %s: %w", image, err)
	}
	c.DockerContainer = ctr
	if err != nil {
		// Created but not healthy: returned, so the caller can read its
		// logs and must terminate it, as with testcontainers.Run.
		return c, fmt.Errorf("streambridge: run %s: %w", image, err)
	}
	return c, nil
}

// KafkaBootstrap is the Kafka bootstrap address, 127.0.0.1:PORT; the
// broker advertises the same address.
func (c *Container) KafkaBootstrap(context.Context) (string, error) {
	return c.kafkaAddr, nil
}

// AWSEndpoint is the endpoint URL of the Kinesis, SQS, KMS and S3-style
// APIs, for AWS_ENDPOINT_URL or an SDK's BaseEndpoint.
func (c *Container) AWSEndpoint(context.Context) (string, error) {
	return "http://" + c.awsAddr, nil
}

// AdminEndpoint is the admin port's URL (/healthz, /readyz, /metrics).
func (c *Container) AdminEndpoint(context.Context) (string, error) {
	return "http://" + c.adminAddr, nil
}

// freePorts returns n 127.0.0.1 ports that were free a moment ago, all
// held at once so they differ.
func freePorts(n int) ([]string, error) {
	var ports []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("streambridge: pick a port: %w", err)
		}
		defer ln.Close()
		_, p, _ := net.SplitHostPort(ln.Addr().String())
		ports = append(ports, p)
	}
	return ports, nil
}
