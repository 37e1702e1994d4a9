#!/usr/bin/env node
// Starts kinesalite in memory for `bridge bench kinesis --compare-endpoint`:
// streams become ACTIVE at once instead of after 500 ms, and the shard
// limit is high enough for any --shards. Options are kinesalite's own
// (--port, --path, --ssl, --createStreamMs, ...); run it with
// node -r ./loopback.js to keep it on 127.0.0.1.
'use strict'
const argv = require('minimist')(process.argv.slice(2))
const opts = Object.assign({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 }, argv)
const server = require('kinesalite')(opts).listen(opts.port || 4567, function () {
  const address = server.address()
  console.log('Listening at %s://%s:%s', opts.ssl ? 'https' : 'http', address.address, address.port)
})
