#!/usr/bin/env node
// kafkajs group consumer for itest/kafka_groups_test.go.
//
//   node groups_kafkajs.js --bootstrap H:P --topic T --group G [--client-id C]
//
// Joins the group with consumer.run and prints, one JSON line each, every
// record it reads ({"value","partition","offset"}) and every assignment
// ({"event":"assign","partitions":[...]}, from GROUP_JOIN). kafkajs commits
// the offsets of processed messages (here after every message). On SIGTERM
// it disconnects (committing and leaving the group) and exits 0.
'use strict'

const { Kafka, logLevel, CompressionTypes, CompressionCodecs } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')

// franz-go, which the tests produce with, compresses with snappy; kafkajs
// only ships gzip.
CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec

function parseArgs(argv) {
  const args = { 'client-id': 'itest-kafkajs' }
  for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1]
  if (!args.bootstrap || !args.topic || !args.group) throw new Error('usage: groups_kafkajs.js --bootstrap H:P --topic T --group G')
  return args
}

const emit = obj => process.stdout.write(JSON.stringify(obj) + '\n')

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const kafka = new Kafka({
    clientId: args['client-id'],
    brokers: [args.bootstrap],
    logLevel: process.env.KJS_DEBUG ? logLevel.DEBUG : logLevel.WARN,
    logCreator: () => ({ namespace, label, log }) => {
      process.stderr.write(`kafkajs ${label} [${namespace}] ${log.message}\n`)
    },
    retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2000 },
  })
  const consumer = kafka.consumer({
    groupId: args.group,
    sessionTimeout: 6000,
    heartbeatInterval: 1000,
    rebalanceTimeout: 10000,
    maxWaitTimeInMs: 200,
  })
  consumer.on(consumer.events.CRASH, e => {
    process.stderr.write(`groups_kafkajs: consumer crashed (restart: ${e.payload.restart}): ${e.payload.error.stack || e.payload.error}\n`)
    if (!e.payload.restart) process.exit(1)
  })
  consumer.on(consumer.events.GROUP_JOIN, e => {
    emit({ event: 'assign', partitions: (e.payload.memberAssignment[args.topic] || []).slice().sort((a, b) => a - b) })
  })
  let stopping = false
  process.on('SIGTERM', async () => {
    if (stopping) return
    stopping = true
    try {
      await consumer.disconnect()
    } finally {
      process.exit(0)
    }
  })
  await consumer.connect()
  await consumer.subscribe({ topic: args.topic, fromBeginning: true })
  await consumer.run({
    autoCommitThreshold: 1,
    eachMessage: async ({ partition, message }) => {
      emit({ value: message.value.toString(), partition, offset: Number(message.offset) })
    },
  })
}

main().catch(err => {
  process.stderr.write(`groups_kafkajs: ${err.stack || err}\n`)
  process.exit(1)
})
