import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {imapCliBed} from '../helpers/imap-cli-bed.js'
import {RedologWriter} from '../helpers/redolog-writer.js'
import {
  eventually, outputOf, runCli, startCli, waitFor,
} from '../helpers/run-cli.js'

function message(subject: string): string {
  return `Message-ID: <${subject}@example.test>\r\nSubject: ${subject}\r\n\r\nHello from ${subject}.\r\n`
}

/** The blob files under a backup home: what content the backup holds. */
function blobFiles(home: string): string[] {
  const items = path.join(home, 'items')
  try {
    return readdirSync(items, {recursive: true, withFileTypes: true}).filter(e => e.isFile()).map(e => e.name)
  } catch {
    return []
  }
}

/** backupEnabled false: an account the administrator excludes is not backed up by any connector, and is said to be. */
describe('backupEnabled through bin/run.js', function () {
  this.timeout(60_000)

  it('SmartScan and daemon once leave out an account set to false, doAccountScan refuses it, and true brings it back', async () => {
    const bed = await imapCliBed()
    try {
      const kept = await bed.user('kept')
      const excluded = await bed.user('excluded')
      for (const account of [kept, excluded]) await bed.dovecot.loadMessages(account, {INBOX: [{raw: message(account.split('@')[0])}]})
      assert.equal((await runCli(['backup', 'doSmartScan', 'start'], bed.t.env)).code, 0)
      for (const account of [kept, excluded]) await bed.dovecot.loadMessages(account, {INBOX: [{raw: message(`${account.split('@')[0]}-2`)}]})
      const off = await runCli(['config', 'set', 'account', excluded, 'backupEnabled', 'false'], bed.t.env)
      assert.equal(off.code, 0, off.stderr)

      const scan = await runCli(['backup', 'doSmartScan', 'start', '--json'], bed.t.env)
      assert.equal(scan.code, 0, scan.stderr)
      const {result} = JSON.parse(scan.stdout)
      assert.equal(result.scanned, 1)
      assert.deepEqual(result.notBackedUp, [{account: excluded, by: `account ${excluded}`}])
      // Still listed by the directory: not taken for an account gone from the server.
      assert.deepEqual(result.deletedAccounts, [])
      assert.equal(blobFiles(bed.t.home).length, 3, 'of the new messages, only the kept account\'s is stored')

      const refused = await runCli(['backup', 'doAccountScan', excluded], bed.t.env)
      assert.equal(refused.code, 1)
      assert.equal(refused.stderr.trim(), `Error: ${excluded} is not backed up: backupEnabled is false at account ${excluded}; to back it up: config set account ${excluded} backupEnabled true`)

      const once = await runCli(['backup', 'daemon', 'once', 'true'], bed.t.env)
      assert.equal(once.code, 0, once.stderr)
      assert.match(once.stdout, /^synchronised 1 of 1 accounts .*; 1 not backed up \(backupEnabled false\)\n$/)
      assert.equal(blobFiles(bed.t.home).length, 3)

      // What the backup holds of an excluded account can still be restored: only reading it from the server stops.
      const undelete = await runCli(['backup', 'doUndelete', excluded, 'first', 'last'], bed.t.env)
      assert.equal(undelete.code, 0, undelete.stderr)
      assert.match(undelete.stdout, /: 0 deleted, 0 restored/)

      assert.equal((await runCli(['config', 'set', 'account', excluded, 'backupEnabled', 'true'], bed.t.env)).code, 0)
      const back = await runCli(['backup', 'doAccountScan', excluded, '--json'], bed.t.env)
      assert.equal(back.code, 0, back.stderr)
      assert.equal(JSON.parse(back.stdout).result.totals.created, 1)
      assert.equal(blobFiles(bed.t.home).length, 4)
    } finally {
      await bed.cleanup()
    }
  })

  it('the realtime daemon does not follow an account set to false, and says so once in its log', async () => {
    const bed = await imapCliBed()
    await bed.user('kept')
    const excluded = await bed.user('excluded')
    assert.equal((await runCli(['config', 'set', 'account', excluded, 'backupEnabled', 'false'], bed.t.env)).code, 0)
    const daemon = startCli(['backup', 'daemon'], bed.t.env)
    try {
      const running = await eventually('a first IMAP cycle', async () => {
        const {services} = JSON.parse((await runCli(['backup', 'getServices', '--json'], bed.t.env)).stdout)
        const status = services.find((s: {name: string}) => s.name === 'backup-realtime')
        return status?.state === 'running' && status.detail.lastCycleAt ? status : undefined
      }, 30_000).catch(error => {
        throw new Error(`${error.message}: ${outputOf(daemon).stderr}`)
      })
      assert.equal(running.detail.accountsFollowed, 1)
      assert.match(outputOf(daemon).stderr, new RegExp(`backup-realtime: 1 account not backed up \\(backupEnabled false\\): ${excluded}; no longer followed`))
    } finally {
      daemon.kill('SIGTERM')
      await waitFor(daemon)
      await bed.cleanup()
    }
  })

  it('the redolog scanner skips the item transactions of an account of a COS set to false, stores none of its content, and marks it uncertain', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'cb-enabled-'))
    try {
      const env = {CARBONIO_BACKUP_HOME: path.join(home, 'backup'), CARBONIO_BACKUP_SERVER: 'mail1.example.com'}
      const log = new RedologWriter(path.join(home, 'redolog'))
      assert.equal((await runCli(['config', 'set', 'server', 'mail1.example.com', 'backupRedologPath', log.dir], env)).code, 0)
      assert.equal((await runCli(['config', 'set', 'cos', 'guests', 'backupEnabled', 'false'], env)).code, 0)
      const content = (text: string) => {
        const bytes = Buffer.from(text)
        return {inline: bytes.toString('base64'), size: bytes.length, digest: createHash('sha256').update(bytes).digest('hex')}
      }

      log.write('alice@example.com', 'account.created', {})
      log.write('guest@example.com', 'account.created', {cos: 'guests'})
      log.write('alice@example.com', 'folder.created', {folder: '2', path: 'Inbox'})
      log.write('guest@example.com', 'folder.created', {folder: '2', path: 'Inbox'})
      log.write('alice@example.com', 'item.created', {
        item: '1', type: 'message', folder: '2', content: content(message('alice')),
      })
      const skippedFrom = log.write('guest@example.com', 'item.created', {
        item: '1', type: 'message', folder: '2', content: content(message('guest')),
      })
      log.write('guest@example.com', 'item.modified', {item: '1', flags: [String.raw`\Seen`]})

      const once = await runCli(['backup', 'daemon', 'once', 'true'], env)
      assert.equal(once.code, 0, once.stderr)
      assert.match(once.stdout, /^applied 4 transactions \(.*\), 3 skipped as their accounts are not backed up \(backupEnabled false\), last seq 7\n$/)
      assert.equal(blobFiles(env.CARBONIO_BACKUP_HOME).length, 1, 'the guest\'s message is not stored')
      assert.equal((await runCli(['backup', 'getItem', 'guest@example.com', '1'], env)).code, 1)
      const guest = JSON.parse((await runCli(['backup', 'getAccountInfo', 'guest@example.com', '--json'], env)).stdout)
      assert.equal(guest.certain, false)
      assert.match(guest.uncertainReason, new RegExp(`^not backed up from seq ${skippedFrom - 2} on \\(backupEnabled false at cos guests\\)`))
      const alice = JSON.parse((await runCli(['backup', 'getItem', 'alice@example.com', '1', '--json'], env)).stdout)
      assert.equal(alice.states.length, 1)
    } finally {
      rmSync(home, {force: true, recursive: true})
    }
  })
})
