import assert from 'node:assert/strict'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {GLOBAL, type ImapCliBed, imapCliBed} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'
import {startTestDovecot, type TestDovecot} from '../setup/dovecot-server.js'

// A Dovecot that allows no plaintext login without TLS and offers no STARTTLS: it announces LOGINDISABLED and no
// AUTH=PLAIN, so no credentials are sent at all. Dovecot counts a connection from its own address as secure, so the
// test reaches it from 127.0.0.1 on a second listener, 127.0.0.2, not a trusted network.
describe('an AppServer that disables password logins without TLS, through bin/run.js', function () {
  this.timeout(30_000)
  let dovecot: TestDovecot
  let bed: ImapCliBed

  before(async () => {
    dovecot = await startTestDovecot({
      extraConfig: `listen = 127.0.0.1, 127.0.0.2
login_trusted_networks =
disable_plaintext_auth = yes
service imap-login {
  inet_listener imap {
    address = 127.0.0.1, 127.0.0.2
  }
}
`,
    })
    bed = await imapCliBed(dovecot)
  })

  after(async () => {
    await bed?.cleanup()
    await dovecot?.stop()
  })

  it('says the server wants TLS, in both login modes, instead of blaming the admin password', async () => {
    const url = `imap://127.0.0.2:${dovecot.port}`
    await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerUrl', url)
    const alice = await bed.user('alice')
    const expected = `doAccountScan Failed: the AppServer at ${url} accepts no password login on an unencrypted connection (LOGINDISABLED): `
      + 'the connector logs in with SASL PLAIN, which the server allows only over TLS or not at all: use imaps:// (its TLS port, 993) '
      + 'or let it offer STARTTLS, and with Dovecot keep plain in auth_mechanisms'
    for (const mode of ['sasl-authzid', 'master-separator']) {
      await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerLoginMode', mode)
      const result = await runCli(['backup', 'doAccountScan', alice], bed.t.env)
      assert.equal(result.code, 1, result.stdout)
      assert.deepEqual(result.stderr.split('\n').filter(line => line.startsWith('doAccountScan Failed: ')), [expected], result.stderr)
    }
  })
})
