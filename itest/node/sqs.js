#!/usr/bin/env node
// @aws-sdk/client-sqs (AWS SDK for JavaScript v3, JSON 1.0 protocol) driver
// for StreamBridge's itest SQS tests. The same scenarios as
// itest/python/sqs_boto3.py, through the JSON side of the API; the SDK's
// own MD5 checks of bodies are on (its default).
//
//   node sqs.js SCENARIO --endpoint URL --prefix P
//
// with SCENARIO one of standard, fifo, fifo-groups, dlq, dlq-move (the
// move-task operations, which boto3 1.26 lacks, through the SDK here).
//
// Each checked step is a JSON line on stdout: {"step", "ok": true} or
// {"step", "error"}; a measurement is {"step", "latency_ms"}. A failed step
// does not stop the scenario; the exit status is 0 unless the driver broke.
// Credentials and region come from the environment (the test's dummies).
'use strict'

const crypto = require('crypto')
const sqsSDK = require('@aws-sdk/client-sqs')

const ACCOUNT = '000000000000'
const REGION = 'us-east-1'

function parseArgs(argv) {
  const args = { scenario: argv[0] }
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '')
    if (!(k in { endpoint: 1, prefix: 1 })) throw new Error(`unknown flag ${argv[i]}`)
    args[k] = argv[i + 1]
  }
  if (!(args.scenario in SCENARIOS) || !args.endpoint || !args.prefix) {
    throw new Error(`usage: sqs.js ${Object.keys(SCENARIOS).join('|')} --endpoint URL --prefix P`)
  }
  return args
}

const write = obj => process.stdout.write(JSON.stringify(obj) + '\n')

class CheckFailed extends Error {}
const check = (cond, what) => { if (!cond) throw new CheckFailed(what) }
// canon is JSON with object keys in order, so that comparisons ignore it.
const canon = v => JSON.stringify(v, (k, x) => x && typeof x === 'object' && !Array.isArray(x) && !Buffer.isBuffer(x)
  ? Object.fromEntries(Object.keys(x).sort().map(n => [n, x[n]])) : x)
const same = (a, b) => canon(a) === canon(b)
function eq(got, want, what) {
  if (!same(got, want)) throw new CheckFailed(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
}

async function step(name, fn) {
  try {
    const out = await fn()
    write({ step: name, ok: true })
    return out
  } catch (e) {
    if (e instanceof CheckFailed) write({ step: name, error: e.message })
    else if (e.$metadata) write({ step: name, error: `unexpected error ${e.name}/${e.Code} (${e.$metadata.httpStatusCode}): ${e.message}` })
    else write({ step: name, error: `${e.name}: ${e.message}\n${e.stack}` })
  }
}

let client
const send = (op, input) => client.send(new sqsSDK[`${op}Command`](input))

// fails sends op, which must fail with the modeled error name (or, for
// errors the model does not name, the legacy code in e.Code) and status.
async function fails(op, input, wantCode, wantStatus = 400) {
  try {
    await send(op, input)
  } catch (e) {
    check(e.$metadata, `${op}: ${e}`)
    check(e.name === wantCode || e.Code === wantCode, `${op}: error ${e.name}/${e.Code}, want ${wantCode}`)
    eq(e.$metadata.httpStatusCode, wantStatus, `${op}: HTTP status of ${wantCode}`)
    return e
  }
  throw new CheckFailed(`${op} succeeded, want ${wantCode}`)
}

const md5 = s => crypto.createHash('md5').update(s).digest('hex')

// md5OfAttributes is AWS's MD5OfMessageAttributes (see sqs_boto3.py).
function md5OfAttributes(attrs) {
  const parts = []
  const len = n => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b }
  for (const name of Object.keys(attrs).sort()) {
    const a = attrs[name]
    const nb = Buffer.from(name), tb = Buffer.from(a.DataType)
    parts.push(len(nb.length), nb, len(tb.length), tb)
    const v = a.DataType.startsWith('Binary') ? Buffer.from(a.BinaryValue) : Buffer.from(a.StringValue)
    parts.push(Buffer.from([a.DataType.startsWith('Binary') ? 2 : 1]), len(v.length), v)
  }
  return md5(Buffer.concat(parts))
}

