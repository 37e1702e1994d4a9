#!/usr/bin/env node
// Starts local-aws-sqs (the SQS emulator the SQS tests compare the bridge
// with, and check their own drivers against) in memory on 127.0.0.1, on a
// port the kernel picks, and writes {"port": N} on stdout once it listens.
// It exits when its stdin closes, so it never outlives the test that
// started it.
//
//   node sqs_emulator.js [--account ID] [--region R]
//
// The account and region default to the bridge's defaults (000000000000,
// us-east-1), so queue URLs and ARNs have the same shape on both servers.
// Two of the emulator's AWS emulations are turned off: the 60 s wait before
// a deleted queue's name can be used again (the bridge does not emulate it
// either; the tests use fresh names) and queues that only work a second
// after their creation.
'use strict'

const { createSqsServer } = require('local-aws-sqs')

const opts = { account: '000000000000', region: 'us-east-1' }
const args = process.argv.slice(2)
for (let i = 0; i < args.length; i += 2) {
  const k = args[i].replace(/^--/, '')
  if (!(k in opts)) throw new Error(`unknown flag ${args[i]}`)
  opts[k] = args[i + 1]
}

async function main() {
  const server = await createSqsServer({
    port: 0,
    hostname: '127.0.0.1',
    accountId: opts.account,
    region: opts.region,
    emulateQueueCreationLifecycle: false,
    emulateLazyQueues: false,
  })
  const addr = server.address()
  process.stdout.write(JSON.stringify({ port: addr.port }) + '\n')
}

main().catch(err => {
  process.stderr.write(`${err && err.stack || err}\n`)
  process.exit(1)
})
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
process.stdin.on('error', () => process.exit(0))
