import assert from 'node:assert/strict'

import type {ItemAt} from '../../../src/engine/history/state-at.js'

import {appendGroups} from '../../../src/engine/restore/append-groups.js'
import {BATCH_BYTES, BATCH_MESSAGES} from '../../../src/engine/restore/imap-restore-target.js'

const item = (id: number, size: null | number): ItemAt => ({id: String(id), size} as ItemAt)

async function collect<T>(values: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const value of values) all.push(value)
  return all
}

describe('appendGroups', () => {
  it('cuts each folder into groups of one MULTIAPPEND, by count and by recorded size, folder after folder', async () => {
    const many = Array.from({length: (BATCH_MESSAGES * 2) + 1}, (_, i) => item(i, 1000))
    const large = [item(1, BATCH_BYTES / 2), item(2, BATCH_BYTES / 2), item(3, 1), item(4, null), item(5, BATCH_BYTES * 2)]
    const groups = await collect(appendGroups([{path: '/INBOX', items: many}, {path: '/Empty', items: []}, {path: '/Large', items: large}]))
    assert.deepEqual(groups.map(g => [g.path, g.items.length, g.first, g.last]), [
      ['/INBOX', BATCH_MESSAGES, true, false],
      ['/INBOX', BATCH_MESSAGES, false, false],
      ['/INBOX', 1, false, true],
      // A folder without items is still one group, so that it is created.
      ['/Empty', 0, true, true],
      ['/Large', 2, true, false],
      // One of unknown size counts as nothing; one larger than a batch goes alone.
      ['/Large', 2, false, false],
      ['/Large', 1, false, true],
    ])
    assert.deepEqual(groups.flatMap(g => (g.path === '/INBOX' ? g.items : [])), many)
  })
})
