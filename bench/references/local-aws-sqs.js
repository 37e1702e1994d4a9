#!/usr/bin/env node
// Starts the local-aws-sqs emulator (in memory; JSON 1.0 and Query) for
// `bridge bench sqs --compare-endpoint`, on 127.0.0.1 only:
//
//   NODE_PATH=itest/node/node_modules node local-aws-sqs.js --port 9324
//
// The package is installed in itest/node (the SQS client tests drive it
// too), so scripts/sqs-references.sh and the bench's test find it through
// NODE_PATH rather than a second copy here. Queue creation is not delayed
// (emulateLazyQueues off, its default), and a deleted queue's name may not
// be reused for 60 s as on AWS; the bench names each queue afresh.
'use strict'
const { createSqsServer } = require('local-aws-sqs')

const i = process.argv.indexOf('--port')
const port = i > 0 ? Number(process.argv[i + 1]) : 9324
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: local-aws-sqs.js --port PORT')
  process.exit(2)
}

createSqsServer({ port, hostname: '127.0.0.1' }).then(
  (server) => {
    const address = server.address()
    console.log('Listening at http://%s:%s', address.address, address.port)
    // Exit at once: everything is in memory, and server.close() would
    // wait for clients' idle keep-alive connections to go.
    process.on('SIGTERM', () => process.exit(0))
    process.on('SIGINT', () => process.exit(0))
  },
  (err) => {
    console.error(err)
    process.exit(1)
  }
)
