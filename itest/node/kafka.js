#!/usr/bin/env node
// kafkajs driver for StreamBridge's itest Kafka tests.
//
//   node kafka.js produce --bootstrap H:P --topic T --codec none|gzip|snappy|lz4|zstd < records.jsonl > acks.jsonl
//   node kafka.js consume --bootstrap H:P --topic T --ends '{"0":12,"1":3}'                > records.jsonl
//
// Records are JSON lines, binary as base64 (the same format as itest/python/common.py):
//   {"key": b64|null, "value": b64|null, "headers": [[name, b64|null], ...],
//    "timestamp": ms|null, "partition": int|null, "offset": int|null}
// produce writes one ack per input record, in input order: {"partition":p,"offset":o}.
//
// Codecs: kafkajs ships gzip only. snappy comes from kafkajs-snappy (pure JS,
// reads raw and xerial-framed snappy); lz4 (frame format) from lz4js and zstd
// from zstd-codec (WebAssembly), both pure JS, wrapped below as kafkajs codecs.
// No native module is needed, so `npm ci` works without a compiler.
//
// consume reads by partition, without a consumer group: kafkajs only offers
// group consumers publicly, so this drives kafkajs's own Cluster and Broker
// classes (metadata, ListOffsets, Fetch, record batch decoding and
// decompression are all kafkajs code). kafkajs is pinned in package-lock.json.
'use strict'

const { Kafka, CompressionTypes, CompressionCodecs, Partitioners, logLevel } = require('kafkajs')
const Cluster = require('kafkajs/src/cluster')
const { createLogger } = require('kafkajs/src/loggers')
const LoggerConsole = require('kafkajs/src/loggers/console')
const defaultSocketFactory = require('kafkajs/src/network/socketFactory')
const SnappyCodec = require('kafkajs-snappy')
const lz4 = require('lz4js')
const { ZstdCodec } = require('zstd-codec')

function parseArgs(argv) {
  const args = { mode: argv[0], codec: 'none', ends: '{}', timeout: 60 }
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '')
    if (!(k in { bootstrap: 1, topic: 1, codec: 1, ends: 1, timeout: 1 })) throw new Error(`unknown flag ${argv[i]}`)
    args[k] = argv[i + 1]
  }
  if (!['produce', 'consume'].includes(args.mode) || !args.bootstrap || !args.topic) {
    throw new Error('usage: kafka.js produce|consume --bootstrap H:P --topic T [--codec C] [--ends JSON] [--timeout S]')
  }
  args.timeout = Number(args.timeout) * 1000
  return args
}

const b64d = s => (s == null ? null : Buffer.from(s, 'base64'))
const b64e = b => (b == null ? null : Buffer.from(b).toString('base64'))

async function zstdSimple() {
  return await new Promise(resolve => ZstdCodec.run(z => resolve({ simple: new z.Simple(), streaming: new z.Streaming() })))
}

async function registerCodecs() {
  CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    async compress(encoder) {
      return Buffer.from(lz4.compress(encoder.buffer))
    },
    async decompress(buffer) {
      return Buffer.from(lz4.decompress(buffer))
    },
  })
  const z = await zstdSimple()
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    async compress(encoder) {
      const out = z.simple.compress(encoder.buffer, 3)
      if (!out) throw new Error('zstd-codec: compress failed')
      return Buffer.from(out)
    },
    async decompress(buffer) {
      const out = z.streaming.decompress(buffer)
      if (!out) throw new Error('zstd-codec: decompress failed')
      return Buffer.from(out)
    },
  })
}

const codecs = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = []
    process.stdin.on('data', c => chunks.push(c))
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    process.stdin.on('error', reject)
  })
}

function stderrLogger() {
  return () => ({ namespace, level, label, log }) => {
    process.stderr.write(`kafkajs ${label} [${namespace}] ${log.message} ${JSON.stringify(log)}\n`)
  }
}

