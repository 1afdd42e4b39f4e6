import assert from 'node:assert/strict'

import {loadLiveItemsAtPlaces, loadLiveItemsInFolders, openRevisionsInFolders} from '../../../src/engine/scanner/item-rows.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

interface Revision {
  item: string
  folder: string
  from: number
  to?: number
  deleted?: boolean
  locator?: string
}

for (const dialect of DIALECTS) {
  describe(`the open revisions of an account's folders (${dialect})`, () => {
    let t: TestCatalog
    let accountId: number

    beforeEach(async () => {
      t = await openTestCatalog(dialect)
      accountId = await seed(t, 'a@example.com', [
        {
          item: 'kept', folder: 'INBOX', from: 1, to: 2, locator: 'imap:7/1',
        },
        {
          item: 'kept', folder: 'INBOX', from: 2, locator: 'imap:7/1',
        },
        {
          item: 'moved-away', folder: 'INBOX', from: 1, to: 3,
        },
        {item: 'moved-away', folder: 'Archive', from: 3},
        {
          item: 'moved-in', folder: 'Sent', from: 1, to: 4,
        },
        {
          item: 'moved-in', folder: 'INBOX', from: 4, locator: 'imap:7/9',
        },
        {
          item: 'deleted', folder: 'INBOX', from: 1, to: 5,
        },
        {
          item: 'deleted', folder: 'INBOX', from: 5, deleted: true,
        },
      ])
      // The same folder and item names in another account are not this account's.
      await seed(t, 'b@example.com', [{
        item: 'kept', folder: 'INBOX', from: 1, locator: 'imap:7/1',
      }])
    })

    afterEach(() => t.cleanup())

    it('are the live items whose newest state is in those folders, read whole', async () => {
      const states = await t.catalog.db.transaction(trx => loadLiveItemsInFolders(trx, accountId, ['INBOX']))
      assert.deepEqual(states.map(s => [s.remoteId, s.current!.folder, s.current!.validFrom]).sort(), [['kept', 'INBOX', 2], ['moved-in', 'INBOX', 4]])
      const places = await loadLiveItemsAtPlaces(t.catalog.db, accountId, [{folder: 'INBOX', placePrefix: 'imap:7/', locators: ['imap:7/9']}])
      assert.equal(places.get('INBOX')!.placed, 2)
      assert.deepEqual(places.get('INBOX')!.states.map(s => s.remoteId), ['moved-in'])
    })

    if (dialect === 'sqlite') {
      it('are found in the index of open revisions alone, without reading a revision row', async () => {
        const query = openRevisionsInFolders(t.catalog.db, accountId, ['INBOX', 'Archive']).toSQL()
        const rows: Array<{detail: string}> = await t.catalog.db.raw(`EXPLAIN QUERY PLAN ${query.sql}`, query.bindings as Array<number | string>)
        const plan = rows.map(row => row.detail).join(' | ')
        assert.match(plan, /COVERING INDEX item_revisions_open/)
        assert.doesNotMatch(plan, /SCAN r\b/)
      })
    }
  })
}

async function seed(t: TestCatalog, account: string, revisions: Revision[]): Promise<number> {
  const {db} = t.catalog
  const [{id: accountId}] = await db('accounts').insert({name: account, first_seen: 1}).returning('id')
  const ids = new Map<string, number>()
  for (const r of revisions) {
    if (!ids.has(r.item)) {
      const [{id}] = await db('items').insert({
        account_id: accountId, remote_id: r.item, type: 'message', first_seen: r.from,
      }).returning('id')
      ids.set(r.item, Number(id))
    }

    await db('item_revisions').insert({
      item_id: ids.get(r.item), valid_from: r.from, valid_to: r.to ?? null, operation: 'item.created', folder_remote_id: r.folder,
      flags: '[]', tags: '[]', metadata: '{}', locator: r.locator ?? null, deleted: r.deleted ?? false,
    })
  }

  return Number(accountId)
}
