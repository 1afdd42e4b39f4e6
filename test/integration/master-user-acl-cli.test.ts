import assert from 'node:assert/strict'

import {JAN} from '../engine/restore/restore-scenario.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {type ImapCliBed, imapCliBed} from '../helpers/imap-cli-bed.js'
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
})
