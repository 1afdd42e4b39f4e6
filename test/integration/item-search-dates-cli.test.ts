import assert from 'node:assert/strict'

import {type ImapCliBed, imapCliBed, scanInProcess} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'

/**
 * doItemSearch's after and before on a backup fed by a real Dovecot: a first SmartScan sees months of older mail at
 * once, and an administrator looking for "the message of January 10" means the day it arrived, not the day the
 * backup was installed.
 */
describe('backup doItemSearch after/before on mail captured over IMAP', () => {
  let bed: ImapCliBed

  before(async () => {
    bed = await imapCliBed()
  })

  after(async () => {
    await bed.cleanup()
  })

  it('finds messages by the internal date they arrived with, and lists that date', async () => {
    const address = await bed.user('alice')
    const client = await bed.client(address)
    try {
      const message = (subject: string) => Buffer.from(`Message-ID: <${subject}@x>\r\nFrom: Bob <bob@example.test>\r\nSubject: ${subject}\r\n\r\nbody\r\n`)
      await client.append('INBOX', message('january'), [], new Date('2026-01-10T08:30:00Z'))
      await client.append('INBOX', message('march'), [], new Date('2026-03-02T12:00:00Z'))
      await client.append('INBOX', message('today'), [])
    } finally {
      await bed.closeClients()
    }

    await scanInProcess(bed, address)
    const search = async (...bounds: string[]) => {
      const result = await runCli(['backup', 'doItemSearch', address, ...bounds, '--json'], bed.t.env)
      assert.equal(result.code, 0, result.stderr)
      return JSON.parse(result.stdout).matches as Array<{arrived: string; state: {metadata: {subject: string}}}>
    }

    const january = await search('after', '01/01/2026 00:00:00', 'before', '01/02/2026 00:00:00')
    assert.deepEqual(january.map(m => [m.state.metadata.subject, m.arrived]), [['january', '2026-01-10T08:30:00.000Z']])
    const spring = await search('before', '2026-06-01T00:00:00Z')
    assert.deepEqual(spring.map(m => m.state.metadata.subject), ['january', 'march'])
    const lately = await search('after', new Date(Date.now() - 3_600_000).toISOString())
    assert.deepEqual(lately.map(m => m.state.metadata.subject), ['today'])
    const listing = await runCli(['backup', 'doItemSearch', address, 'before', '2026-02-01T00:00:00Z'], bed.t.env)
    assert.match(listing.stdout, /^\S+ {2}message {2}2026-01-10T08:30:00\.000Z {2}\/INBOX {2}/m)
  })
})
