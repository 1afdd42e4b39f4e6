import assert from 'node:assert/strict'
import {
  mkdirSync, readdirSync, readFileSync, statSync,
} from 'node:fs'
import path from 'node:path'

import {
  ALICE, catchUp, MINUTE, type Scenario, T0, writeScenario,
} from '../helpers/history-scenario.js'
import {runCli, UUID} from '../helpers/run-cli.js'
import {openTestCatalog, type TestCatalog} from '../helpers/test-catalog.js'

/** Reading the history and exporting through the real CLI (bin/run.js, compiled dist/) on a SQLite catalog. */
describe('history and export from the command line', function () {
  this.timeout(120_000)
  let t: TestCatalog
  let scenario: Scenario
  let env: NodeJS.ProcessEnv
  const t1 = Math.floor((T0 + MINUTE) / 1000)
  const t90 = Math.floor((T0 + (1.5 * MINUTE)) / 1000)

  before(async () => {
    t = await openTestCatalog('sqlite')
    scenario = writeScenario(t.home)
    await catchUp(t.catalog, scenario.log)
    env = {...t.env, CARBONIO_BACKUP_SERVER: 'mail1'}
  })

  after(async () => {
    await t.cleanup()
  })

  async function json(args: string[]): Promise<any> {
    const result = await runCli([...args, '--json'], env)
    assert.equal(result.code, 0, `carbonio ${args.join(' ')} failed: ${result.stdout}${result.stderr}`)
    return JSON.parse(result.stdout)
  }

  function dumpOf(output: string) {
    return runCli(['backup', 'getItem', ALICE, '257', 'date', 'first', 'dump_blob', 'true', 'output', output], env)
  }

  it('getItem date all --json: every state with its interval, operation, folder, flags and content', async () => {
    const item = await json(['backup', 'getItem', ALICE, '257', 'date', 'all'])
    assert.equal(item.type, 'message')
    assert.equal(item.totalStates, 4)
    assert.deepEqual(item.states.map((s: any) => [s.from, s.to, s.operation, s.folderPath, s.flags, s.deleted]), [
      ['2026-11-01T10:01:00.000Z', '2026-11-01T10:02:00.000Z', 'item.created', '/Inbox', [], false],
      ['2026-11-01T10:02:00.000Z', '2026-11-01T10:03:00.000Z', 'item.flags', '/Inbox', [String.raw`\Flagged`, String.raw`\Seen`], false],
      ['2026-11-01T10:03:00.000Z', '2026-11-01T10:07:00.000Z', 'item.moved', '/Archive', [String.raw`\Flagged`, String.raw`\Seen`], false],
      ['2026-11-01T10:07:00.000Z', null, 'item.deleted', '/Archive', [String.raw`\Flagged`, String.raw`\Seen`], true],
    ])
    assert.ok(item.states.every((s: any) => s.size === scenario.contents.lunch.length && s.contentInBackup === true))
    const local = new Date(T0 + (2.5 * MINUTE))
    const carbonioDate = `${String(local.getDate()).padStart(2, '0')}/${String(local.getMonth() + 1).padStart(2, '0')}/${local.getFullYear()} ${local.toTimeString().slice(0, 8)}`
    const at = await json(['backup', 'getItem', ALICE, '257', 'date', carbonioDate])
    assert.deepEqual(at.states.map((s: any) => s.operation), ['item.flags'])
  })

  it('getItem dump_blob writes the exact bytes: to a file (0600), or alone on stdout', async () => {
    const file = path.join(t.home, 'dump', '257.eml')
    const missingDir = await runCli(['backup', 'getItem', ALICE, '257', 'date', 'first', 'dump_blob', 'true', 'output', file], env)
    assert.equal(missingDir.code, 1, 'the directory of the output file does not exist')
    assert.match(missingDir.stderr, /^Error: cannot write .*257\.eml: ENOENT/)
    const output = path.join(t.home, '257.eml')
    const toFile = await runCli(['backup', 'getItem', ALICE, '257', 'date', 'first', 'dump_blob', 'true', 'output', output, '--json'], env)
    assert.equal(toFile.code, 0, toFile.stderr)
    assert.deepEqual(readFileSync(output), scenario.contents.lunch, 'CRLF, NUL, 0xFF and 8-bit bytes kept')
    assert.equal(statSync(output).mode & 0o777, 0o600)
    assert.deepEqual(JSON.parse(toFile.stdout).dump, {digest: JSON.parse(toFile.stdout).states[0].blobDigest, bytes: scenario.contents.lunch.length, output})
    const toStdout = await runCli(['backup', 'getItem', ALICE, '301', 'dump_blob', 'true'], env)
    assert.equal(toStdout.code, 0, toStdout.stderr)
    assert.equal(toStdout.stdout, scenario.contents.quote.toString('utf8'), 'nothing but the content on stdout')
    assert.match(toStdout.stderr, /item 301 \(message\) of alice@example.com/)
    const gone = await runCli(['backup', 'getItem', ALICE, '259', 'dump_blob', 'true'], env)
    assert.equal(gone.code, 1)
    assert.equal(gone.stdout, '')
    assert.match(gone.stderr, /^Error: cannot dump the content of item 259 .* gone on the AppServer/)
  })

  it('getItem dump_blob to an output it cannot write says why in one line, prints nothing and leaves nothing', async () => {
    const parent = path.join(t.home, 'outputs')
    const directory = path.join(parent, 'dir')
    mkdirSync(directory, {recursive: true})
    const intoDirectory = await dumpOf(directory)
    assert.equal(intoDirectory.code, 1)
    assert.equal(intoDirectory.stdout, '', 'no description of an item whose content was not written')
    assert.equal(intoDirectory.stderr, `Error: cannot write ${directory}: EISDIR: it is a directory: give the name of a file in it\n`)
    assert.deepEqual(readdirSync(parent), ['dir'], 'no temporary file left beside the directory')
    const missing = path.join(parent, 'nowhere', '257.eml')
    const intoMissing = await dumpOf(missing)
    assert.equal(intoMissing.code, 1)
    assert.equal(intoMissing.stdout, '')
    assert.equal(intoMissing.stderr, `Error: cannot write ${missing}: ENOENT: its directory ${path.dirname(missing)} does not exist: create it first, or give another path\n`)
  })

  it('doExport writes the Maildir with exact bytes and Maildir flag names, and warns that a SmartScan is required', async () => {
    const target = path.join(t.home, 'export')
    const result = await runCli(['backup', 'doExport', target, 'accounts', ALICE, 'date', new Date(T0 + (2.5 * MINUTE)).toISOString()], env)
    assert.equal(result.code, 0, result.stderr)
    const lines = result.stdout.trim().split('\n')
    assert.match(lines[0], UUID)
    assert.match(result.stdout, /^WARNING alice@example.com is uncertain \(folder .* was emptied.*\): a SmartScan is required/m)
    assert.match(result.stdout, /^alice@example.com: 6 items \(5 messages in 4 Maildir folders, 1 other content, .*\), 0 without content in the backup/m)
    const maildir = path.join(target, ALICE, 'Maildir')
    assert.deepEqual(readdirSync(path.join(maildir, 'cur')).sort(), [
      `${t1}.257.carbonio-backup:2,FS`,
      `${t1}.301.carbonio-backup:2,DR`,
      `${t1}.302.carbonio-backup:2,`,
    ])
    assert.deepEqual(readdirSync(path.join(maildir, '.Archive', 'cur')), [`${t90}.303.carbonio-backup:2,`])
    assert.deepEqual(readdirSync(path.join(maildir, '.Projects.Sub', 'cur')), [`${t1}.258.carbonio-backup:2,S`])
    assert.deepEqual(readFileSync(path.join(maildir, 'cur', `${t1}.257.carbonio-backup:2,FS`)), scenario.contents.lunch)
    assert.deepEqual(readFileSync(path.join(maildir, '.Projects.Sub', 'cur', `${t1}.258.carbonio-backup:2,S`)), scenario.contents.report)
    assert.deepEqual(readFileSync(path.join(maildir, '.Archive', 'cur', `${t90}.303.carbonio-backup:2,`)), scenario.contents.lunch)
    const uuid = lines[0]
    const monitored = await json(['backup', 'monitor', uuid])
    assert.equal(monitored.state, 'completed')
    assert.match(monitored.progress.warnings[0], /alice@example.com: uncertain .*a SmartScan is required/)
  })

  it('doExport --json returns the report; a non-empty target is refused in one line before any operation', async () => {
    const target = path.join(t.home, 'export-json')
    const view = await json(['backup', 'doExport', target, 'accounts', ALICE])
    assert.equal(view.outcome, 'Successful')
    assert.deepEqual(view.result.accounts.map((a: any) => [a.account, a.items, a.messages, a.missingContent]), [[ALICE, 6, 3, 1]])
    assert.deepEqual(view.result.uncertainAccounts.map((u: any) => u.account), [ALICE])
    const before = (await json(['backup', 'getAllOperations', 'all', 'true'])).operations.length
    const refused = await runCli(['backup', 'doExport', target], env)
    assert.equal(refused.code, 1)
    assert.equal(refused.stdout, '')
    assert.match(refused.stderr, /^Error: export target .*export-json is not empty: choose a new or empty directory, or add force true/)
    assert.equal(refused.stderr.trim().split('\n').length, 1)
    assert.equal((await json(['backup', 'getAllOperations', 'all', 'true'])).operations.length, before)
  })

  it('getBackupInfo reports the blob store from the catalog, and counts its files on disk only with countFiles true', async () => {
    // Walking every blob file took most of getBackupInfo's time on a real-sized backup, which monitoring runs often.
    const quick = await runCli(['backup', 'getBackupInfo'], env)
    assert.equal(quick.code, 0, quick.stderr)
    assert.match(quick.stdout, /^blob store: 6 blobs stored, \S+ \S+ \(as the catalog records them; countFiles true counts the files on disk\)$/m)
    const counted = await runCli(['backup', 'getBackupInfo', 'countFiles', 'true'], env)
    assert.equal(counted.code, 0, counted.stderr)
    assert.match(counted.stdout, /^blob store: 6 blobs, (\S+ \S+) on disk \(catalog: 6 stored, \1\)$/m)
    const quickJson = await json(['backup', 'getBackupInfo'])
    assert.equal(quickJson.blobStore.files, null)
    assert.equal(quickJson.blobStore.bytesOnDisk, null)
    const countedJson = await json(['backup', 'getBackupInfo', 'countFiles', 'true'])
    assert.equal(countedJson.blobStore.files, 6)
    assert.equal(countedJson.blobStore.bytesOnDisk, countedJson.blobStore.catalogStoredBytes)
    // Every other figure is the same either way (the lag and the WAL's size move between two runs).
    assert.deepEqual(figuresBesidesTheWalk(countedJson), figuresBesidesTheWalk(quickJson))
  })

  it('getBackupInfo, getAccountInfo and getAvailableAccounts answer with --json', async () => {
    const info = await json(['backup', 'getBackupInfo'])
    assert.equal(info.counts.items, 10)
    assert.equal(info.lastTransaction.seq, scenario.seqs.last)
    assert.deepEqual(info.uncertainAccounts.map((a: any) => a.account), [ALICE])
    const account = await json(['backup', 'getAccountInfo', ALICE])
    assert.equal(account.certain, false)
    assert.match(account.advice, /a SmartScan is required/)
    const accounts = await json(['backup', 'getAvailableAccounts'])
    assert.deepEqual(accounts.accounts.map((a: any) => [a.account, a.deleted]).slice(0, 2), [[ALICE, false], ['bob@example.com', true]])
  })
})

/** getBackupInfo's answer without the blob store, the lag and the catalog's size: what the walk must not change. */
function figuresBesidesTheWalk(info: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(info).filter(([key]) => !['blobStore', 'catalog', 'lastTransaction'].includes(key)))
}
