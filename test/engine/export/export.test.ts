import assert from 'node:assert/strict'
import {
  mkdirSync, readdirSync, readFileSync, statSync, writeFileSync,
} from 'node:fs'
import path from 'node:path'

import type {PointInTime} from '../../../src/engine/point-in-time.js'
import type {ProgressEvent} from '../../../src/engine/progress.js'

import {reportService} from '../../../src/engine/daemon/services.js'
import {OperationAborted, UserError} from '../../../src/engine/errors.js'
import {exportAccounts, type ExportReport} from '../../../src/engine/export/export-accounts.js'
import {planExport} from '../../../src/engine/export/export-plan.js'
import {
  ALICE, BOB, buildScenarioBackup, CAROL, MINUTE, type Scenario, sha256, T0,
} from '../../helpers/history-scenario.js'
import {DIALECTS, type TestCatalog} from '../../helpers/test-catalog.js'

/** Every file under a directory, relative, sorted; directories end with '/'. */
function tree(dir: string): string[] {
  const out: string[] = []
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(dir, relative), {withFileTypes: true})) {
      const name = path.join(relative, entry.name)
      if (entry.isDirectory()) {
        out.push(`${name}/`)
        walk(name)
      } else {
        out.push(name)
      }
    }
  }

  walk('')
  return out.sort()
}

/** The message files of an exported Maildir, as "<maildir folder>/<item id>:<flags>". */
function messages(accountDir: string): string[] {
  return tree(path.join(accountDir, 'Maildir'))
  .filter(file => /\/?cur\/[^/]+$/.test(file))
  .map(file => {
    const match = /^(?:(\.[^/]+)\/)?cur\/\d+\.([^.]+)\.carbonio-backup:2,([A-Z]*)$/.exec(file)
    assert.ok(match, `unexpected message file name ${file}`)
    return `${match[1] ?? '(root)'}/${match[2]}:${match[3]}`
  })
  .sort()
}

const at = (minutes: number): PointInTime => ({kind: 'at', at: T0 + (minutes * MINUTE)})

