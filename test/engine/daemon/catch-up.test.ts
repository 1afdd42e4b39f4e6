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
})
