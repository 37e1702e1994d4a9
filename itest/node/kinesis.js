#!/usr/bin/env node
// @aws-sdk/client-kinesis (AWS SDK for JavaScript v3) driver for
// StreamBridge's itest Kinesis tests. The client is built the way an
// application builds it: its default request handler for Kinesis is
// NodeHttp2Handler, so on an http:// endpoint it speaks h2c (the Go test
// proves that on the wire with a sniffing proxy).
//
//   node kinesis.js put --endpoint URL --stream S < records.jsonl > acks.jsonl
//       PutRecords in chunks of 500; one ack per input record, in order:
//       {"shard": id, "seq": n} or {"error": "code: message"}.
//   node kinesis.js get --endpoint URL --stream S --min N > records.jsonl
//       GetRecords on every shard from TRIM_HORIZON until at least N records
//       are read and every shard is caught up (MillisBehindLatest 0) or ended.
//   node kinesis.js subscribe --endpoint URL --stream S --consumer NAME --shard ID --min N
//       RegisterStreamConsumer (waiting for it to be ACTIVE), then
//       SubscribeToShard from TRIM_HORIZON; writes {"subscribed": true} once
//       the subscription is open, then every record pushed, until N records.
//       Each event's ContinuationSequenceNumber must be set.
//
// Records are JSON lines: {"pk", "data" (base64), "ehk", "shard", "seq", "ts" (ms)}.
// Credentials and region come from the environment (the test's dummies).
'use strict'

const readline = require('readline')
const {
  KinesisClient, PutRecordsCommand,
  RegisterStreamConsumerCommand, DescribeStreamConsumerCommand, SubscribeToShardCommand, DescribeStreamSummaryCommand,
} = require('@aws-sdk/client-kinesis')
const { write, sleep, readShards } = require('./kinesis_read')

function parseArgs(argv) {
  const args = { mode: argv[0], min: 0, timeout: 90 }
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '')
    if (!(k in { endpoint: 1, stream: 1, min: 1, timeout: 1, consumer: 1, shard: 1 })) throw new Error(`unknown flag ${argv[i]}`)
    args[k] = argv[i + 1]
  }
  if (!['put', 'get', 'subscribe'].includes(args.mode) || !args.endpoint || !args.stream) {
    throw new Error('usage: kinesis.js put|get|subscribe --endpoint URL --stream S [--min N] [--consumer C --shard ID]')
  }
  args.min = Number(args.min)
  args.timeout = Number(args.timeout) * 1000
  return args
}

// progress notes go to stderr, which the test shows when the run fails.
const progress = msg => process.stderr.write(`${new Date().toISOString()} ${msg}\n`)

function outRec(r, shard) {
  return {
    pk: r.PartitionKey,
    data: Buffer.from(r.Data).toString('base64'),
    shard,
    seq: r.SequenceNumber,
    ts: r.ApproximateArrivalTimestamp.getTime(),
  }
}

async function readStdin() {
  const out = []
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line.trim()) out.push(JSON.parse(line))
  }
  return out
}

async function put(k, args) {
  const recs = await readStdin()
  for (let i = 0; i < recs.length; i += 500) {
    const entries = recs.slice(i, i + 500).map(r => {
      const e = { PartitionKey: r.pk, Data: Buffer.from(r.data || '', 'base64') }
      if (r.ehk) e.ExplicitHashKey = r.ehk
      return e
    })
    const resp = await k.send(new PutRecordsCommand({ StreamName: args.stream, Records: entries }))
    for (const res of resp.Records) {
      write(res.ErrorCode ? { error: `${res.ErrorCode}: ${res.ErrorMessage}` } : { shard: res.ShardId, seq: res.SequenceNumber })
    }
  }
}

const get = (k, args) => readShards(k, args, async (r, shard) => {
  write(outRec(r, shard))
  return 1
})

async function subscribe(k, args) {
  const summary = await k.send(new DescribeStreamSummaryCommand({ StreamName: args.stream }))
  const streamARN = summary.StreamDescriptionSummary.StreamARN
  const reg = await k.send(new RegisterStreamConsumerCommand({ StreamARN: streamARN, ConsumerName: args.consumer }))
  const consumerARN = reg.Consumer.ConsumerARN
  progress(`registered ${consumerARN}`)
  const deadline = Date.now() + args.timeout
  for (;;) {
    const d = await k.send(new DescribeStreamConsumerCommand({ ConsumerARN: consumerARN }))
    if (d.ConsumerDescription.ConsumerStatus === 'ACTIVE') break
    if (Date.now() > deadline) throw new Error(`consumer still ${d.ConsumerDescription.ConsumerStatus}`)
    await sleep(100)
  }
  progress('consumer ACTIVE; subscribing')
  const resp = await k.send(new SubscribeToShardCommand({
    ConsumerARN: consumerARN, ShardId: args.shard, StartingPosition: { Type: 'TRIM_HORIZON' },
  }))
  write({ subscribed: true })
  let n = 0
  const timer = setTimeout(() => {
    process.stderr.write(`subscribe: ${n} records after ${args.timeout} ms, want ${args.min}\n`)
    process.exit(1)
  }, args.timeout)
  for await (const ev of resp.EventStream) {
    if (!ev.SubscribeToShardEvent) {
      throw new Error(`unexpected event ${JSON.stringify(Object.keys(ev))}`)
    }
    const e = ev.SubscribeToShardEvent
    if (!e.ContinuationSequenceNumber && !(e.ChildShards && e.ChildShards.length)) {
      throw new Error(`event without ContinuationSequenceNumber: ${JSON.stringify(e)}`)
    }
    for (const r of e.Records) {
      write(outRec(r, args.shard))
      n++
    }
    progress(`event: ${e.Records.length} records (${n} in all), MillisBehindLatest ${e.MillisBehindLatest}`)
    if (n >= args.min) break
  }
  clearTimeout(timer)
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const k = new KinesisClient({ endpoint: args.endpoint, maxAttempts: 3 })
  try {
    await { put, get, subscribe }[args.mode](k, args)
  } finally {
    k.destroy()
  }
}

// Exit explicitly: an event stream left by a break keeps its HTTP/2
// session, and so the process, alive after the client is destroyed. But
// only once stdout is flushed: writes to a full pipe are queued, and
// process.exit drops what is queued.
main().then(() => process.stdout.write('', () => process.exit(0)), err => {
  process.stderr.write(`kinesis.js: ${err.name}: ${err.message}\n${err.stack}\n`)
  process.exit(1)
})