for (const dialect of DIALECTS) {
  describe(`doExport engine: Maildir++ and JSON of accounts at a point in time (${dialect})`, () => {
    let t: TestCatalog
    let scenario: Scenario
    let target: string
    let events: ProgressEvent[]
    let runs = 0

    before(async () => {
      ({scenario, t} = await buildScenarioBackup(dialect))
    })

    after(async () => {
      await t.cleanup()
    })

    beforeEach(() => {
      target = path.join(t.home, 'exports', `run-${++runs}`)
      events = []
    })

    async function runExport(point: PointInTime, accounts?: string[], options: {force?: boolean; signal?: AbortSignal} = {}): Promise<ExportReport> {
      const plan = await planExport(t.catalog, {
        path: target, accounts, point, force: options.force,
      })
      return exportAccounts({
        catalog: t.catalog,
        uuid: '00000000-0000-0000-0000-000000000000',
        server: 'mail1',
        signal: options.signal ?? new AbortController().signal,
        progress: event => events.push(event),
      }, plan)
    }

    it('writes the Maildir tree, the other contents and the JSON files with private modes and exact bytes', async () => {
      const report = await runExport({kind: 'at', at: T0 + (2.5 * MINUTE)}, [ALICE])
      const dir = path.join(target, ALICE)
      const t1 = Math.floor((T0 + MINUTE) / 1000)
      const t90 = Math.floor((T0 + (1.5 * MINUTE)) / 1000)
      assert.deepEqual(tree(dir), [
        'Maildir/',
        'Maildir/.Archive/',
        'Maildir/.Archive/cur/',
        `Maildir/.Archive/cur/${t90}.303.carbonio-backup:2,`,
        'Maildir/.Archive/new/',
        'Maildir/.Archive/tmp/',
        'Maildir/.Projects.Sub/',
        'Maildir/.Projects.Sub/cur/',
        `Maildir/.Projects.Sub/cur/${t1}.258.carbonio-backup:2,S`,
        'Maildir/.Projects.Sub/new/',
        'Maildir/.Projects.Sub/tmp/',
        'Maildir/.Projects/',
        'Maildir/.Projects/cur/',
        'Maildir/.Projects/new/',
        'Maildir/.Projects/tmp/',
        'Maildir/cur/',
        `Maildir/cur/${t1}.257.carbonio-backup:2,FS`,
        `Maildir/cur/${t1}.301.carbonio-backup:2,DR`,
        `Maildir/cur/${t1}.302.carbonio-backup:2,`,
        'Maildir/new/',
        'Maildir/tmp/',
        'content/',
        'content/300',
        'folders.json',
        'items.ndjson',
        'manifest.json',
      ])
      assert.deepEqual(readFileSync(path.join(dir, `Maildir/cur/${t1}.257.carbonio-backup:2,FS`)), scenario.contents.lunch)
      assert.deepEqual(readFileSync(path.join(dir, `Maildir/.Projects.Sub/cur/${t1}.258.carbonio-backup:2,S`)), scenario.contents.report)
      assert.deepEqual(readFileSync(path.join(dir, 'content/300')), scenario.contents.vcard)
      assert.equal(statSync(path.join(dir, `Maildir/cur/${t1}.257.carbonio-backup:2,FS`)).mtimeMs, T0 + MINUTE, 'INTERNALDATE survives as mtime')
      for (const entry of [dir, path.join(dir, 'Maildir'), path.join(dir, 'Maildir/.Archive/cur'), path.join(dir, 'content')]) {
        assert.equal(statSync(entry).mode & 0o777, 0o700, entry)
      }

      for (const file of ['manifest.json', 'items.ndjson', 'folders.json', 'content/300', `Maildir/cur/${t1}.301.carbonio-backup:2,DR`]) {
        assert.equal(statSync(path.join(dir, file)).mode & 0o777, 0o600, file)
      }

      assert.deepEqual(readdirSync(target), [ALICE], 'no staging directory left behind')
      assert.equal(report.accounts[0].directory, dir)
      assert.deepEqual(report.totals, {
        accounts: 1, items: 6, messages: 5, bytes: report.accounts[0].bytes, missingContent: 0,
      })
    })

    it('lists every item of every type in items.ndjson, folders in folders.json, and counts in manifest.json', async () => {
      await runExport({kind: 'at', at: T0 + (2.5 * MINUTE)}, [ALICE])
      const dir = path.join(target, ALICE)
      const items = readFileSync(path.join(dir, 'items.ndjson'), 'utf8').trim().split('\n').map(line => JSON.parse(line))
      assert.deepEqual(items.map(i => [i.id, i.type, i.folderPath, i.flags]), [
        ['257', 'message', '/Inbox', [String.raw`\Flagged`, String.raw`\Seen`]],
        ['258', 'message', '/Projects/Sub', [String.raw`\Seen`]],
        ['300', 'contact', '/Contacts', []],
        ['301', 'message', '/Inbox', ['$Forwarded', String.raw`\Answered`, String.raw`\Draft`]],
        ['302', 'message', '/Inbox', []],
        ['303', 'message', '/Archive', []],
      ])
      const contact = items.find(i => i.id === '300')
      assert.deepEqual(contact.metadata, {firstName: 'ZOË', lastName: 'Müller', email: 'zoe@example.org'})
      assert.equal(contact.digest, sha256(scenario.contents.vcard))
      assert.equal(contact.size, scenario.contents.vcard.length)
      assert.equal(contact.file, 'content/300')
      assert.equal(contact.contentMissing, false)
      const folders = JSON.parse(readFileSync(path.join(dir, 'folders.json'), 'utf8'))
      assert.deepEqual(folders.map((f: any) => [f.id, f.path, f.maildir]), [
        ['5', '/Archive', 'Maildir/.Archive'],
        ['7', '/Contacts', null],
        ['2', '/Inbox', 'Maildir'],
        ['20', '/Projects', 'Maildir/.Projects'],
        ['21', '/Projects/Sub', 'Maildir/.Projects.Sub'],
      ])
      const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'))
      assert.equal(manifest.formatVersion, 1)
      assert.equal(manifest.account, ALICE)
      assert.equal(manifest.accountId, '7f3c2a10-alice')
      assert.deepEqual(manifest.pointInTime.at, '2026-11-01T10:02:30.000Z')
      assert.deepEqual(manifest.counts, {
        folders: 5, maildirFolders: 4, items: 6, byType: {message: 5, contact: 1}, messages: 5, contentFiles: 1, bytes: manifest.counts.bytes, missingContent: 0,
      })
      const c = scenario.contents
      assert.equal(manifest.counts.bytes, (2 * c.lunch.length) + c.report.length + c.vcard.length + c.quote.length + c.percent.length)
      assert.deepEqual(manifest.missingContent, [])
    })

    it('says clearly that an uncertain account needs a SmartScan: warning event, result and manifest', async () => {
      const report = await runExport({kind: 'last'}, [ALICE])
      const warnings = events.filter(e => e.kind === 'warning')
      assert.equal(warnings.length, 1)
      assert.equal((warnings[0] as {account?: string}).account, ALICE)
      assert.match((warnings[0] as {message: string}).message, /uncertain \(folder .* was emptied.*\): a SmartScan is required/)
      assert.deepEqual(report.uncertainAccounts.map(u => u.account), [ALICE])
      assert.match(report.uncertainAccounts[0].warning, /a SmartScan is required/)
      assert.equal(report.accounts[0].certain, false)
      const manifest = JSON.parse(readFileSync(path.join(target, ALICE, 'manifest.json'), 'utf8'))
      assert.equal(manifest.certainty.certain, false)
      assert.match(manifest.certainty.warning, /a SmartScan is required/)
    })

    it('warns, as a restore does, that changes may be missing while the Realtime Scanner is not following', async () => {
      const stoppedAt = Date.now() - 3_600_000
      await reportService(t.catalog, 'mail1', {name: 'backup-realtime', state: 'running', detail: {}}, stoppedAt)
      try {
        await runExport({kind: 'last'}, [CAROL])
      } finally {
        await t.catalog.db('services').where({server: 'mail1'}).delete()
      }

      assert.deepEqual(events.flatMap(e => (e.kind === 'warning' ? [e.message] : [])), [
        `the Realtime Scanner is stopped since ${new Date(stoppedAt).toISOString()}: changes since then may be missing from the backup; start the backup daemon to catch up first`,
      ])
    })

    it('lists an item whose content is missing in the manifest instead of dropping it', async () => {
      await runExport({kind: 'last'}, [ALICE])
      const dir = path.join(target, ALICE)
      const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'))
      assert.equal(manifest.pointInTime.requested, 'last')
      assert.equal(manifest.counts.missingContent, 1)
      assert.equal(manifest.missingContent.length, 1)
      assert.deepEqual({...manifest.missingContent[0], reason: undefined}, {
        item: '259', type: 'message', folderPath: '/Inbox', digest: 'a'.repeat(64), reason: undefined,
      })
      assert.match(manifest.missingContent[0].reason, /gone on the AppServer/)
      const items = readFileSync(path.join(dir, 'items.ndjson'), 'utf8').trim().split('\n').map(line => JSON.parse(line))
      const gone = items.find(i => i.id === '259')
      assert.equal(gone.contentMissing, true)
      assert.equal(gone.file, null)
      const appointment = items.find(i => i.id === '304')
      assert.deepEqual([appointment.type, appointment.folderPath, appointment.file, appointment.contentMissing], ['appointment', '/Calendar', null, false])
      assert.equal(items.length, 6)
    })

    it('gives, at each time, the messages and flags the redolog produced at that time', async () => {
      const expected: Array<[PointInTime, string[]]> = [
        [at(1), ['(root)/257:', '(root)/301:DR', '(root)/302:', '.Projects.Sub/258:S']],
        [at(2), ['(root)/257:FS', '(root)/301:DR', '(root)/302:', '.Archive/303:', '.Projects.Sub/258:S']],
        [at(3), ['(root)/301:DR', '(root)/302:', '.Archive/257:FS', '.Archive/303:', '.Projects.Sub/258:S']],
        [at(4), ['(root)/301:DR', '(root)/302:', '.Archive/257:FS', '.Archive/303:', '.Clients.Sub/258:S']],
        [at(5), ['(root)/301:DR', '(root)/302:', '.Archive/257:FS', '.Archive/303:']],
        [at(7), ['(root)/301:DR', '(root)/302:', '.Archive/303:']],
        [{kind: 'last'}, ['(root)/301:DR', '(root)/302:', '.Archive/303:']],
      ]
      for (const [index, [point, files]] of expected.entries()) {
        target = path.join(t.home, 'exports', `times-${runs}-${index}`)
        await runExport(point, [ALICE])
        assert.deepEqual(messages(path.join(target, ALICE)), files.sort(), JSON.stringify(point))
      }
    })

    it('exports every account that existed at the time when none is named, under its name then', async () => {
      const now = await runExport({kind: 'last'})
      assert.deepEqual(now.accounts.map(a => a.account), [ALICE, CAROL])
      assert.deepEqual(readdirSync(target).sort(), [ALICE, CAROL])
      target = path.join(t.home, 'exports', `early-${runs}`)
      const early = await runExport({kind: 'at', at: T0 + (MINUTE / 2)})
      assert.deepEqual(early.accounts.map(a => a.account), [ALICE, BOB, CAROL])
      assert.equal(JSON.parse(readFileSync(path.join(target, CAROL, 'manifest.json'), 'utf8')).accountId, 'carol-1')
      assert.deepEqual(messages(path.join(target, BOB)), [])
    })

    it('refuses a non-empty target without force, and with force replaces only the exported accounts', async () => {
      mkdirSync(target, {recursive: true})
      writeFileSync(path.join(target, 'keep.txt'), 'mine')
      await assert.rejects(planExport(t.catalog, {path: target, accounts: [ALICE], point: {kind: 'last'}}), (error: Error) =>
        error instanceof UserError && /export target .* is not empty: .*force true/.test(error.message))
      await runExport(at(2), [ALICE], {force: true})
      await runExport({kind: 'last'}, [ALICE], {force: true})
      assert.deepEqual(readdirSync(target).sort(), ['alice@example.com', 'keep.txt'])
      assert.deepEqual(messages(path.join(target, ALICE)), ['(root)/301:DR', '(root)/302:', '.Archive/303:'])
    })

    it('refuses an account that did not exist at that time, saying when it can be exported', async () => {
      const deleted = /cannot export bob@example.com at last: account bob@example.com was deleted at 2026-11-01T10:10:00.000Z; its last state is at date 2026-11-01T10:09:59.999Z/
      await assert.rejects(planExport(t.catalog, {path: target, accounts: [BOB], point: {kind: 'last'}}), deleted)
      await assert.rejects(planExport(t.catalog, {path: target, accounts: [ALICE], point: {kind: 'all'}}), /not all/)
      await assert.rejects(planExport(t.catalog, {path: target, accounts: ['nobody@example.com'], point: {kind: 'last'}}), /account nobody@example.com is not in the backup/)
    })

    it('stops between items when the signal fires, leaving no half-written account', async () => {
      const controller = new AbortController()
      const plan = await planExport(t.catalog, {path: target, accounts: [ALICE], point: {kind: 'last'}})
      let steps = 0
      await assert.rejects(exportAccounts({
        catalog: t.catalog,
        uuid: '00000000-0000-0000-0000-000000000000',
        server: 'mail1',
        signal: controller.signal,
        progress(event) {
          // Abort once the account's export has started writing.
          if (event.kind === 'step' && ++steps === 2) controller.abort('stop')
        },
      }, plan), OperationAborted)
      assert.deepEqual(readdirSync(target), [])
    })
  })
}
