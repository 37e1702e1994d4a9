#!/usr/bin/env node
// Starts kinesalite (the Kinesis emulator the conformance test compares the
// bridge with) in memory on 127.0.0.1, on a port the kernel picks, and
// writes {"port": N} on stdout once it listens. It exits when its stdin
// closes, so it never outlives the test that started it.
//
//   node kinesis_kinesalite.js [--createStreamMs MS] [--deleteStreamMs MS] [--updateStreamMs MS] [--shardLimit N]
//
// kinesalite's own cli.js listens on every interface and takes a fixed
// port; this does what cli.js does otherwise (same options, same defaults).
'use strict'

const kinesalite = require('kinesalite')

const options = {}
const args = process.argv.slice(2)
for (let i = 0; i < args.length; i += 2) {
  const k = args[i].replace(/^--/, '')
  if (!(k in { createStreamMs: 1, deleteStreamMs: 1, updateStreamMs: 1, shardLimit: 1 })) throw new Error(`unknown flag ${args[i]}`)
  options[k] = Number(args[i + 1])
}

const server = kinesalite(options).listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n')
})
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
process.stdin.on('error', () => process.exit(0))
