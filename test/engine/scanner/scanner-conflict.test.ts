import assert from 'node:assert/strict'
import path from 'node:path'

import {RedologFeed} from '../../../src/engine/appserver/redolog/redolog-feed.js'
import {ScannerConflict} from '../../../src/engine/scanner/checkpoints.js'
import {runScanner} from '../../../src/engine/scanner/realtime-scanner.js'
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
})
