import assert from 'node:assert/strict'
import path from 'node:path'

import {UserError} from '../../../src/engine/errors.js'
import {readItemContent} from '../../../src/engine/history/item-content.js'
import {itemHistory} from '../../../src/engine/history/item-history.js'
import {contentUnavailableReason, type ItemRevision} from '../../../src/engine/history/item-revision.js'
import {searchItems} from '../../../src/engine/history/item-search.js'
import {likePattern} from '../../../src/engine/history/search-pattern.js'
import {
  ALICE, buildScenarioBackup, catchUp, MINUTE, type Scenario, sha256, T0,
} from '../../helpers/history-scenario.js'
import {RedologWriter} from '../../helpers/redolog-writer.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

describe('likePattern: search text as a LIKE pattern over the metadata JSON', () => {
  it('escapes the wildcards and the escape character, lower-cases and JSON-encodes quotes', () => {
    assert.equal(likePattern('A%b_C!'), '%a!%b!_c!!%')
    assert.equal(likePattern('say "Hi"'), String.raw`%say \"hi\"%`)
  })

  it('turns every non-ASCII character into one any-character wildcard (SQLite folds only ASCII)', () => {
    assert.equal(likePattern('MÜLLER'), '%m_ller%')
  })
})

for (const dialect of DIALECTS) {
  describe(`item history and search (${dialect})`, () => {
    let t: TestCatalog
    let scenario: Scenario

    before(async () => {
      ({scenario, t} = await buildScenarioBackup(dialect))
    })

    after(async () => {
      await t.cleanup()
    })

    it('lists every state of an item with its interval, operation, folder path then, flags and content', async () => {
      const history = await itemHistory(t.catalog, ALICE, '257', {kind: 'all'})
      assert.equal(history.type, 'message')
      assert.equal(history.totalStates, 4)
      assert.deepEqual(history.states.map(s => [s.operation, s.validFrom - T0, s.validTo === null ? null : s.validTo - T0, s.folder, s.folderPath, s.flags, s.deleted, s.seq]), [
        ['item.created', MINUTE, 2 * MINUTE, '2', '/Inbox', [], false, scenario.seqs.create257],
        ['item.flags', 2 * MINUTE, 3 * MINUTE, '2', '/Inbox', [String.raw`\Flagged`, String.raw`\Seen`], false, scenario.seqs.flags257],
        ['item.moved', 3 * MINUTE, 7 * MINUTE, '5', '/Archive', [String.raw`\Flagged`, String.raw`\Seen`], false, scenario.seqs.move257],
        ['item.deleted', 7 * MINUTE, null, '5', '/Archive', [String.raw`\Flagged`, String.raw`\Seen`], true, scenario.seqs.delete257],
      ])
      assert.ok(history.states.every(s => s.blobDigest === sha256(scenario.contents.lunch) && s.size === scenario.contents.lunch.length && s.contentStored))
      assert.deepEqual(history.states[0].metadata, {subject: 'Lunch?', from: 'bob@example.com'})
    })

    it('selects the state valid at a time, the first, and the current (deleted) one', async () => {
      const at = await itemHistory(t.catalog, ALICE, '257', {kind: 'at', at: T0 + (3 * MINUTE) - 1})
      assert.deepEqual(at.states.map(s => s.operation), ['item.flags'])
      assert.equal(at.selection, '2026-11-01T10:02:59.999Z')
      assert.deepEqual((await itemHistory(t.catalog, ALICE, '257', {kind: 'first'})).states.map(s => s.operation), ['item.created'])
      const last = await itemHistory(t.catalog, ALICE, '257', {kind: 'last'})
      assert.deepEqual(last.states.map(s => [s.operation, s.deleted]), [['item.deleted', true]])
      const renamed = await itemHistory(t.catalog, ALICE, '258', {kind: 'all'})
      assert.deepEqual(renamed.states.map(s => [s.operation, s.folderPath]), [['item.created', '/Projects/Sub'], ['folder.emptied', '/Clients/Sub']])
      // At a date, the folder as it was named then: the created state outlived the rename of T0+4m.
      const afterRename = await itemHistory(t.catalog, ALICE, '258', {kind: 'at', at: T0 + (4 * MINUTE) + 1})
      assert.deepEqual(afterRename.states.map(s => [s.operation, s.folderPath]), [['item.created', '/Clients/Sub']])
      const beforeRename = await itemHistory(t.catalog, ALICE, '258', {kind: 'at', at: T0 + (4 * MINUTE) - 1})
      assert.deepEqual(beforeRename.states.map(s => [s.operation, s.folderPath]), [['item.created', '/Projects/Sub']])
    })

    it('refuses a time before the item existed, an unknown item and an unknown account, saying what to do', async () => {
      await assert.rejects(itemHistory(t.catalog, ALICE, '257', {kind: 'at', at: T0}), (error: Error) =>
        error instanceof UserError && /did not exist yet at 2026-11-01T10:00:00.000Z: its history starts at 2026-11-01T10:01:00.000Z/.test(error.message))
      await assert.rejects(itemHistory(t.catalog, ALICE, '999', {kind: 'last'}), /item 999 of alice@example.com is not in the backup/)
      await assert.rejects(itemHistory(t.catalog, 'alice@exampel.com', '257', {kind: 'last'}), /account alice@exampel.com is not in the backup \(did you mean alice@example.com\?\)/)
    })

    it('reads the exact bytes of a state, and says why when they are not in the backup', async () => {
      const history = await itemHistory(t.catalog, ALICE, '257', {kind: 'first'})
      assert.deepEqual(await readItemContent(t.catalog, history, history.states[0], 'mail1'), scenario.contents.lunch)
      const gone = await itemHistory(t.catalog, ALICE, '259', {kind: 'last'})
      assert.equal(gone.states[0].contentMissing, true)
      await assert.rejects(readItemContent(t.catalog, gone, gone.states[0], 'mail1'), /cannot dump the content of item 259 .*gone on the AppServer/)
      const appointment = await itemHistory(t.catalog, ALICE, '304', {kind: 'last'})
      await assert.rejects(readItemContent(t.catalog, appointment, appointment.states[0], 'mail1'), /the item has no content/)
    })

    it('does not blame blobless mode alone for a content not stored: doCoherencyCheck fixBackup also marks a missing or corrupt blob so', () => {
      const revision = {blobDigest: 'a'.repeat(64), contentMissing: false, contentStored: false} as ItemRevision
      const reason = contentUnavailableReason(revision)!
      assert.match(reason, /blobless mode/)
      assert.match(reason, /doCoherencyCheck fixBackup found its file missing or corrupt/)
    })

    async function ids(search: Parameters<typeof searchItems>[2]): Promise<string[]> {
      return (await searchItems(t.catalog, ALICE, search)).matches.map(m => m.id)
    }

    it('searches metadata values case-insensitively, with the deleted filters', async () => {
      assert.deepEqual(await ids({text: 'LUNCH'}), ['257', '303'])
      assert.deepEqual(await ids({text: 'lunch', filter: 'not_deleted'}), ['303'])
      assert.deepEqual(await ids({text: 'lunch', filter: 'deleted'}), ['257'])
      assert.deepEqual(await ids({filter: 'deleted'}), ['257', '258'])
      assert.deepEqual(await ids({text: 'bob@EXAMPLE'}), ['257', '303'])
      const deleted = (await searchItems(t.catalog, ALICE, {text: 'quarterly'})).matches[0]
      assert.equal(deleted.deletedAt, T0 + (5 * MINUTE))
      assert.equal(deleted.folderPath, '/Clients/Sub')
    })

    it('matches non-ASCII text ignoring case, quotes and literal wildcards, and values but not keys', async () => {
      assert.deepEqual(await ids({text: 'zoë müller'.split(' ')[0]}), ['300'])
      assert.deepEqual(await ids({text: 'MÜLLER'}), ['300'])
      assert.deepEqual(await ids({text: 'said "HI"'}), ['301'])
      assert.deepEqual(await ids({text: '100%'}), ['302'])
      assert.deepEqual(await ids({text: '1%d'}), [])
      assert.deepEqual(await ids({text: 'subject'}), [], 'a key is not a value')
    })

    it('filters by type and creation time, and stops at the limit', async () => {
      assert.deepEqual(await ids({type: 'contact'}), ['300'])
      assert.deepEqual(await ids({type: 'appointment'}), ['304'])
      assert.deepEqual(await ids({after: T0 + (1.5 * MINUTE)}), ['303', '259', '304'])
      assert.deepEqual(await ids({after: T0 + (1.5 * MINUTE), before: T0 + (8 * MINUTE)}), ['303', '259'])
      assert.deepEqual(await ids({before: T0 + (1.5 * MINUTE), type: 'message'}), ['257', '258', '301', '302'])
      const limited = await searchItems(t.catalog, ALICE, {type: 'message', limit: 2})
      assert.equal(limited.matches.length, 2)
      assert.equal(limited.truncated, true)
      assert.equal((await searchItems(t.catalog, ALICE, {type: 'message', limit: 6})).truncated, false)
    })

    it('refuses limit 0 and an after that is not before before, instead of answering 0 items', async () => {
      await assert.rejects(searchItems(t.catalog, ALICE, {limit: 0}), (error: UserError) => error.exitCode === 2 && /limit must be 1 or more/.test(error.message))
      const refusal = /after \(.+\) must be earlier than before \(.+\)/
      await assert.rejects(searchItems(t.catalog, ALICE, {after: T0 + MINUTE, before: T0}), (error: UserError) => error.exitCode === 2 && refusal.test(error.message))
      await assert.rejects(searchItems(t.catalog, ALICE, {after: T0, before: T0}), refusal)
    })
  })
}

