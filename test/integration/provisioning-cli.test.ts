import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {JAN, snapshot} from '../engine/restore/restore-scenario.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {
  GLOBAL, type ImapCliBed, imapCliBed, scanInProcess,
} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'

describe('doRestoreOnNewAccount with backupProvisioningCommand through bin/run.js', () => {
  let bed: ImapCliBed

  beforeEach(async () => {
    bed = await imapCliBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  it('refuses a missing destination naming the attribute, then creates it with the command and restores into it', async () => {
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {
      INBOX: [{raw: message('one'), flags: [String.raw`\Seen`], internalDate: JAN}],
      Work: [{raw: message('two'), internalDate: JAN}],
    })
    assert.equal((await runCli(['backup', 'doAccountScan', alice], bed.t.env)).code, 0)
    const carol = `carol@${bed.domain}`

    const refused = await runCli(['backup', 'doRestoreOnNewAccount', alice, carol, 'last'], bed.t.env)
    assert.equal(refused.code, 1)
    const failed = refused.stderr.split('\n').filter(line => line.startsWith('doRestoreOnNewAccount Failed: '))
    assert.equal(failed.length, 1, refused.stderr)
    assert.match(failed[0], new RegExp(`would not open ${carol} .*: create ${carol} on the AppServer, or set backupProvisioningCommand`))

    // No {account}: the address is appended as the last argument.
    await setAttribute(bed.t.catalog, GLOBAL, 'backupProvisioningCommand', `sh ${bed.provisionScript}`)
    const restored = await runCli(['backup', 'doRestoreOnNewAccount', alice, carol, 'last'], bed.t.env)
    assert.equal(restored.code, 0, restored.stderr)
    const lines = restored.stdout.trim().split('\n').slice(1)
    assert.deepEqual(lines, [
      `created ${carol} on the AppServer with backupProvisioningCommand`,
      `restored ${alice} at last into ${carol}: 2 restored, 0 skipped (already there), 0 unrestored in 2 folders`,
    ])
    assert.deepEqual(await snapshot(await bed.client(carol)), await snapshot(await bed.client(alice)))
  })

  it('creates no destination for a date the source has no state at (before the backup first saw it)', async () => {
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {INBOX: [{raw: message('one'), internalDate: JAN}]})
    await scanInProcess(bed, alice)
    await setAttribute(bed.t.catalog, GLOBAL, 'backupProvisioningCommand', `sh ${bed.provisionScript}`)
    const carol = `carol@${bed.domain}`
    const early = await runCli(['backup', 'doRestoreOnNewAccount', alice, carol, '01/01/2020 00:00:00'], bed.t.env)
    assert.equal(early.code, 1)
    assert.match(early.stderr, new RegExp(`doRestoreOnNewAccount Failed: ${alice} cannot be restored at .*: account ${alice} did not exist yet`))
    // Not created on the AppServer: a mail account made for nothing, which the next restore would take as existing.
    assert.doesNotMatch(readFileSync(path.join(bed.dovecot.dir, 'users'), 'utf8'), new RegExp(`^${carol}:`, 'm'))
  })

  it('in the master login form, creates a missing destination, and never one whose login was refused for a wrong password', async () => {
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {INBOX: [{raw: message('one'), flags: [String.raw`\Seen`], internalDate: JAN}]})
    await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerLoginMode', 'master-separator')
    assert.equal((await runCli(['backup', 'doAccountScan', alice], bed.t.env)).code, 0)
    await setAttribute(bed.t.catalog, GLOBAL, 'backupProvisioningCommand', `sh ${bed.provisionScript}`)
    const users = path.join(bed.dovecot.dir, 'users')

    // Dovecot answers `carol*backup-admin` for a missing carol with AUTHORIZATIONFAILED (UNAVAILABLE when the master
    // passdb has pass = no), not the AUTHENTICATIONFAILED of a wrong password: she is created.
    const carol = `carol@${bed.domain}`
    const restored = await runCli(['backup', 'doRestoreOnNewAccount', alice, carol, 'last'], bed.t.env)
    assert.equal(restored.code, 0, restored.stderr)
    assert.match(restored.stdout, new RegExp(`created ${carol} on the AppServer with backupProvisioningCommand`))
    assert.deepEqual(await snapshot(await bed.client(carol)), await snapshot(await bed.client(alice)))

    // A wrong password for a listed account stops the restore as it is: nothing is created.
    const dave = await bed.user('dave')
    writeFileSync(bed.passwordFile, 'not-the-password\n', {mode: 0o600})
    const before = readFileSync(users, 'utf8')
    const refused = await runCli(['backup', 'doRestoreOnNewAccount', alice, dave, 'last'], bed.t.env)
    assert.equal(refused.code, 1, refused.stdout)
    assert.match(refused.stderr, new RegExp(`refused the login of ${dave}\\*backup-admin: .*check backupAppServerUser`))
    assert.equal(readFileSync(users, 'utf8'), before)
  })
})

