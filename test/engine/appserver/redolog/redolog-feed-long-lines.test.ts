import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {FeedEntry} from '../../../../src/engine/scanner/feed-entry.js'

import {RedologFeed, type RedologPosition} from '../../../../src/engine/appserver/redolog/redolog-feed.js'
import {RedologWriter} from '../../../helpers/redolog-writer.js'

const A = 'alice@example.com'

/** A contact whose metadata makes its line about `bytes` long. */
function bigContact(log: RedologWriter, item: string, bytes: number): number {
  return log.write(A, 'item.created', {
    item, type: 'contact', folder: '7', metadata: {note: 'x'.repeat(bytes)},
  })
}

async function readAll(feed: RedologFeed): Promise<Array<FeedEntry<RedologPosition>>> {
  const entries: Array<FeedEntry<RedologPosition>> = []
  for await (const batch of feed.read(null, new AbortController().signal)) entries.push(...batch)
  return entries
}

function summary(entries: Array<FeedEntry<RedologPosition>>): string[] {
  return entries.map(e => (e.kind === 'transaction' ? `seq ${e.transaction.seq}` : `error ${e.error.origin.source}:${e.error.origin.line}: ${e.error.reason}`))
}

/** The feed reads files a few MiB at a time: a line longer than that is one line all the same. */
describe('redolog feed: lines longer than one read', function () {
  this.timeout(20_000)
  let dir: string
  let log: RedologWriter

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cb-long-lines-'))
    log = new RedologWriter(path.join(dir, 'redolog'))
  })

  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('reads a 5 MiB line and the lines after it, in a rotated file and in the current one', async () => {
    log.write(A, 'account.created', {})
    bigContact(log, '1', 5 << 20)
    log.write(A, 'item.created', {item: '2', type: 'contact', folder: '7'})
    log.rotate()
    bigContact(log, '3', 5 << 20)
    log.write(A, 'item.created', {item: '4', type: 'contact', folder: '7'})
    const entries = await readAll(new RedologFeed(log.dir, {follow: false}))
    assert.deepEqual(summary(entries), ['seq 1', 'seq 2', 'seq 3', 'seq 4', 'seq 5'])
    const big = entries[1]
    assert.ok(big.kind === 'transaction' && JSON.stringify(big.transaction.data).length > 5 << 20)
  })

  it('reports a line longer than the limit with file, line and reason, and reads the lines after it', async () => {
    log.write(A, 'account.created', {})
    bigContact(log, '1', 3000)
    log.write(A, 'item.created', {item: '2', type: 'contact', folder: '7'})
    const entries = await readAll(new RedologFeed(log.dir, {follow: false, maxLineBytes: 2048}))
    const file = path.basename(log.file)
    assert.deepEqual(summary(entries), [
      'seq 1',
      `error ${file}:2: line longer than 2048 bytes: not read`,
      'error ' + file + ':3: sequence gap: seq 2 missing before this line; every account needs a SmartScan',
      'seq 3',
    ])
    const error = entries[1]
    assert.ok(error.kind === 'error' && error.error.scope === 'all')
    assert.ok(error.kind === 'error' && error.error.raw!.length < 2048, 'the raw line kept is only its beginning')
  })
})