async function produce(args) {
  if (!(args.codec in codecs)) throw new Error(`unknown codec ${args.codec}`)
  const recs = (await readStdin()).split('\n').filter(l => l.trim()).map(l => JSON.parse(l))
  const kafka = new Kafka({
    clientId: 'itest-kafkajs',
    brokers: [args.bootstrap],
    logLevel: logLevel.WARN,
    logCreator: stderrLogger(),
    requestTimeout: args.timeout,
  })
  // kafkajs reports offsets per partition, not per message, so each record
  // is placed first with kafkajs's own default partitioner (murmur2 of the
  // key, as the producer would do) and its offset derived from the
  // partition's base offset and the record's rank in the request.
  const admin = kafka.admin()
  await admin.connect()
  const md = await admin.fetchTopicMetadata({ topics: [args.topic] })
  await admin.disconnect()
  const partitionMetadata = md.topics[0].partitions
  const partitioner = Partitioners.DefaultPartitioner()
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  // Records go in groups of 4 per sendBatch, so request batches hold
  // several records and compression has something to work on.
  const acks = []
  for (let i = 0; i < recs.length; i += 4) {
    const messages = recs.slice(i, i + 4).map(r => {
      const m = { key: b64d(r.key), value: b64d(r.value) }
      if (r.timestamp != null) m.timestamp = String(r.timestamp)
      if (r.headers && r.headers.length) {
        m.headers = {}
        for (const [k, v] of r.headers) {
          if (k in m.headers) throw new Error(`kafkajs headers are an object: duplicate name ${k}`)
          m.headers[k] = b64d(v)
        }
      }
      m.partition = r.partition != null ? r.partition : partitioner({ topic: args.topic, partitionMetadata, message: m })
      return m
    })
    const res = await producer.sendBatch({ topicMessages: [{ topic: args.topic, messages }], acks: -1, compression: codecs[args.codec] })
    const next = {}
    for (const r of res) next[r.partition] = BigInt(r.baseOffset)
    for (const m of messages) {
      if (next[m.partition] == null) throw new Error(`no ack for partition ${m.partition}: ${JSON.stringify(res)}`)
      acks.push({ partition: m.partition, offset: Number(next[m.partition]) })
      next[m.partition] += 1n
    }
  }
  await producer.disconnect()
  for (const a of acks) process.stdout.write(JSON.stringify(a) + '\n')
}

async function consume(args) {
  const ends = Object.fromEntries(Object.entries(JSON.parse(args.ends)).map(([p, e]) => [Number(p), BigInt(e)]))
  const cluster = new Cluster({
    logger: createLogger({ level: logLevel.WARN, logCreator: LoggerConsole }),
    socketFactory: defaultSocketFactory(),
    brokers: [args.bootstrap],
    clientId: 'itest-kafkajs',
    connectionTimeout: 10000,
    requestTimeout: args.timeout,
    metadataMaxAge: 300000,
    allowAutoTopicCreation: false,
    isolationLevel: 0,
  })
  await cluster.connect()
  await cluster.addTargetTopic(args.topic)
  await cluster.refreshMetadata()
  const partitions = Object.keys(ends).map(Number).sort((a, b) => a - b)
  const starts = await cluster.fetchTopicsOffset([
    { topic: args.topic, fromBeginning: true, partitions: partitions.map(p => ({ partition: p })) },
  ])
  const pos = {}
  for (const { partition, offset } of starts[0].partitions) pos[partition] = BigInt(offset)
  const deadline = Date.now() + args.timeout
  for (;;) {
    const todo = partitions.filter(p => pos[p] < ends[p])
    if (todo.length === 0) break
    if (Date.now() > deadline) throw new Error(`timed out: positions ${JSON.stringify(pos, (k, v) => (typeof v === 'bigint' ? String(v) : v))}`)
    const leaders = cluster.findLeaderForPartitions(args.topic, todo)
    for (const nodeId of Object.keys(leaders)) {
      const broker = await cluster.findBroker({ nodeId })
      const res = await broker.fetch({
        replicaId: -1,
        isolationLevel: 0,
        maxWaitTime: 200,
        minBytes: 1,
        maxBytes: 8 << 20,
        topics: [{ topic: args.topic, partitions: leaders[nodeId].map(p => ({ partition: p, fetchOffset: String(pos[p]), maxBytes: 4 << 20 })) }],
      })
      for (const t of res.responses) {
        for (const pr of t.partitions) {
          if (pr.errorCode !== 0) throw new Error(`fetch partition ${pr.partition}: error code ${pr.errorCode}`)
          for (const m of pr.messages) {
            const off = BigInt(m.offset)
            if (off < pos[pr.partition] || off >= ends[pr.partition]) continue
            if (m.isControlRecord) continue
            const headers = []
            for (const [k, v] of Object.entries(m.headers || {})) {
              for (const one of Array.isArray(v) ? v : [v]) headers.push([k, b64e(one)])
            }
            process.stdout.write(JSON.stringify({
              key: b64e(m.key), value: b64e(m.value), headers,
              timestamp: Number(m.timestamp), partition: pr.partition, offset: Number(off),
            }) + '\n')
            pos[pr.partition] = off + 1n
          }
        }
      }
    }
  }
  await cluster.disconnect()
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  await registerCodecs()
  if (args.mode === 'produce') await produce(args)
  else await consume(args)
}

main().catch(e => {
  process.stderr.write(`kafkajs driver: ${e && e.stack ? e.stack : e}\n`)
  process.exit(1)
})
