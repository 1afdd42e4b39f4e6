import assert from 'node:assert/strict'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {GLOBAL, type ImapCliBed, imapCliBed} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'
import {startTestDovecot, type TestDovecot} from '../setup/dovecot-server.js'

// A Dovecot offering AUTH=LOGIN only. SASL LOGIN carries no authorization identity, so the sasl-authzid mode (the admin
// user opening each account with PLAIN's authzid) cannot work there; the master-separator mode can.
describe('an AppServer without SASL PLAIN, through bin/run.js', function () {
  this.timeout(30_000)
  let dovecot: TestDovecot
  let bed: ImapCliBed

  before(async () => {
    dovecot = await startTestDovecot({extraConfig: 'auth_mechanisms = login\n'})
    bed = await imapCliBed(dovecot)
  })

  after(async () => {
    await bed?.cleanup()
    await dovecot?.stop()
  })

  it('names the missing mechanism and the login mode that works, instead of blaming the admin password', async () => {
    const alice = await bed.user('alice')
    await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerLoginMode', 'sasl-authzid')
    const refused = await runCli(['backup', 'doAccountScan', alice], bed.t.env)
    assert.equal(refused.code, 1, refused.stdout)
    assert.deepEqual(refused.stderr.split('\n').filter(line => line.startsWith('doAccountScan Failed: ')), [
      `doAccountScan Failed: the AppServer at ${dovecot.url} offers no SASL PLAIN (AUTH=PLAIN), which backupAppServerLoginMode `
      + 'sasl-authzid needs to open each account with the admin credential: let the server offer PLAIN (Dovecot: plain in '
      + 'auth_mechanisms), or with Dovecot set backupAppServerLoginMode master-separator',
    ], refused.stderr)

    await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerLoginMode', 'master-separator')
    const scanned = await runCli(['backup', 'doAccountScan', alice], bed.t.env)
    assert.equal(scanned.code, 0, scanned.stderr)
  })
})