// plainAttrs turns received attributes into the sent shape for comparison.
function plainAttrs(attrs) {
  const out = {}
  for (const [k, v] of Object.entries(attrs || {})) {
    out[k] = v.BinaryValue ? { DataType: v.DataType, BinaryValue: Buffer.from(v.BinaryValue).toString('hex') }
      : { DataType: v.DataType, StringValue: v.StringValue }
  }
  return out
}

const sleep = ms => new Promise(r => setTimeout(r, ms))

async function receiveAll(url, want, extra = {}) {
  const got = [], ids = new Set()
  const deadline = Date.now() + 30000
  while (got.length < want && Date.now() < deadline) {
    const r = await send('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, ...extra })
    for (const m of r.Messages || []) {
      check(!ids.has(m.MessageId), `message ${m.MessageId} received twice`)
      ids.add(m.MessageId)
      got.push(m)
    }
  }
  eq(got.length, want, 'messages received')
  return got
}

const makeVisible = (url, msgs) => Promise.all(msgs.map(m =>
  send('ChangeMessageVisibility', { QueueUrl: url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })))

const ATTRS = {
  s: { DataType: 'String', StringValue: 'héllo wörld' },
  n: { DataType: 'Number', StringValue: '-42.5e3' },
  b: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 0xfe, 0xff]) },
  'custom.a': { DataType: 'String.json', StringValue: '{"k":1}' },
  'custom.b': { DataType: 'Binary.gz', BinaryValue: Buffer.from([0x1f, 0x8b]) },
}

