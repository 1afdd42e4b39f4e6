import assert from 'node:assert/strict'

import {type HistoryTime} from '../../../src/engine/history/history-time.js'
import {type ItemAt, stateAt} from '../../../src/engine/history/state-at.js'
import {
  ALICE, BOB, buildScenarioBackup, CAROL, MINUTE, type Scenario, sha256, T0,
} from '../../helpers/history-scenario.js'
import {DIALECTS, type TestCatalog} from '../../helpers/test-catalog.js'

for (const dialect of DIALECTS) {
  describe(`stateAt: an account at a point in time (${dialect})`, () => {
    let t: TestCatalog
    let scenario: Scenario

    before(async () => {
      ({scenario, t} = await buildScenarioBackup(dialect))
    })

    after(async () => {
      await t.cleanup()
    })

    async function items(account: string, at: HistoryTime, pageSize?: number): Promise<ItemAt[]> {
      const state = await stateAt(t.catalog, account, at)
      const all: ItemAt[] = []
      for await (const item of state.items({pageSize})) all.push(item)
      return all
    }

    /** id -> [folder, folderPath, flags] of the live items. */
    async function summary(at: HistoryTime): Promise<Record<string, [null | string, string, string[]]>> {
      return Object.fromEntries((await items(ALICE, at)).map(i => [i.id, [i.folder, i.folderPath, i.flags]]))
    }

    it('has no state before the account was created', async () => {
      const state = await stateAt(t.catalog, ALICE, T0 - 1)
      assert.equal(state.exists, false)
      assert.match(state.absence!, /did not exist yet at 2026-11-01T09:59:59.999Z/)
      assert.deepEqual(state.folders, [])
      assert.deepEqual(await items(ALICE, T0 - 1), [])
    })

    it('has the folders and no items at creation, and the items from the moment they were created', async () => {
      const state = await stateAt(t.catalog, ALICE, T0)
      assert.equal(state.exists, true)
      assert.deepEqual(state.folders.map(f => [f.id, f.path, f.parent, f.view]), [
        ['5', '/Archive', '1', 'message'],
        ['7', '/Contacts', '1', 'contact'],
        ['2', '/Inbox', '1', 'message'],
        ['20', '/Projects', '1', 'message'],
        ['21', '/Projects/Sub', '20', 'message'],
      ])
      assert.deepEqual(await items(ALICE, T0 + MINUTE - 1), [])
      assert.deepEqual(await summary(T0 + MINUTE), {
        257: ['2', '/Inbox', []],
        258: ['21', '/Projects/Sub', [String.raw`\Seen`]],
        300: ['7', '/Contacts', []],
        301: ['2', '/Inbox', ['$Forwarded', String.raw`\Answered`, String.raw`\Draft`]],
        302: ['2', '/Inbox', []],
      })
    })

    it('shows a flag change from its time on, a move, a copy and a renamed parent folder', async () => {
      const justBefore = await summary(T0 + (2 * MINUTE) - 1)
      assert.deepEqual(justBefore['257'], ['2', '/Inbox', []])
      assert.deepEqual(justBefore['303'], ['5', '/Archive', []], 'the copy exists from T0+90s with the flags of its source then')
      assert.deepEqual((await summary(T0 + (2 * MINUTE)))['257'], ['2', '/Inbox', [String.raw`\Flagged`, String.raw`\Seen`]])
      assert.deepEqual((await summary(T0 + (3 * MINUTE)))['257'], ['5', '/Archive', [String.raw`\Flagged`, String.raw`\Seen`]])
      assert.deepEqual((await summary(T0 + (4 * MINUTE) - 1))['258'], ['21', '/Projects/Sub', [String.raw`\Seen`]])
      const renamed = await stateAt(t.catalog, ALICE, T0 + (4 * MINUTE))
      assert.deepEqual(renamed.folders.filter(f => f.id === '20' || f.id === '21').map(f => f.path), ['/Clients', '/Clients/Sub'])
      assert.deepEqual((await summary(T0 + (4 * MINUTE)))['258'], ['21', '/Clients/Sub', [String.raw`\Seen`]])
    })

    it('drops the items of an emptied folder, keeps the folder, and drops a deleted item', async () => {
      const emptied = await summary(T0 + (5 * MINUTE))
      assert.equal(emptied['258'], undefined)
      assert.ok(emptied['257'])
      assert.ok((await stateAt(t.catalog, ALICE, T0 + (5 * MINUTE))).folders.some(f => f.id === '21' && f.path === '/Clients/Sub'))
      assert.equal((await summary(T0 + (7 * MINUTE) - 1))['257'][1], '/Archive')
      assert.equal((await summary(T0 + (7 * MINUTE)))['257'], undefined)
    })

    it('returns the current state for last, with content facts and system folder names', async () => {
      const last = await items(ALICE, 'last')
      assert.deepEqual(last.map(i => i.id), ['259', '300', '301', '302', '303', '304'])
      const byId = new Map(last.map(i => [i.id, i]))
      assert.equal(byId.get('259')!.contentMissing, true)
      assert.equal(byId.get('259')!.contentStored, false)
      assert.equal(byId.get('303')!.blobDigest, sha256(scenario.contents.lunch))
      assert.equal(byId.get('303')!.size, scenario.contents.lunch.length)
      assert.equal(byId.get('303')!.contentStored, true)
      assert.equal(byId.get('303')!.operation, 'item.copied')
      assert.equal(byId.get('304')!.folderPath, '/Calendar', 'Carbonio system folder 10, never announced')
      assert.equal(byId.get('304')!.blobDigest, null)
      assert.deepEqual(byId.get('300')!.metadata, {firstName: 'ZOË', lastName: 'Müller', email: 'zoe@example.org'})
      assert.equal(byId.get('300')!.type, 'contact')
      assert.equal(byId.get('300')!.firstSeen, T0 + MINUTE)
    })

    it('pages through the items: the same items whatever the page size', async () => {
      const whole = await items(ALICE, 'last')
      assert.deepEqual(await items(ALICE, 'last', 1), whole)
      assert.deepEqual(await items(ALICE, 'last', 2), whole)
      assert.deepEqual((await items(ALICE, T0 + (2 * MINUTE), 1)).map(i => i.id), ['257', '258', '300', '301', '302', '303'])
    })

    it('has no live state after the account was deleted, and its state before', async () => {
      const before = await stateAt(t.catalog, BOB, T0 + (10 * MINUTE) - 1)
      assert.equal(before.exists, true)
      assert.deepEqual((await items(BOB, T0 + (10 * MINUTE) - 1)).map(i => [i.id, i.folderPath]), [['1', '/Inbox']])
      for (const at of [T0 + (10 * MINUTE), 'last'] as HistoryTime[]) {
        const state = await stateAt(t.catalog, BOB, at)
        assert.equal(state.exists, false)
        assert.equal(state.account.deletedAt, T0 + (10 * MINUTE))
        assert.match(state.absence!, /was deleted at 2026-11-01T10:10:00.000Z; its last state is at date 2026-11-01T10:09:59.999Z/)
        assert.deepEqual(await items(BOB, at), [])
      }
    })

    it('reads an address deleted and created again as the account that had it at that time', async () => {
      const old = await stateAt(t.catalog, CAROL, T0 + (MINUTE / 2))
      assert.equal(old.exists, true)
      assert.equal(old.account.remoteId, 'carol-1')
      assert.match(old.account.name, /^carol@example\.com#deleted-/)
      assert.deepEqual(await items(CAROL, T0 + (MINUTE / 2)), [])
      const current = await stateAt(t.catalog, CAROL, 'last')
      assert.equal(current.account.remoteId, 'carol-2')
      assert.deepEqual((await items(CAROL, 'last')).map(i => [i.id, i.type, i.folderPath]), [['1', 'contact', '/Contacts']])
    })
  })
}
