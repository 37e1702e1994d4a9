#!/usr/bin/env node
// sqs-consumer (npm, on @aws-sdk/client-sqs) driver for StreamBridge's
// itest SQS tests: the worker loop most Node services run on SQS.
//
//   node sqs_consumer.js worker --endpoint URL --prefix P
//       handleMessage: 20 jobs, each deleted once handled; the handler
//       throws on job-3's first delivery, so job-3 comes back after the
//       queue's visibility timeout (2 s) with ApproximateReceiveCount 2.
//       handleMessageBatch: 25 jobs sent with SendMessageBatch, handled in
//       batches of up to 10; the batch holding batch-7 throws the first
//       time, so that whole batch comes back and is handled again.
//       Afterwards both queues are empty (nothing visible, nothing in flight).
//
// Each checked step is a JSON line on stdout: {"step", "ok": true} or
// {"step", "error"}. Credentials and region come from the environment.
'use strict'

const { SQSClient, CreateQueueCommand, SendMessageBatchCommand, GetQueueAttributesCommand, DeleteQueueCommand } = require('@aws-sdk/client-sqs')
const { Consumer } = require('sqs-consumer')

function parseArgs(argv) {
  const args = { mode: argv[0] }
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '')
    if (!(k in { endpoint: 1, prefix: 1 })) throw new Error(`unknown flag ${argv[i]}`)
    args[k] = argv[i + 1]
  }
  if (args.mode !== 'worker' || !args.endpoint || !args.prefix) throw new Error('usage: sqs_consumer.js worker --endpoint URL --prefix P')
  return args
}

const write = obj => process.stdout.write(JSON.stringify(obj) + '\n')
const progress = msg => process.stderr.write(`${new Date().toISOString()} ${msg}\n`)

async function step(name, fn) {
  try {
    await fn()
    write({ step: name, ok: true })
  } catch (e) {
    write({ step: name, error: e.$metadata ? `${e.name} (${e.$metadata.httpStatusCode}): ${e.message}` : `${e.message}\n${e.stack}` })
  }
}

function check(cond, what) { if (!cond) throw new Error(what) }

async function sendJobs(sqs, url, names) {
  for (let i = 0; i < names.length; i += 10) {
    const r = await sqs.send(new SendMessageBatchCommand({
      QueueUrl: url,
      Entries: names.slice(i, i + 10).map((n, j) => ({ Id: `e${i + j}`, MessageBody: n, MessageAttributes: { job: { DataType: 'String', StringValue: n } } })),
    }))
    check(!(r.Failed || []).length, `SendMessageBatch failed entries: ${JSON.stringify(r.Failed)}`)
  }
}

// runConsumer starts a consumer with handler options and resolves once
// done() says everything was handled, or rejects after the timeout.
function runConsumer(sqs, url, opts, done, timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const errors = []
    const app = Consumer.create({
      queueUrl: url,
      sqs,
      waitTimeSeconds: 1,
      pollingWaitTimeMs: 0,
      messageAttributeNames: ['All'],
      messageSystemAttributeNames: ['ApproximateReceiveCount'],
      // The deprecated name too, as older consumers send it (and
      // local-aws-sqs only knows it).
      attributeNames: ['ApproximateReceiveCount'],
      ...opts,
    })
    app.on('error', err => { if (!/fails the first time/.test(err.message)) errors.push(`error: ${err.message}`) })
    app.on('processing_error', err => progress(`processing_error (expected once): ${err.message}`))
    const finish = (err) => {
      clearInterval(poll)
      clearTimeout(timer)
      app.stop({ abort: false })
      // Let the last deletes finish before the caller looks at the queue.
      setTimeout(() => (err ? reject(err) : resolve(errors)), 500)
    }
    const poll = setInterval(() => { if (done()) finish() }, 50)
    const timer = setTimeout(() => finish(new Error(`not all messages handled within ${timeoutMs} ms; errors: ${errors.join('; ')}`)), timeoutMs)
    app.start()
  })
}

async function emptyQueue(sqs, url) {
  // Deletes are answered before the consumer reports the message handled;
  // give a late one a moment.
  let at
  for (let i = 0; i < 20; i++) {
    at = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes
    if (at.ApproximateNumberOfMessages === '0' && at.ApproximateNumberOfMessagesNotVisible === '0') return
    await new Promise(r => setTimeout(r, 100))
  }
  throw new Error(`queue not empty after handling: visible ${at.ApproximateNumberOfMessages}, in flight ${at.ApproximateNumberOfMessagesNotVisible}`)
}

async function worker(args) {
  const sqs = new SQSClient({ endpoint: args.endpoint, maxAttempts: 2 })
  const one = (await sqs.send(new CreateQueueCommand({ QueueName: `${args.prefix}-one`, Attributes: { VisibilityTimeout: '2' } }))).QueueUrl
  const many = (await sqs.send(new CreateQueueCommand({ QueueName: `${args.prefix}-many`, Attributes: { VisibilityTimeout: '2' } }))).QueueUrl

  await step('sqs-consumer handleMessage', async () => {
    const jobs = [...Array(20).keys()].map(i => `job-${i}`)
    await sendJobs(sqs, one, jobs)
    const handled = new Map() // body -> receive count when handled
    let failedOnce = false
    const errors = await runConsumer(sqs, one, {
      handleMessage: async m => {
        check(m.MessageAttributes && m.MessageAttributes.job.StringValue === m.Body, `attribute job of ${m.Body}: ${JSON.stringify(m.MessageAttributes)}`)
        if (m.Body === 'job-3' && !failedOnce) {
          failedOnce = true
          throw new Error('job-3 fails on its first delivery')
        }
        handled.set(m.Body, m.Attributes.ApproximateReceiveCount)
        return m
      },
    }, () => handled.size === jobs.length)
    check(errors.length === 0, `consumer errors: ${errors.join('; ')}`)
    check(failedOnce, 'the handler never saw job-3 fail')
    check(handled.get('job-3') === '2', `job-3 handled at receive count ${handled.get('job-3')}, want 2`)
    for (const j of jobs) if (j !== 'job-3') check(handled.get(j) === '1', `${j} handled at receive count ${handled.get(j)}, want 1`)
    await emptyQueue(sqs, one)
  })

  await step('sqs-consumer handleMessageBatch', async () => {
    const jobs = [...Array(25).keys()].map(i => `batch-${i}`)
    await sendJobs(sqs, many, jobs)
    const handled = new Map() // body -> times handled successfully
    let failedBatch = null
    const errors = await runConsumer(sqs, many, {
      batchSize: 10,
      handleMessageBatch: async ms => {
        check(ms.length >= 1 && ms.length <= 10, `batch of ${ms.length}`)
        if (!failedBatch && ms.some(m => m.Body === 'batch-7')) {
          failedBatch = ms.map(m => m.Body)
          throw new Error('the batch with batch-7 fails the first time')
        }
        for (const m of ms) handled.set(m.Body, (handled.get(m.Body) || 0) + 1)
        return ms
      },
    }, () => handled.size === jobs.length)
    check(errors.length === 0, `consumer errors: ${errors.join('; ')}`)
    check(failedBatch, 'no batch held batch-7')
    for (const j of jobs) check(handled.get(j) === 1, `${j} handled ${handled.get(j)} times, want once`)
    await emptyQueue(sqs, many)
  })

  for (const u of [one, many]) await sqs.send(new DeleteQueueCommand({ QueueUrl: u }))
}

worker(parseArgs(process.argv.slice(2))).catch(err => {
  process.stderr.write(`${err && err.stack || err}\n`)
  process.exit(1)
})