async function standard(args) {
  const p = args.prefix
  const urls = {}
  const tags = { team: 'bridge', env: 'itest' }
  const attrs = { VisibilityTimeout: '20', MessageRetentionPeriod: '3600' }

  await step('CreateQueue', async () => {
    urls.a = (await send('CreateQueue', { QueueName: `${p}-a`, Attributes: attrs, tags })).QueueUrl
    eq(urls.a, `${args.endpoint}/${ACCOUNT}/${p}-a`, 'QueueUrl')
    eq((await send('CreateQueue', { QueueName: `${p}-a`, Attributes: attrs, tags })).QueueUrl, urls.a, 'QueueUrl of a second CreateQueue')
    const e = await fails('CreateQueue', { QueueName: `${p}-a`, Attributes: { ...attrs, VisibilityTimeout: '21' }, tags }, 'QueueNameExists')
    eq(e.Code, 'QueueAlreadyExists', 'legacy code')
    eq(e.message, 'A queue already exists with the same name and a different value for attribute VisibilityTimeout', 'message')
    urls.b = (await send('CreateQueue', { QueueName: `${p}-b` })).QueueUrl
    urls.c = (await send('CreateQueue', { QueueName: `${p}-c`, Attributes: { MaximumMessageSize: '1024' } })).QueueUrl
  })

  await step('GetQueueUrl', async () => {
    eq((await send('GetQueueUrl', { QueueName: `${p}-a` })).QueueUrl, urls.a, 'GetQueueUrl')
    const e = await fails('GetQueueUrl', { QueueName: `${p}-missing` }, 'QueueDoesNotExist')
    eq([e.Code, e.message], ['AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.'], 'code and message')
  })

  await step('ListQueues', async () => {
    eq(((await send('ListQueues', { QueueNamePrefix: p })).QueueUrls || []).sort(), Object.values(urls).sort(), 'ListQueues prefix')
    const seen = []
    for await (const page of sqsSDK.paginateListQueues({ client, pageSize: 1 }, { QueueNamePrefix: p })) {
      check((page.QueueUrls || []).length <= 1, `page ${page.QueueUrls} with MaxResults 1`)
      seen.push(...(page.QueueUrls || []))
      check(seen.length <= 10, 'the paginator does not end')
    }
    eq(seen.sort(), Object.values(urls).sort(), 'ListQueues pages with MaxResults 1 (paginateListQueues)')
  })

  await step('Get/SetQueueAttributes', async () => {
    const at = (await send('GetQueueAttributes', { QueueUrl: urls.a, AttributeNames: ['All'] })).Attributes
    for (const n of ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed', 'ApproximateNumberOfMessagesNotVisible',
      'CreatedTimestamp', 'DelaySeconds', 'LastModifiedTimestamp', 'MaximumMessageSize', 'MessageRetentionPeriod', 'QueueArn',
      'ReceiveMessageWaitTimeSeconds', 'VisibilityTimeout']) check(n in at, `All lacks ${n}: ${Object.keys(at)}`)
    eq([at.VisibilityTimeout, at.QueueArn], ['20', `arn:aws:sqs:${REGION}:${ACCOUNT}:${p}-a`], 'VisibilityTimeout, QueueArn')
    await send('SetQueueAttributes', { QueueUrl: urls.a, Attributes: { VisibilityTimeout: '30' } })
    eq((await send('GetQueueAttributes', { QueueUrl: urls.a, AttributeNames: ['VisibilityTimeout'] })).Attributes,
      { VisibilityTimeout: '30' }, 'after SetQueueAttributes')
    const e = await fails('SetQueueAttributes', { QueueUrl: urls.a, Attributes: { MessageRetentionPeriod: '59' } }, 'InvalidAttributeValue')
    eq(e.message, 'Invalid value for the parameter MessageRetentionPeriod.', 'message')
    await fails('SetQueueAttributes', { QueueUrl: urls.a, Attributes: { NoSuchAttribute: '1' } }, 'InvalidAttributeName')
  })

  await step('Tag/Untag/ListQueueTags', async () => {
    eq((await send('ListQueueTags', { QueueUrl: urls.a })).Tags, tags, 'tags from CreateQueue')
    await send('TagQueue', { QueueUrl: urls.a, Tags: { extra: '1', team: 'streams' } })
    await send('UntagQueue', { QueueUrl: urls.a, TagKeys: ['env'] })
    const got = (await send('ListQueueTags', { QueueUrl: urls.a })).Tags
    eq(Object.keys(got).sort().map(k => [k, got[k]]), [['extra', '1'], ['team', 'streams']], 'tags after Tag/UntagQueue')
  })

  await step('Add/RemovePermission', async () => {
    await send('AddPermission', { QueueUrl: urls.b, Label: 'p1', AWSAccountIds: [ACCOUNT], Actions: ['SendMessage'] })
    const pol = JSON.parse((await send('GetQueueAttributes', { QueueUrl: urls.b, AttributeNames: ['Policy'] })).Attributes.Policy)
    eq([].concat(pol.Statement).map(s => s.Sid), ['p1'], 'statements after AddPermission')
    await send('RemovePermission', { QueueUrl: urls.b, Label: 'p1' })
    await fails('RemovePermission', { QueueUrl: urls.b, Label: 'p1' }, 'InvalidParameterValue')
  })

  const sent = {}
  await step('SendMessage', async () => {
    const body = 'js body ✓ ' + 'y'.repeat(100)
    const r = await send('SendMessage', { QueueUrl: urls.a, MessageBody: body, MessageAttributes: ATTRS })
    sent[r.MessageId] = body
    const plain = await send('SendMessage', { QueueUrl: urls.a, MessageBody: 'plain' })
    sent[plain.MessageId] = 'plain'
    eq(r.MD5OfMessageBody, md5(body), 'MD5OfMessageBody')
    eq(r.MD5OfMessageAttributes, md5OfAttributes(ATTRS), 'MD5OfMessageAttributes')
    check(plain.MD5OfMessageAttributes === undefined, 'MD5OfMessageAttributes without attributes')
    const e = await fails('SendMessage', { QueueUrl: urls.a, MessageBody: '' }, 'MissingParameter')
    eq(e.message, 'The request must contain the parameter MessageBody.', 'message')
  })

  await step('SendMessageBatch', async () => {
    const entries = [0, 1, 2, 3].map(i => ({ Id: `m${i}`, MessageBody: `batch ${i}` }))
    const r = await send('SendMessageBatch', { QueueUrl: urls.a, Entries: entries })
    for (const x of r.Successful || []) sent[x.MessageId] = `batch ${x.Id.slice(1)}`
    eq((r.Successful || []).map(x => x.Id).sort(), ['m0', 'm1', 'm2', 'm3'], 'Successful')
    eq(r.Failed || [], [], 'Failed')
    const big = await send('SendMessageBatch', { QueueUrl: urls.c, Entries: [
      { Id: 'fits', MessageBody: 'a'.repeat(1024) }, { Id: 'big', MessageBody: 'a'.repeat(1025) }] })
    eq((big.Successful || []).map(x => x.Id), ['fits'], 'Successful with one entry too big')
    eq((big.Failed || []).map(x => [x.Id, x.Code, x.SenderFault]), [['big', 'InvalidParameterValue', true]], 'Failed')
    let e = await fails('SendMessageBatch', { QueueUrl: urls.c, Entries: [{ Id: 'x', MessageBody: '1' }, { Id: 'x', MessageBody: '2' }] },
      'BatchEntryIdsNotDistinct')
    eq([e.Code, e.message], ['AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 'Id x repeated.'], 'code and message')
    await fails('SendMessageBatch', { QueueUrl: urls.c, Entries: [{ Id: 'bad id!', MessageBody: '1' }] }, 'InvalidBatchEntryId')
    e = await fails('SendMessageBatch', { QueueUrl: urls.c, Entries: [...Array(11).keys()].map(i => ({ Id: `e${i}`, MessageBody: '1' })) },
      'TooManyEntriesInBatchRequest')
    eq(e.message, 'Maximum number of entries per request are 10. You have sent 11.', 'message')
    e = await fails('SendMessageBatch', { QueueUrl: urls.c, Entries: [] }, 'EmptyBatchRequest')
    eq(e.message, 'There should be at least one SendMessageBatchRequestEntry in the request.', 'message')
    await fails('SendMessageBatch', { QueueUrl: urls.b, Entries: [0, 1, 2, 3].map(i => ({ Id: `e${i}`, MessageBody: 'a'.repeat(300 * 1024) })) },
      'BatchRequestTooLong')
  })

  const handles = {}
  await step('ReceiveMessage All', async () => {
    const msgs = await receiveAll(urls.a, Object.keys(sent).length, { MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] })
    for (const m of msgs) handles[m.Body] = m.ReceiptHandle
    for (const m of msgs) {
      eq(m.Body, sent[m.MessageId], 'Body')
      eq(m.MD5OfBody, md5(m.Body), 'MD5OfBody')
      for (const n of ['SenderId', 'SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp']) {
        check(m.Attributes && n in m.Attributes, `MessageSystemAttributeNames All lacks ${n}: ${JSON.stringify(m.Attributes)}`)
      }
      eq(m.Attributes.ApproximateReceiveCount, '1', 'ApproximateReceiveCount')
      if (m.MessageAttributes) eq(m.MD5OfMessageAttributes, md5OfAttributes(m.MessageAttributes), 'MD5OfMessageAttributes')
    }
    const full = msgs.find(m => m.Body.startsWith('js body'))
    eq(plainAttrs(full.MessageAttributes), plainAttrs(ATTRS), 'MessageAttributes')
  })

  await step('ChangeMessageVisibility(Batch)', async () => {
    const body = Object.keys(handles).find(b => b.startsWith('js body'))
    await send('ChangeMessageVisibility', { QueueUrl: urls.a, ReceiptHandle: handles[body], VisibilityTimeout: 0 })
    const [m] = await receiveAll(urls.a, 1, { MessageAttributeNames: ['custom.*'], MessageSystemAttributeNames: ['ApproximateReceiveCount'] })
    handles[m.Body] = m.ReceiptHandle
    eq(m.Body, body, 'Body')
    eq(Object.keys(m.MessageAttributes).sort(), ['custom.a', 'custom.b'], 'MessageAttributes custom.*')
    eq(m.MD5OfMessageAttributes, md5OfAttributes(m.MessageAttributes), 'MD5OfMessageAttributes of custom.*')
    eq(m.Attributes, { ApproximateReceiveCount: '2' }, 'Attributes')
    const r = await send('ChangeMessageVisibilityBatch', { QueueUrl: urls.a, Entries: [
      { Id: 'one', ReceiptHandle: handles['batch 0'], VisibilityTimeout: 0 },
      { Id: 'bad', ReceiptHandle: 'garbage', VisibilityTimeout: 0 }] })
    eq((r.Successful || []).map(x => x.Id), ['one'], 'Successful')
    eq((r.Failed || []).map(x => [x.Id, x.Code, x.SenderFault]), [['bad', 'ReceiptHandleIsInvalid', true]], 'Failed')
    for (const x of await receiveAll(urls.a, 1)) handles[x.Body] = x.ReceiptHandle
    await fails('ChangeMessageVisibility', { QueueUrl: urls.a, ReceiptHandle: 'garbage', VisibilityTimeout: 0 }, 'ReceiptHandleIsInvalid', 404)
  })

  await step('DeleteMessage(Batch)', async () => {
    await send('DeleteMessage', { QueueUrl: urls.a, ReceiptHandle: handles.plain })
    delete handles.plain
    const entries = Object.values(handles).map((h, i) => ({ Id: `d${i}`, ReceiptHandle: h }))
    const r = await send('DeleteMessageBatch', { QueueUrl: urls.a, Entries: [...entries, { Id: 'bad', ReceiptHandle: 'garbage' }] })
    eq((r.Successful || []).map(x => x.Id).sort(), entries.map(x => x.Id).sort(), 'Successful')
    eq((r.Failed || []).map(x => [x.Id, x.Code, x.SenderFault]), [['bad', 'ReceiptHandleIsInvalid', true]], 'Failed')
    const e = await fails('DeleteMessage', { QueueUrl: urls.a, ReceiptHandle: 'garbage' }, 'ReceiptHandleIsInvalid', 404)
    eq(e.message, 'The input receipt handle "garbage" is not a valid receipt handle.', 'message')
    const at = (await send('GetQueueAttributes', { QueueUrl: urls.a, AttributeNames: ['All'] })).Attributes
    eq([at.ApproximateNumberOfMessages, at.ApproximateNumberOfMessagesNotVisible], ['0', '0'], 'counts after deleting all')
  })

  await step('ReceiveMessage long poll', async () => {
    const t0 = Date.now()
    const poll = send('ReceiveMessage', { QueueUrl: urls.b, WaitTimeSeconds: 10 })
    await sleep(1000)
    const sentAt = Date.now()
    await send('SendMessage', { QueueUrl: urls.b, MessageBody: 'wake up' })
    const r = await poll
    const done = Date.now()
    eq((r.Messages || []).map(m => m.Body), ['wake up'], 'long poll answer')
    check(done - t0 < 9000, `long poll took ${done - t0} ms of its 10 s wait after a send at 1 s`)
    write({ step: 'long poll wake-up after send', latency_ms: Math.max(0.01, done - sentAt) })
  })

  await step('PurgeQueue', async () => {
    await send('PurgeQueue', { QueueUrl: urls.b })
    const at = (await send('GetQueueAttributes', { QueueUrl: urls.b, AttributeNames: ['All'] })).Attributes
    eq([at.ApproximateNumberOfMessages, at.ApproximateNumberOfMessagesNotVisible], ['0', '0'], 'counts after PurgeQueue')
    const e = await fails('PurgeQueue', { QueueUrl: urls.b }, 'PurgeQueueInProgress', 403)
    eq(e.Code, 'AWS.SimpleQueueService.PurgeQueueInProgress', 'legacy code')
  })

  await step('DeleteQueue', async () => {
    for (const u of Object.values(urls)) await send('DeleteQueue', { QueueUrl: u })
    await fails('GetQueueUrl', { QueueName: `${p}-a` }, 'QueueDoesNotExist')
    eq((await send('ListQueues', { QueueNamePrefix: p })).QueueUrls || [], [], 'ListQueues after DeleteQueue')
  })
}

