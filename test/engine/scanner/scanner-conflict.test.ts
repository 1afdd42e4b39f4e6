import assert from 'node:assert/strict'
import path from 'node:path'

import type {Transaction} from '../../../src/engine/appserver/transaction.js'

import {RedologFeed} from '../../../src/engine/appserver/redolog/redolog-feed.js'
import {BlobStore} from '../../../src/engine/blobstore/blob-store.js'
import {ScannerConflict} from '../../../src/engine/scanner/checkpoints.js'
import {runScanner} from '../../../src/engine/scanner/realtime-scanner.js'
import {TransactionApplier} from '../../../src/engine/scanner/transaction-applier.js'
import {RedologWriter} from '../../helpers/redolog-writer.js'
import {openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

describe('one Realtime Scanner per feed', () => {
  let t: TestCatalog

  beforeEach(async () => {
    t = await openTestCatalog('sqlite')
  })

  afterEach(async () => {
    await t.cleanup()
  })

  it('fails the batch of a second scanner that read the same checkpoint, applying nothing twice', async () => {
    const log = new RedologWriter(path.join(t.home, 'redolog'))
    log.write('alice@example.com', 'account.created', {})
    log.write('alice@example.com', 'item.created', {item: '1', type: 'contact', folder: '7'})
    const scan = () => runScanner({
      catalog: t.catalog, server: 'mail1', feed: new RedologFeed(log.dir, {follow: false}), signal: new AbortController().signal,
    })
    const results = await Promise.allSettled([scan(), scan()])
    const failures = results.filter(r => r.status === 'rejected')
    assert.equal(failures.length, 1, 'exactly one scanner wins')
    assert.ok((failures[0] as PromiseRejectedResult).reason instanceof ScannerConflict)
    assert.equal(Number((await t.catalog.db('item_revisions').count({n: '*'}))[0].n), 1)
    assert.equal(Number((await t.catalog.db('account_revisions').count({n: '*'}))[0].n), 1)
  })

  it('rolls back, to be read again, a batch naming a large IMAP message whose blob a purge removed since it was stored', async () => {
    // A large message is stored as it arrives and its bytes are not kept (imap-account-feed.ts): if its blob is gone
    // when the batch commits, nothing can store it again from memory. Here the blob was never there at all.
    const digest = 'd'.repeat(64)
    const transactions: Transaction[] = [
      {
        seq: 1, time: Date.now(), account: 'alice@example.com', op: 'account.created', data: {}, origin: {source: 'imap alice@example.com'},
      },
      {
        seq: 2, time: Date.now(), account: 'alice@example.com', op: 'item.created', origin: {source: 'imap alice@example.com'}, data: {
          item: '1', type: 'message', folder: '2', flags: [], tags: [], metadata: {}, content: {
            digest, size: 6_000_000, storedSize: 4_500_000, locator: 'INBOX/7/1',
          },
        },
      },
    ]
    const applier = new TransactionApplier({
      catalog: t.catalog, blobs: new BlobStore(t.home), feed: {connector: 'imap', scope: 'alice@example.com', resolveContentPath: p => p}, blobless: () => false,
    }, null)
    await assert.rejects(applier.apply(transactions.map(transaction => ({kind: 'transaction', transaction, position: {seq: transaction.seq}}))), (error: Error) => {
      assert.ok(error instanceof ScannerConflict)
      assert.match(error.message, new RegExp(`blob ${digest} was purged while a batch that names it was being written: INBOX/7/1 is read again`))
      return true
    })
    assert.equal(Number((await t.catalog.db('item_revisions').count({n: '*'}))[0].n), 0)
    assert.equal(Number((await t.catalog.db('blobs').count({n: '*'}))[0].n), 0)
    assert.equal(await t.catalog.db('checkpoints').first(), undefined)
  })
})
