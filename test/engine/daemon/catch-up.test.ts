import assert from 'node:assert/strict'
import path from 'node:path'

import {setAttribute} from '../../../src/engine/config/config-store.js'
import {catchUpOnce} from '../../../src/engine/daemon/catch-up.js'
import {RedologWriter} from '../../helpers/redolog-writer.js'
import {openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

const SERVER = 'mail1.example.com'

describe('daemon once on the redolog feed', () => {
  let t: TestCatalog
  let log: RedologWriter

  beforeEach(async () => {
    t = await openTestCatalog('sqlite')
    log = new RedologWriter(path.join(t.home, 'redolog'))
    await setAttribute(t.catalog, {level: 'server', target: SERVER}, 'backupRedologPath', log.dir)
  })

  afterEach(async () => {
    await t.cleanup()
  })

  it('says at which seq the backup is when there is nothing new to apply', async () => {
    log.write('alice@example.com', 'account.created', {})
    log.write('alice@example.com', 'item.created', {item: '1', type: 'contact', folder: '7'})
    const first = await catchUpOnce(t.catalog, SERVER, new AbortController().signal)
    assert.ok('lastSeq' in first)
    assert.equal(first.lastSeq, 2)
    const again = await catchUpOnce(t.catalog, SERVER, new AbortController().signal)
    assert.ok('lastSeq' in again)
    assert.equal(again.transactions, 0)
    assert.equal(again.lastSeq, 2)
  })

  it('two servers sharing the catalog each follow their own redolog from their own position', async () => {
    const other = new RedologWriter(path.join(t.home, 'redolog-b'))
    await setAttribute(t.catalog, {level: 'server', target: 'mail2.example.com'}, 'backupRedologPath', other.dir)
    log.write('alice@example.com', 'account.created', {})
    log.write('alice@example.com', 'item.created', {item: '1', type: 'contact', folder: '7'})
    log.write('alice@example.com', 'item.created', {item: '2', type: 'contact', folder: '7'})
    other.write('bob@example.com', 'account.created', {})
    other.write('bob@example.com', 'item.created', {item: '1', type: 'contact', folder: '7'})
    const a = await catchUpOnce(t.catalog, SERVER, new AbortController().signal)
    const b = await catchUpOnce(t.catalog, 'mail2.example.com', new AbortController().signal)
    assert.ok('lastSeq' in a && 'lastSeq' in b)
    assert.deepEqual([a.transactions, a.lastSeq], [3, 3])
    // It used to resume from mail1's position (seq 3) and apply nothing of its own two lines.
    assert.deepEqual([b.transactions, b.lastSeq], [2, 2])
    assert.ok(await t.catalog.db('accounts').where({name: 'bob@example.com'}).first())
    log.write('alice@example.com', 'item.created', {item: '3', type: 'contact', folder: '7'})
    const again = await catchUpOnce(t.catalog, SERVER, new AbortController().signal)
    assert.ok('lastSeq' in again)
    assert.deepEqual([again.transactions, again.lastSeq], [1, 4])
  })

  it("takes over the position a catalog kept under scope '' before checkpoints were per server", async () => {
    log.write('alice@example.com', 'account.created', {})
    log.write('alice@example.com', 'item.created', {item: '1', type: 'contact', folder: '7'})
    await catchUpOnce(t.catalog, SERVER, new AbortController().signal)
    await t.catalog.db('checkpoints').where({connector: 'redolog'}).update({scope: ''})
    log.write('alice@example.com', 'item.created', {item: '2', type: 'contact', folder: '7'})
    const next = await catchUpOnce(t.catalog, SERVER, new AbortController().signal)
    assert.ok('lastSeq' in next)
    assert.deepEqual([next.transactions, next.lastSeq], [1, 3])
    assert.deepEqual(await t.catalog.db('checkpoints').where({connector: 'redolog'}).pluck('scope'), [SERVER])
  })
})
