import assert from 'node:assert/strict'

import type {AccountEntry} from '../../../src/engine/history/account-lookup.js'
import type {ProgressEvent} from '../../../src/engine/progress.js'

import {reportService} from '../../../src/engine/daemon/services.js'
import {checkSource} from '../../../src/engine/restore/source-check.js'
import {openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

const SERVER = 'mail.example.com'

describe('the check of a source account before a restore or an export', () => {
  let t: TestCatalog

  beforeEach(async () => {
    t = await openTestCatalog('sqlite')
  })

  afterEach(() => t.cleanup())

  async function warnings(): Promise<string[]> {
    const events: ProgressEvent[] = []
    const [{id}] = await t.catalog.db('accounts').insert({name: 'ann@example.com', first_seen: 1}).returning('id')
    const account = {key: Number(id), name: 'ann@example.com'} as AccountEntry
    const check = await checkSource({
      catalog: t.catalog, server: SERVER, uuid: 'u', signal: new AbortController().signal, progress: event => events.push(event),
    }, account)
    assert.deepEqual([check.uncertain, check.scanned], [false, false])
    return events.flatMap(event => (event.kind === 'warning' ? [event.message] : []))
  }

  it('says nothing when no daemon ever ran here, while its Realtime Scanner follows, or when it has no feed to follow', async () => {
    assert.deepEqual(await warnings(), [])
    for (const state of ['running', 'idle'] as const) {
      await reportService(t.catalog, SERVER, {name: 'backup-realtime', state, detail: {}})
      await t.catalog.db('accounts').delete()
      assert.deepEqual(await warnings(), [], state)
    }
  })

  it('warns that changes may be missing when the daemon stopped or its scanner is switched off', async () => {
    const stoppedAt = Date.now() - 3_600_000
    await reportService(t.catalog, SERVER, {name: 'backup-realtime', state: 'running', detail: {}}, stoppedAt)
    const [stopped] = await warnings()
    assert.equal(stopped, `the Realtime Scanner is stopped since ${new Date(stoppedAt).toISOString()}: changes since then may be missing from the backup; start the backup daemon to catch up first`)

    await reportService(t.catalog, SERVER, {name: 'backup-realtime', state: 'disabled', detail: {offSince: '2026-11-27T09:00:00.000Z'}})
    await t.catalog.db('accounts').delete()
    assert.match((await warnings())[0], /^the Realtime Scanner is disabled since 2026-11-27T09:00:00.000Z: changes since then may be missing/)
  })

  it('on a shared catalog, judges by the server that follows the account, not the one the command runs on', async () => {
    // This server's scanner runs; the account belongs to mail2, whose daemon stopped an hour ago.
    await reportService(t.catalog, SERVER, {name: 'backup-realtime', state: 'running', detail: {}})
    const stoppedAt = Date.now() - 3_600_000
    await reportService(t.catalog, 'mail2.example.com', {name: 'backup-realtime', state: 'running', detail: {}}, stoppedAt)
    const [{id}] = await t.catalog.db('accounts').insert({name: 'bob@example.com', first_seen: 1, server: 'mail2.example.com'}).returning('id')
    const events: ProgressEvent[] = []
    await checkSource({
      catalog: t.catalog, server: SERVER, uuid: 'u', signal: new AbortController().signal, progress: event => events.push(event),
    }, {key: Number(id), name: 'bob@example.com'} as AccountEntry)
    assert.deepEqual(events.flatMap(event => (event.kind === 'warning' ? [event.message] : [])), [
      `the Realtime Scanner of mail2.example.com is stopped since ${new Date(stoppedAt).toISOString()}: changes since then may be missing from the backup; start the backup daemon to catch up first`,
    ])
  })
})
