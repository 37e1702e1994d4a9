// StreamBridge with testcontainers for Node: the image on the host network
// with loopback ports picked here, healthy before the test starts, then a
// kafkajs round trip and an SQS send and receive. STREAMBRIDGE_IMAGE names
// the image (default streambridge/bridge:dev, from compose/build-image.sh).
// Ryuk cannot be pulled on this project's machines: run with
// TESTCONTAINERS_RYUK_DISABLED=true (the test stops its container itself),
// and, where dockerd has no "bridge" network, TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
// (testcontainers otherwise looks for that network's gateway):
//
//   npm ci && TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 npm test
//
// testcontainers 11 is the last major that runs on Node 20 (12 needs 22.22).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { GenericContainer, Wait } from "testcontainers";
import { Kafka, logLevel } from "kafkajs";
import { SQSClient, CreateQueueCommand, SendMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";

const image = process.env.STREAMBRIDGE_IMAGE || "streambridge/bridge:dev";

// freePort returns a 127.0.0.1 port that was free a moment ago.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let container;
let bootstrap;
let endpoint;

before(async () => {
  const [kafkaPort, awsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  bootstrap = `127.0.0.1:${kafkaPort}`;
  endpoint = `http://127.0.0.1:${awsPort}`;
  container = await new GenericContainer(image)
    .withNetworkMode("host")
    .withEnvironment({
      BRIDGE_KAFKA_ADDR: bootstrap,
      BRIDGE_AWS_ADDR: `127.0.0.1:${awsPort}`,
      BRIDGE_ADMIN_ADDR: `127.0.0.1:${adminPort}`, // the image's healthcheck reads it
      BRIDGE_SQS_QUEUE_URL_HOST: `127.0.0.1:${awsPort}`,
    })
    // Docker probes first one interval after the start: 100ms, not the image's 1s.
    .withHealthCheck({ test: ["CMD", "/bridge", "healthcheck"], interval: 100, timeout: 3000, retries: 3, startPeriod: 30000 })
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(120_000)
    .start();
});

after(async () => {
  if (container) await container.stop({ remove: true, removeVolumes: true });
});

test("kafkajs produces and consumes", async () => {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: "tc-node", logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  const values = ["a", "b", "c"];
  await producer.send({ topic: "tc-node", messages: values.map((value) => ({ value })) });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: "tc-node-group" });
  await consumer.connect();
  await consumer.subscribe({ topic: "tc-node", fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${got.length} of ${values.length}`)), 60_000);
    consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value.toString());
        if (got.length === values.length) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  assert.deepEqual(got, values);
});

test("SQS sends and receives", async () => {
  const sqs = new SQSClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "tc-node-jobs" }));
  assert.equal(QueueUrl, `${endpoint}/000000000000/tc-node-jobs`);
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "job" }));
  const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
  assert.equal(Messages?.[0]?.Body, "job");
  sqs.destroy();
});
