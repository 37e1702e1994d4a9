#!/usr/bin/env node
// kafkajs round trip for the itest Kafka security tests.
//
//   node kafka_auth.js --bootstrap H:P --topic T [--mechanism scram-sha-256 --user U --password P]
//                      [--mechanism oauthbearer --token TOKEN]
//                      [--mechanism aws --user ACCESS_KEY --password SECRET [--session-token T]]
//                      [--cafile F] [--certfile F --keyfile F]
//
// oauthbearer sends TOKEN as it is (an MSK IAM token made by the test);
// aws is kafkajs's own AWS mechanism (authorizationIdentity, key, secret
// and token in the clear), which MSK does not serve.
//
// Produces one record with a fresh value to partition 0 and reads it back
// with a consumer group. Writes {"ok":true} and exits 0, or {"error":"..."}
// and exits 3 when kafkajs reports a failure (authentication included).
'use strict'

const fs = require('fs')
const crypto = require('crypto')
const { Kafka, logLevel } = require('kafkajs')

function parseArgs(argv) {
  const args = { timeout: 20 }
  for (let i = 0; i < argv.length; i += 2) {
    args[argv[i].replace(/^--/, '')] = argv[i + 1]
  }
  return args
}

async function main() {
  const a = parseArgs(process.argv.slice(2))
  const value = crypto.randomUUID()
  const config = {
    clientId: 'auth-test',
    brokers: [a.bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    authenticationTimeout: 5000,
    retry: { retries: 0 },
  }
  if (a.mechanism === 'oauthbearer') {
    config.sasl = { mechanism: a.mechanism, oauthBearerProvider: async () => ({ value: a.token }) }
  } else if (a.mechanism === 'aws') {
    config.sasl = {
      mechanism: a.mechanism,
      authorizationIdentity: a.user,
      accessKeyId: a.user,
      secretAccessKey: a.password,
      sessionToken: a['session-token'],
    }
  } else if (a.mechanism) {
    config.sasl = { mechanism: a.mechanism, username: a.user, password: a.password }
  }
  if (a.cafile) {
    config.ssl = { ca: [fs.readFileSync(a.cafile)] }
    if (a.certfile) Object.assign(config.ssl, { cert: fs.readFileSync(a.certfile), key: fs.readFileSync(a.keyfile) })
  }
  const kafka = new Kafka(config)
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic: a.topic, messages: [{ value, partition: 0 }] })
  await producer.disconnect()

  const consumer = kafka.consumer({ groupId: 'auth-' + value })
  await consumer.connect()
  await consumer.subscribe({ topic: a.topic, fromBeginning: true })
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('record not read back')), a.timeout * 1000)
    consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value.toString() === value) {
          clearTimeout(timer)
          resolve()
        }
      },
    }).catch(reject)
  })
  await consumer.disconnect()
}

main().then(
  () => { process.stdout.write('{"ok":true}\n'); process.exit(0) },
  (e) => { process.stdout.write(JSON.stringify({ error: `${e.name}: ${e.message}` }) + '\n'); process.exit(3) },
)
