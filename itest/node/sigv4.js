#!/usr/bin/env node
// One signed call of the AWS SDK for JavaScript v3 against the bridge, for
// the SigV4 tests (itest/sigv4_test.go); the twin of
// itest/python/sigv4_boto3.py.
//
//   node sigv4.js sqs|kinesis --endpoint URL --name NAME
//
// Credentials come from the environment, as a user's would. sqs creates
// queue NAME and lists queues (JSON 1.0); kinesis creates stream NAME and
// lists streams (JSON 1.1 over HTTP/2, where the SDK signs :authority
// rather than host). Writes one JSON line: {"ok": true} or
// {"error": the SDK's error name, "status": HTTP status}.
'use strict'

const { SQSClient, CreateQueueCommand, ListQueuesCommand } = require('@aws-sdk/client-sqs')
const { KinesisClient, CreateStreamCommand, ListStreamsCommand } = require('@aws-sdk/client-kinesis')

async function main(argv) {
  const service = argv[0]
  const args = {}
  for (let i = 1; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1]
  if (!['sqs', 'kinesis'].includes(service) || !args.endpoint || !args.name) {
    throw new Error('usage: sigv4.js sqs|kinesis --endpoint URL --name NAME')
  }
  const cfg = { region: process.env.AWS_REGION || 'us-east-1', endpoint: args.endpoint, maxAttempts: 1 }
  let out
  try {
    if (service === 'sqs') {
      const c = new SQSClient(cfg)
      await c.send(new CreateQueueCommand({ QueueName: args.name }))
      await c.send(new ListQueuesCommand({}))
    } else {
      const c = new KinesisClient(cfg)
      await c.send(new CreateStreamCommand({ StreamName: args.name, ShardCount: 1 }))
      await c.send(new ListStreamsCommand({}))
    }
    out = { ok: true }
  } catch (e) {
    if (!e.$metadata) throw e
    out = { error: e.name, status: e.$metadata.httpStatusCode }
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e)
  process.exit(1)
})
