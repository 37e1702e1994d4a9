// Preloaded into the reference emulators (node -r ./loopback.js) so that
// every server they start listens on 127.0.0.1 only: kinesalite and
// kinesis-local bind all interfaces and have no setting for the host.
'use strict'
const net = require('net')

const LOOPBACK = '127.0.0.1'
const listen = net.Server.prototype.listen

net.Server.prototype.listen = function (...args) {
  const first = args[0]
  if (first !== null && typeof first === 'object' && 'port' in first) {
    // listen({port, host, ...}, cb)
    args[0] = Object.assign({}, first, { host: LOOPBACK })
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, cb])
    if (args.length > 1 && (typeof args[1] === 'string' || args[1] === undefined || args[1] === null)) {
      args[1] = LOOPBACK
    } else {
      args.splice(1, 0, LOOPBACK)
    }
  }
  return listen.apply(this, args)
}
