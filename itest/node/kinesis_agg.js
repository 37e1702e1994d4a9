#!/usr/bin/env node
// aws-kinesis-agg driver for StreamBridge's itest Kinesis tests: KPL
// aggregated records (magic F3 89 9A C2, protobuf, MD5 trailer) made and
// read by the aggregation library AWS publishes, sent and fetched with
// @aws-sdk/client-kinesis.
//
//   node kinesis_agg.js put --endpoint URL --stream S < user-records.jsonl > acks.jsonl
//       aggregates the user records (RecordAggregator, one aggregated record
//       up to the 1 MiB limit) and PutRecords each aggregated record; writes
//       one ack per aggregated record: {"shard", "seq", "count": user records in it}.
//   node kinesis_agg.js get --endpoint URL --stream S --min N > user-records.jsonl
//       GetRecords on every shard from TRIM_HORIZON until at least N user
//       records are read and every shard is caught up or ended, each Kinesis
//       record deaggregated (checksums checked) into its user records:
//       {"pk", "data", "shard", "seq", "subseq"} (subseq absent for a record
//       that was not aggregated).
'use strict'

const readline = require('readline')
const agg = require('aws-kinesis-agg')
const { KinesisClient, PutRecordsCommand } = require('@aws-sdk/client-kinesis')
const { write, readShards } = require('./kinesis_read')

function parseArgs(argv) {
  const args = { mode: argv[0], min: 0, timeout: 90 }
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '')
    if (!(k in { endpoint: 1, stream: 1, min: 1, timeout: 1 })) throw new Error(`unknown flag ${argv[i]}`)
    args[k] = argv[i + 1]
  }
  if (!['put', 'get'].includes(args.mode) || !args.endpoint || !args.stream) {
    throw new Error('usage: kinesis_agg.js put|get --endpoint URL --stream S [--min N]')
  }
  args.min = Number(args.min)
  args.timeout = Number(args.timeout) * 1000
  return args
}


async function put(k, args) {
  const users = []
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (!line.trim()) continue
    const r = JSON.parse(line)
    const u = { partitionKey: r.pk, data: Buffer.from(r.data, 'base64') }
    if (r.ehk) u.explicitHashKey = r.ehk
    users.push(u)
  }
  // RecordAggregator hands over each full aggregated record through the
  // callback and, with forceFlush, the last partial one.
  const encoded = []
  const counts = []
  let counted = 0
  const aggregator = new agg.RecordAggregator()
  aggregator.aggregateRecords(users, true, (err, rec) => {
    if (err) throw err
    encoded.push(rec)
  })
  // The library does not say how many user records went into each
  // aggregated record; deaggregating what it built does.
  for (let i = 0; i < encoded.length; i++) {
    agg.deaggregateSync({ data: Buffer.from(encoded[i].data).toString('base64'), partitionKey: encoded[i].partitionKey, sequenceNumber: '0' },
      true, (err, recs) => {
        if (err) throw err
        counts[i] = recs.length
        counted += recs.length
      })
  }
  if (counted !== users.length) throw new Error(`aggregated ${counted} of ${users.length} user records`)
  const entries = encoded.map(e => {
    const x = { PartitionKey: e.partitionKey, Data: e.data }
    if (e.ExplicitHashKey) x.ExplicitHashKey = e.ExplicitHashKey
    return x
  })
  const resp = await k.send(new PutRecordsCommand({ StreamName: args.stream, Records: entries }))
  resp.Records.forEach((res, i) => {
    write(res.ErrorCode ? { error: `${res.ErrorCode}: ${res.ErrorMessage}` } : { shard: res.ShardId, seq: res.SequenceNumber, count: counts[i] })
  })
}

function deaggregate(r) {
  return new Promise((resolve, reject) => {
    agg.deaggregateSync({ PartitionKey: r.PartitionKey, Data: Buffer.from(r.Data).toString('base64'), SequenceNumber: r.SequenceNumber },
      true, (err, users) => (err ? reject(err) : resolve(users)))
  })
}

const get = (k, args) => readShards(k, args, async (r, shard) => {
  const users = await deaggregate(r)
  for (const u of users) {
    const out = { pk: u.PartitionKey, data: u.Data, shard, seq: String(u.SequenceNumber) }
    if (u.SubSequenceNumber !== undefined) out.subseq = u.SubSequenceNumber
    write(out)
  }
  return users.length
})

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const k = new KinesisClient({ endpoint: args.endpoint, maxAttempts: 3 })
  try {
    await { put, get }[args.mode](k, args)
  } finally {
    k.destroy()
  }
}

// Exit explicitly: an event stream left by a break keeps its HTTP/2
// session, and so the process, alive after the client is destroyed. But
// only once stdout is flushed: writes to a full pipe are queued, and
// process.exit drops what is queued.
main().then(() => process.stdout.write('', () => process.exit(0)), err => {
  process.stderr.write(`kinesis_agg.js: ${err.name}: ${err.message}\n${err.stack}\n`)
  process.exit(1)
})