async function fifo(args) {
  const p = args.prefix
  const q = {}
  await step('CreateQueue FIFO', async () => {
    q.f = (await send('CreateQueue', { QueueName: `${p}-f.fifo`, Attributes: { FifoQueue: 'true' } })).QueueUrl
    q.cbd = (await send('CreateQueue', { QueueName: `${p}-cbd.fifo`, Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' } })).QueueUrl
  })

  await step('SendMessage FIFO refusals', async () => {
    let e = await fails('SendMessage', { QueueUrl: q.f, MessageBody: 'x', MessageDeduplicationId: 'd' }, 'MissingParameter')
    eq(e.message, 'The request must contain the parameter MessageGroupId.', 'message')
    e = await fails('SendMessage', { QueueUrl: q.f, MessageBody: 'x', MessageGroupId: 'g' }, 'InvalidParameterValue')
    eq(e.message, 'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly', 'message')
  })

  await step('FIFO order per group, deduplication', async () => {
    const ids = await sendGroups(q.f, ['g1', 'g2'], 4)
    const again = await send('SendMessage', { QueueUrl: q.f, MessageBody: 'again', MessageGroupId: 'g1', MessageDeduplicationId: 'g1-1' })
    eq(again.MessageId, ids['g1-1'], 'MessageId of a deduplicated send')
    const got = []
    for (const deadline = Date.now() + 30000; got.length < 8 && Date.now() < deadline;) {
      const r = await send('ReceiveMessage', { QueueUrl: q.f, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] })
      for (const m of r.Messages || []) {
        eq([m.Attributes.MessageGroupId, m.Attributes.MessageDeduplicationId], [m.Body.slice(0, 2), m.Body], 'FIFO system attributes')
        check(m.Attributes.SequenceNumber, 'no SequenceNumber attribute')
        got.push(m.Body)
        await send('DeleteMessage', { QueueUrl: q.f, ReceiptHandle: m.ReceiptHandle })
      }
    }
    eq(got.filter(b => b.startsWith('g1')), ['g1-0', 'g1-1', 'g1-2', 'g1-3'], 'order of group g1 (the duplicate not delivered)')
    eq(got.filter(b => b.startsWith('g2')), ['g2-0', 'g2-1', 'g2-2', 'g2-3'], 'order of group g2')
  })

  await step('FIFO content-based deduplication', async () => {
    const a = await send('SendMessage', { QueueUrl: q.cbd, MessageBody: 'same body', MessageGroupId: 'g' })
    const b = await send('SendMessage', { QueueUrl: q.cbd, MessageBody: 'same body', MessageGroupId: 'g' })
    eq(b.MessageId, a.MessageId, 'MessageId of the same body sent twice')
    const [m] = await receiveAll(q.cbd, 1, { MessageSystemAttributeNames: ['MessageDeduplicationId'] })
    eq(m.Attributes.MessageDeduplicationId, crypto.createHash('sha256').update('same body').digest('hex'), 'content-based MessageDeduplicationId')
  })

  for (const u of Object.values(q)) await send('DeleteQueue', { QueueUrl: u })
}

async function fifoGroups(args) {
  const p = args.prefix
  const q = {}
  await step('CreateQueue FIFO', async () => {
    q.f = (await send('CreateQueue', { QueueName: `${p}-f.fifo`, Attributes: { FifoQueue: 'true' } })).QueueUrl
  })
  await step('FIFO group blocked while in flight', async () => {
    await sendGroups(q.f, ['g1', 'g2'], 4)
    const [first] = (await send('ReceiveMessage', { QueueUrl: q.f, MaxNumberOfMessages: 1 })).Messages
    eq(first.Body, 'g1-0', 'first message')
    const rest = []
    for (let i = 0; i < 3; i++) rest.push(...((await send('ReceiveMessage', { QueueUrl: q.f, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 })).Messages || []))
    eq(rest.map(m => m.Body), ['g2-0', 'g2-1', 'g2-2', 'g2-3'], 'receives while g1 is in flight')
    for (const m of [first, ...rest]) await send('DeleteMessage', { QueueUrl: q.f, ReceiptHandle: m.ReceiptHandle })
    const got = await receiveAll(q.f, 3)
    eq(got.map(m => m.Body), ['g1-1', 'g1-2', 'g1-3'], 'g1 after its first message was deleted')
  })
  for (const u of Object.values(q)) await send('DeleteQueue', { QueueUrl: u })
}

async function sendGroups(url, groups, n) {
  const ids = {}, seqs = {}
  for (let i = 0; i < n; i++) {
    for (const g of groups) {
      const r = await send('SendMessage', { QueueUrl: url, MessageBody: `${g}-${i}`, MessageGroupId: g, MessageDeduplicationId: `${g}-${i}` })
      ids[`${g}-${i}`] = r.MessageId;
      (seqs[g] = seqs[g] || []).push(BigInt(r.SequenceNumber))
    }
  }
  for (const [g, ns] of Object.entries(seqs)) check(ns.every((x, i) => i === 0 || ns[i - 1] < x), `SequenceNumbers of group ${g} do not increase`)
  return ids
}

async function dlq(args, then) {
  const p = args.prefix
  const q = {}
  await step('CreateQueue with RedrivePolicy', async () => {
    q.dlq = (await send('CreateQueue', { QueueName: `${p}-dlq` })).QueueUrl
    q.arn = (await send('GetQueueAttributes', { QueueUrl: q.dlq, AttributeNames: ['QueueArn'] })).Attributes.QueueArn
    // maxReceiveCount as a JSON number here (boto3's driver sends a string).
    const policy = JSON.stringify({ deadLetterTargetArn: q.arn, maxReceiveCount: 2 })
    q.src = (await send('CreateQueue', { QueueName: `${p}-src`, Attributes: { RedrivePolicy: policy } })).QueueUrl
    eq((await send('ListDeadLetterSourceQueues', { QueueUrl: q.dlq })).queueUrls, [q.src], 'ListDeadLetterSourceQueues')
  })

  await step('messages move to the DLQ after maxReceiveCount', async () => {
    for (const i of [0, 1]) await send('SendMessage', { QueueUrl: q.src, MessageBody: `poison-${i}` })
    for (const n of [1, 2]) {
      const msgs = await receiveAll(q.src, 2, { MessageSystemAttributeNames: ['ApproximateReceiveCount'] })
      eq(msgs.map(m => m.Attributes.ApproximateReceiveCount), [String(n), String(n)], `receive counts at receive ${n}`)
      await makeVisible(q.src, msgs)
    }
    eq((await send('ReceiveMessage', { QueueUrl: q.src, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 })).Messages || [], [], 'source after maxReceiveCount receives')
    const moved = await receiveAll(q.dlq, 2)
    eq(moved.map(m => m.Body).sort(), ['poison-0', 'poison-1'], 'bodies in the dead-letter queue')
    await makeVisible(q.dlq, moved)
  })

  if (then) await then(q)
  for (const u of [q.src, q.dlq]) if (u) await send('DeleteQueue', { QueueUrl: u })
}

async function dlqMove(args) {
  await dlq(args, q => step('StartMessageMoveTask back to the source', async () => {
    const p = args.prefix
    const e = await fails('StartMessageMoveTask', { SourceArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${p}-src` }, 'InvalidParameterValue')
    eq(e.message, 'Source queue must be configured as a Dead Letter Queue.', 'message')
    const { TaskHandle } = await send('StartMessageMoveTask', { SourceArn: q.arn })
    check(TaskHandle, 'no TaskHandle')
    let task
    for (const deadline = Date.now() + 60000; Date.now() < deadline; await sleep(200)) {
      const r = await send('ListMessageMoveTasks', { SourceArn: q.arn })
      check((r.Results || []).length > 0, 'ListMessageMoveTasks listed no task')
      task = r.Results[0]
      if (task.Status === 'COMPLETED') break
    }
    eq([task.Status, task.ApproximateNumberOfMessagesMoved], ['COMPLETED', 2], 'move task')
    const back = await receiveAll(q.src, 2)
    eq(back.map(m => m.Body).sort(), ['poison-0', 'poison-1'], 'bodies moved back to the source')
    const e2 = await fails('CancelMessageMoveTask', { TaskHandle: 'not-a-handle' }, 'InvalidParameterValue')
    eq(e2.message, 'Value for parameter TaskHandle is invalid.', 'message')
  }))
}

const SCENARIOS = { standard, fifo, 'fifo-groups': fifoGroups, dlq, 'dlq-move': dlqMove }

async function main() {
  const args = parseArgs(process.argv.slice(2))
  client = new sqsSDK.SQSClient({ endpoint: args.endpoint, region: REGION, maxAttempts: 2 })
  await SCENARIOS[args.scenario](args)
}

main().catch(err => {
  process.stderr.write(`${err && err.stack || err}\n`)
  process.exit(1)
})
