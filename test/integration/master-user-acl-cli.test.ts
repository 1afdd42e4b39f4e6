import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {JAN} from '../engine/restore/restore-scenario.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {
  GLOBAL, type ImapCliBed, imapCliBed, scanInProcess,
} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'
import {startTestDovecot, type TestDovecot} from '../setup/dovecot-server.js'

// Dovecot with its ACL plugin and no acl_user = %u checks the master user's own rights, which are none: the master
// login opens the account, LIST shows INBOX, and its STATUS answers "Mailbox doesn't exist".
describe('a Dovecot whose ACLs hide the account from the master user, through bin/run.js', function () {
  this.timeout(30_000)
  let dovecot: TestDovecot
  let bed: ImapCliBed

  before(async () => {
    dovecot = await startTestDovecot({namespaces: true, masterUserAcl: true})
  })

  after(async () => {
    await dovecot.stop()
  })

  beforeEach(async () => {
    bed = await imapCliBed(dovecot)
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  it('doAccountScan fails the account with the fix instead of recording it empty', async () => {
    const alice = await bed.user('alice')
    await dovecot.loadMessages(alice, {INBOX: [{raw: message('mine'), internalDate: JAN}], Work: [{raw: message('work'), internalDate: JAN}]})
    const scan = await runCli(['backup', 'doAccountScan', alice], bed.t.env)
    assert.notEqual(scan.code, 0, scan.stdout)
    assert.match(scan.stdout + scan.stderr, /no INBOX in .*acl_user = %u/)
    const info = await runCli(['backup', 'getAccountInfo', alice], bed.t.env)
    // Not an empty account recorded as if it were backed up (or, already backed up, every folder recorded deleted).
    assert.match(info.stderr, /is not in the backup/)
  })

  it('doRestoreOnNewAccount into an account there fails with the fix, not the server\'s bare "Mailbox doesn\'t exist"', async () => {
    // Backed up from the shared server, where the master user sees the mail, then restored onto this one.
    const source = await imapCliBed()
    try {
      const alice = await source.user('alice')
      await source.dovecot.loadMessages(alice, {INBOX: [{raw: message('mine'), internalDate: JAN}]})
      await scanInProcess(source, alice)
      const passwordFile = path.join(source.t.home, 'acl-password')
      writeFileSync(passwordFile, `${dovecot.masterPassword}\n`, {mode: 0o600})
      await setAttribute(source.t.catalog, GLOBAL, 'backupAppServerUrl', dovecot.url)
      await setAttribute(source.t.catalog, GLOBAL, 'backupAppServerPasswordFile', passwordFile)
      // A provisioning command must not run: the account exists, its mail is only unseen.
      await setAttribute(source.t.catalog, GLOBAL, 'backupProvisioningCommand', '/bin/false')
      await dovecot.addUser(alice)
      const restore = await runCli(['backup', 'doRestoreOnNewAccount', alice, alice, 'last'], source.t.env)
      assert.equal(restore.code, 1, restore.stdout)
      assert.match(restore.stderr, new RegExp(`doRestoreOnNewAccount Failed: .* no INBOX in ${alice}, so not its mail: nothing is restored into it \\(.*acl_user = %u`))
    } finally {
      await source.cleanup()
    }
  })
})
