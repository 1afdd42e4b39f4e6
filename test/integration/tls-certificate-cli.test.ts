import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {GLOBAL, imapCliBed} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'
import {privateCa} from '../helpers/test-certificates.js'
import {startTestDovecot, type TestDovecot} from '../setup/dovecot-server.js'

// A Dovecot with a certificate of the administrator's own CA, reached by imaps:// or by imap:// (STARTTLS, which the
// connector takes whenever the server offers it): each failure says what is wrong with the certificate and the fix
// that helps, and the documented fix (NODE_EXTRA_CA_CERTS) works.
describe('TLS certificates of the AppServer, through bin/run.js', function () {
  this.timeout(30_000)
  let dir: string
  let ca: ReturnType<typeof privateCa>
  // One server per certificate, started and stopped together: a Dovecot takes seconds to stop.
  let servers: Record<'expired' | 'good' | 'otherHost', TestDovecot>

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cb-tls-'))
    ca = privateCa(dir)
    const [good, otherHost, expired] = await Promise.all([
      startTestDovecot({tls: ca.issue('good', 'DNS:localhost,IP:127.0.0.1')}),
      startTestDovecot({tls: ca.issue('other-host', 'DNS:mail.example.com')}),
      startTestDovecot({tls: ca.issue('expired', 'DNS:localhost,IP:127.0.0.1', true)}),
    ])
    servers = {good, otherHost, expired}
  })

  after(async () => {
    await Promise.all(Object.values(servers ?? {}).map(server => server.stop()))
    rmSync(dir, {recursive: true, force: true})
  })

  /** The scan of one account on a Dovecot with this certificate, by imaps:// or imap://; what the CLI printed. */
  async function scanWith(dovecot: TestDovecot, scheme: 'imap' | 'imaps', trustCa: boolean): Promise<{code: null | number; failure: string}> {
    const bed = await imapCliBed(dovecot)
    try {
      const url = scheme === 'imaps' ? `imaps://127.0.0.1:${dovecot.tlsPort}` : dovecot.url
      await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerUrl', url)
      const alice = await bed.user('alice')
      const result = await runCli(['backup', 'doAccountScan', alice], {...bed.t.env, ...(trustCa ? {NODE_EXTRA_CA_CERTS: ca.ca} : {})})
      const failure = result.stderr.split('\n').filter(line => line.startsWith('doAccountScan Failed: ')).join('\n')
      return {code: result.code, failure}
    } finally {
      await bed.cleanup()
    }
  }

  it('scans over imaps:// once the private CA is named by NODE_EXTRA_CA_CERTS, and names that fix without it', async () => {
    assert.deepEqual(await scanWith(servers.good, 'imaps', true), {code: 0, failure: ''})
    const untrusted = await scanWith(servers.good, 'imaps', false)
    assert.equal(untrusted.code, 1)
    assert.match(untrusted.failure, /^doAccountScan Failed: the TLS certificate of imaps:\/\/127\.0\.0\.1:\d+ is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): .*NODE_EXTRA_CA_CERTS/)
  })

  it('says that a trusted certificate names another host, instead of asking for its CA', async () => {
    const result = await scanWith(servers.otherHost, 'imaps', true)
    assert.equal(result.code, 1)
    const line = 'does not name the host of backupAppServerUrl but DNS:mail.example.com (ERR_TLS_CERT_ALTNAME_INVALID): set backupAppServerUrl with a host name the certificate names'
    assert.equal(result.failure, `doAccountScan Failed: the TLS certificate of imaps://127.0.0.1:${servers.otherHost.tlsPort} ${line}`)
  })

  it('says over imap:// that the STARTTLS certificate has expired, instead of advising imap://', async () => {
    const result = await scanWith(servers.expired, 'imap', true)
    assert.equal(result.code, 1)
    const line = '(offered by STARTTLS) has expired (CERT_HAS_EXPIRED): renew the certificate on the AppServer'
    assert.equal(result.failure, `doAccountScan Failed: the TLS certificate of ${servers.expired.url} ${line}`)
  })
})
