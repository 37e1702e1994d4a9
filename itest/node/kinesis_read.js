// The shared "get" of the Kinesis driver scripts (kinesis.js,
// kinesis_agg.js): GetRecords on every shard of a stream from TRIM_HORIZON
// until at least args.min outputs are written and every shard is caught up
// (MillisBehindLatest 0) or ended, within args.timeout ms.
'use strict'

const { ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand } = require('@aws-sdk/client-kinesis')

const write = obj => process.stdout.write(JSON.stringify(obj) + '\n')
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

async function listShards(k, stream) {
  let shards = []
  let resp = await k.send(new ListShardsCommand({ StreamName: stream }))
  for (;;) {
    shards = shards.concat(resp.Shards)
    if (!resp.NextToken) return shards
    resp = await k.send(new ListShardsCommand({ NextToken: resp.NextToken }))
  }
}

// readShards calls emit(record, shardId) for every record read; emit
// writes what it makes of the record and returns how many outputs that was.
async function readShards(k, args, emit) {
  const iters = new Map()
  for (const s of await listShards(k, args.stream)) {
    const it = await k.send(new GetShardIteratorCommand({ StreamName: args.stream, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))
    iters.set(s.ShardId, it.ShardIterator)
  }
  const deadline = Date.now() + args.timeout
  let n = 0
  for (;;) {
    let caughtUp = true
    for (const [shard, it] of iters) {
      if (!it) continue
      const resp = await k.send(new GetRecordsCommand({ ShardIterator: it }))
      for (const r of resp.Records) n += await emit(r, shard)
      iters.set(shard, resp.NextShardIterator)
      if (resp.NextShardIterator && (resp.Records.length > 0 || resp.MillisBehindLatest > 0)) caughtUp = false
    }
    if (caughtUp && n >= args.min) return
    if (Date.now() > deadline) throw new Error(`get: ${n} records, want at least ${args.min}`)
    if (caughtUp) await sleep(50)
  }
}

module.exports = { write, sleep, listShards, readShards }