for (const dialect of DIALECTS) {
  describe(`item search by when items came into the mailbox (${dialect})`, () => {
    const DAVE = 'dave@example.com'
    const JANUARY = Date.parse('2026-01-10T08:30:00.250Z')
    let t: TestCatalog

    before(async () => {
      t = await openTestCatalog(dialect)
      const log = new RedologWriter(path.join(t.home, 'redolog-dave'))
      const message = (item: string, metadata: Record<string, unknown>) => {
        const content = Buffer.from(`Subject: ${item}\r\n\r\n${item}\r\n`)
        log.write(DAVE, 'item.created', {
          item, type: 'message', folder: '2', metadata, content: {inline: content.toString('base64'), size: content.length, digest: sha256(content)},
        }, T0 + MINUTE)
      }

      log.write(DAVE, 'account.created', {id: 'dave-1', cos: 'default'}, T0)
      log.write(DAVE, 'folder.created', {
        folder: '2', parent: '1', path: '/Inbox', view: 'message',
      }, T0)
      // All first seen by the backup at T0+1m (November), as a first SmartScan sees a mailbox's older mail.
      // Ids against the order of arrival: the listing's order must come from the dates, not the ids.
      message('1', {subject: 'March', internalDate: '2026-03-01T00:00:00Z'})
      message('2', {subject: 'January', internalDate: new Date(JANUARY).toISOString()})
      message('3', {subject: 'no internal date'})
      // Not an ISO 8601 UTC time: neither dialect guesses, the item counts from when the backup saw it.
      message('4', {subject: 'a number', internalDate: 2_460_000})
      message('5', {subject: 'garbled', internalDate: 'yesterday'})
      await catchUp(t.catalog, log)
    })

    after(async () => {
      await t.cleanup()
    })

    async function found(search: Parameters<typeof searchItems>[2]): Promise<Array<[string, number]>> {
      return (await searchItems(t.catalog, DAVE, search)).matches.map(m => [m.id, m.arrivedAt])
    }

    it('compares after and before with a message\'s internal date, and with first seen for the rest', async () => {
      const seen = T0 + MINUTE
      assert.deepEqual(await found({after: Date.parse('2026-01-01T00:00:00Z'), before: Date.parse('2026-02-01T00:00:00Z')}), [['2', JANUARY]])
      assert.deepEqual(await found({before: Date.parse('2026-06-01T00:00:00Z')}), [['2', JANUARY], ['1', Date.parse('2026-03-01T00:00:00Z')]])
      assert.deepEqual(await found({after: T0}), [['3', seen], ['4', seen], ['5', seen]])
      assert.deepEqual(await found({after: JANUARY, before: JANUARY + 1}), [['2', JANUARY]], 'to the millisecond, after inclusive')
      assert.deepEqual(await found({after: JANUARY + 1, before: Date.parse('2026-02-01T00:00:00Z')}), [], 'before exclusive')
    })

    it('lists oldest arrival first and keeps when the backup first saw each item', async () => {
      const {matches} = await searchItems(t.catalog, DAVE, {})
      assert.deepEqual(matches.map(m => m.id), ['2', '1', '3', '4', '5'])
      for (const match of matches) assert.equal(match.firstSeen, T0 + MINUTE)
    })
  })
}
