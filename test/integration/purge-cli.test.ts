import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {blobPath} from '../../src/engine/blobstore/blob-path.js'
import {openCatalog} from '../../src/engine/catalog/open-catalog.js'
import {
  DAY, MailboxHistory, message, sha256,
} from '../engine/purge/purge-fixture.js'
import {runCli, UUID} from '../helpers/run-cli.js'

const ALICE = 'alice@example.com'
const BOB = 'bob@example.com'

function blobFile(dir: string, content: Buffer): string {
  return blobPath(dir, sha256(content))
}

/** doPurge, monitor and legalHold through bin/run.js, on a catalog built from a redolog with past times. */
describe('purge and legal hold from the command line', function () {
  this.timeout(120_000)
  let home: string
  let env: NodeJS.ProcessEnv
  const now = Date.now()
  const daysAgo = (days: number) => now - (days * DAY)
  const shared = message('shared', 'kept by a live item')
  const alone = message('alone', 'only a deleted item has it')
  const bobs = message('bob', 'bob deleted it')

  /** A backup home whose scanner saw, long ago: alice deleting one item alone and one sharing a live one's content, bob deleting one. */
  async function buildBackup(dir: string): Promise<void> {
    const catalog = await openCatalog({env: {CARBONIO_BACKUP_HOME: dir}})
    try {
      const history = new MailboxHistory(dir)
      history.account(ALICE, daysAgo(60))
      history.message(ALICE, 'alone', alone, daysAgo(60))
      history.message(ALICE, 'gone', shared, daysAgo(60))
      history.message(ALICE, 'kept', shared, daysAgo(60))
      history.deleteItem(ALICE, 'alone', daysAgo(40))
      history.deleteItem(ALICE, 'gone', daysAgo(40))
      history.account(BOB, daysAgo(60))
      history.message(BOB, 'b1', bobs, daysAgo(60))
      history.deleteItem(BOB, 'b1', daysAgo(40))
      await history.scan(catalog)
      // The ingest happened moments ago; as far as the blob grace period goes, make it as old as the history.
      await catalog.db('blobs').update({last_referenced_at: daysAgo(40)})
    } finally {
      await catalog.close()
    }
  }

  beforeEach(async () => {
    home = mkdtempSync(path.join(tmpdir(), 'cb-purge-cli-'))
    env = {CARBONIO_BACKUP_HOME: path.join(home, 'backup'), CARBONIO_BACKUP_SERVER: 'mail1.example.com'}
    await buildBackup(env.CARBONIO_BACKUP_HOME!)
  })

  afterEach(() => {
    rmSync(home, {recursive: true, force: true})
  })

  async function json(args: string[], environment = env): Promise<any> {
    const result = await runCli([...args, '--json'], environment)
    assert.equal(result.code, 0, `carbonio ${args.join(' ')} failed: ${result.stdout}${result.stderr}`)
    return JSON.parse(result.stdout)
  }

  it('holds bob, purges alice as an operation monitor shows, then purges bob once released', async () => {
    const set = await json(['backup', 'legalHold', 'set', BOB])
    assert.deepEqual(set, {
      all: false, allSince: null, accounts: [{
        account: BOB, held: true, by: 'account', deleted: false,
      }],
    })
    const listed = await runCli(['backup', 'legalHold', 'get', 'all'], env)
    assert.equal(listed.code, 0)
    assert.equal(listed.stdout, `all accounts: not held as a whole\n${ALICE}: not held\n${BOB}: held\n`)

    const result = await runCli(['backup', 'doPurge', 'purgeDays', '30'], env)
    assert.equal(result.code, 0, result.stderr)
    const [uuid, summary, held] = result.stdout.trim().split('\n')
    assert.match(uuid, UUID)
    assert.match(summary, /^purged 2 items, 4 revisions, 0 accounts, 1 blobs, \d+ bytes \(.+\) freed$/)
    assert.equal(held, 'kept under legal hold: 1 deleted items, 0 deleted accounts')
    assert.match(result.stderr, /removing items deleted before/)

    const view = await json(['backup', 'monitor', uuid])
    assert.equal(view.type, 'doPurge')
    assert.equal(view.state, 'completed')
    assert.equal(view.exitCode, 0)
    assert.deepEqual(view.parameters, {purgeDays: 30})
    assert.equal(view.result.items, 2)
    assert.equal(view.result.blobs, 1)
    assert.equal(view.result.itemsHeld, 1)
    assert.ok(view.result.bytesFreed > 0)
    assert.equal(view.progress.counters.items, 2)
    assert.equal(existsSync(blobFile(env.CARBONIO_BACKUP_HOME!, alone)), false)
    assert.equal(existsSync(blobFile(env.CARBONIO_BACKUP_HOME!, shared)), true, 'shared with the live item')
    assert.equal(existsSync(blobFile(env.CARBONIO_BACKUP_HOME!, bobs)), true, 'held')

    const unset = await json(['backup', 'legalHold', 'unset', BOB])
    assert.equal(unset.accounts[0].held, false)
    const second = await json(['backup', 'doPurge'])
    assert.equal(second.state, 'completed')
    assert.equal(second.result.items, 1)
    assert.equal(second.result.retentionDays, 30)
    assert.equal(existsSync(blobFile(env.CARBONIO_BACKUP_HOME!, bobs)), false)
  })

  it('ends at once with retention 0 and says why', async () => {
    const config = await runCli(['config', 'set', 'global', 'ZxBackup_DataRetentionDays', '0'], env)
    assert.equal(config.code, 0, config.stderr)
    const result = await runCli(['backup', 'doPurge'], env)
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout.split('\n')[1], 'ZxBackup_DataRetentionDays is 0, which means infinite retention: nothing is purged')
    assert.equal(existsSync(blobFile(env.CARBONIO_BACKUP_HOME!, alone)), true)
  })

  it('refuses a purgeDays past what ZxBackup_DataRetentionDays takes, before any operation is created', async () => {
    // 200000000 days put the cutoff before the earliest JavaScript date: a Failed operation saying 'Invalid time value'.
    for (const days of ['36501', '200000000']) {
      const result = await runCli(['backup', 'doPurge', 'purgeDays', days], env)
      assert.equal(result.code, 2, result.stdout + result.stderr)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, new RegExp(`^Error: purgeDays must be at most 36500 days \\(0 = infinite\\), not '${days}'\n`))
    }

    assert.equal(existsSync(blobFile(env.CARBONIO_BACKUP_HOME!, alone)), true)
  })

  it('purges another backup path given with backup_path, and refuses a directory that is not one', async () => {
    const other = path.join(home, 'old-backup')
    await buildBackup(other)
    const view = await json(['backup', 'doPurge', 'backup_path', other])
    assert.equal(view.state, 'completed')
    assert.deepEqual(view.parameters, {purgeDays: null, backupPath: other})
    assert.equal(view.result.backupPath, other)
    assert.equal(view.result.items, 3)
    assert.equal(existsSync(blobFile(other, alone)), false)
    assert.equal(existsSync(blobFile(env.CARBONIO_BACKUP_HOME!, alone)), true, 'the current backup path is untouched')

    const before = (await json(['backup', 'getAllOperations'])).operations.length
    const refused = await runCli(['backup', 'doPurge', 'backup_path', home], env)
    assert.equal(refused.code, 1)
    assert.equal(refused.stderr, `Error: backup_path ${home} is not a backup path: it has no catalog (catalog.sqlite); give the directory that holds catalog.sqlite and items/\n`)
    assert.equal(refused.stdout, '')
    assert.equal((await json(['backup', 'getAllOperations'])).operations.length, before, 'no operation for a refused path')
  })

  it('legalHold: all and its release, unknown accounts, all mixed with names', async () => {
    const all = await runCli(['backup', 'legalHold', 'set', 'all'], env)
    assert.equal(all.code, 0, all.stderr)
    assert.match(all.stdout, /^all accounts: held since \S+ \(accounts that appear later too\)\n2 accounts in the backup, 2 held\n$/)
    const refused = await runCli(['backup', 'legalHold', 'unset', ALICE], env)
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /^Error: all accounts are under legal hold \(legalHold set all\): run legalHold unset all/)
    const purged = await json(['backup', 'doPurge'])
    assert.equal(purged.result.items, 0)
    assert.equal((await json(['backup', 'legalHold', 'unset', 'all'])).all, false)

    const unknown = await runCli(['backup', 'legalHold', 'set', `${ALICE},nobody@example.com`], env)
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /accounts not in the backup: nobody@example.com \(nothing changed\)/)
    assert.equal((await json(['backup', 'legalHold', 'get', ALICE])).accounts[0].held, false)
    const mixed = await runCli(['backup', 'legalHold', 'set', `all,${ALICE}`], env)
    assert.equal(mixed.code, 2)
    assert.match(mixed.stderr, /give either all or a list of accounts, not both/)
  })
})
