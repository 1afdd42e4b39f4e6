import assert from 'node:assert/strict'

import {type ImapCliBed, imapCliBed, scanInProcess} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'

/**
 * doItemSearch on messages captured from a real Dovecot whose headers are not plain ASCII the way RFC 2047 wants
 * them, as real mail often is: what the administrator types must find them, and the list must show them readable.
 */
describe('backup doItemSearch on the headers real mail has', () => {
  let bed: ImapCliBed

  beforeEach(async () => {
    bed = await imapCliBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  /** Appends the messages (header lines, as bytes) to alice's INBOX with another client and scans her. */
  async function captured(...headers: Buffer[]): Promise<string> {
    const address = await bed.user('alice')
    const client = await bed.client(address)
    try {
      for (const header of headers) await client.append('INBOX', Buffer.concat([header, Buffer.from('\r\n\r\nbody\r\n')]))
    } finally {
      await bed.closeClients()
    }

    await scanInProcess(bed, address)
    return address
  }

  it('finds a message whose From and Subject are raw 8-bit Latin-1 (legacy mailers), and shows them decoded', async () => {
    const address = await captured(Buffer.from('Message-ID: <legacy@x>\r\nFrom: Zoë Ström <zoe@example.test>\r\nSubject: Straße gesperrt', 'latin1'))
    const search = await runCli(['backup', 'doItemSearch', address, 'search_string', 'straße', '--json'], bed.t.env)
    assert.equal(search.code, 0, search.stderr)
    const {matches} = JSON.parse(search.stdout)
    assert.equal(matches.length, 1, 'the search for the subject finds it')
    assert.deepEqual([matches[0].state.metadata.from, matches[0].state.metadata.subject], ['Zoë Ström <zoe@example.test>', 'Straße gesperrt'])
  })

  it('finds a message whose encoded words split a character between them (as some mailers cut them), and shows it whole', async () => {
    // "Rechnung für März" in two B words, the first ending inside the two bytes of "ü".
    const address = await captured(Buffer.from('Message-ID: <split@x>\r\nFrom: Bob <bob@example.test>\r\nSubject: =?UTF-8?B?UmVjaG51bmcgZsM=?= =?UTF-8?B?vHIgTcOkcno=?='))
    const search = await runCli(['backup', 'doItemSearch', address, 'search_string', 'für', '--json'], bed.t.env)
    assert.equal(search.code, 0, search.stderr)
    const {matches} = JSON.parse(search.stdout)
    assert.equal(matches.length, 1, 'the search for the subject finds it')
    assert.equal(matches[0].state.metadata.subject, 'Rechnung für März')
  })

  it('lists a message whose encoded From holds a line break and terminal escapes on one line, escapes shown', async () => {
    // A sender can put any byte in an encoded word: here a forged second line of the listing, and a color change.
    const forged = 'f9/9/9  message  2026-01-01T00:00:00.000Z  /INBOX  -  from CEO <ceo@example.test>'
    const from = `=?utf-8?Q?Mallory=0D=0A${forged.replaceAll(' ', '_')}?= <m@example.test>`
    const address = await captured(Buffer.from(`Message-ID: <forged@x>\r\nFrom: ${from}\r\nSubject: =?utf-8?Q?=1B[31mred?=`))
    const search = await runCli(['backup', 'doItemSearch', address], bed.t.env)
    assert.equal(search.code, 0, search.stderr)
    const lines = search.stdout.trimEnd().split('\n')
    assert.equal(lines.length, 2, 'one line for the one item, then the count')
    assert.match(lines[0], /from Mallory\\r\\nf9\/9\/9 .* "\\u001b\[31mred"$/)
  })

  it('finds a Turkish subject with a dotted capital İ whichever way the administrator types it', async () => {
    const address = await captured(Buffer.from('Message-ID: <tr@x>\r\nFrom: =?utf-8?Q?Ay=C5=9Fe?= <ayse@example.test>\r\nSubject: İstanbul toplantısı'))
    for (const text of ['İstanbul', 'istanbul', 'ISTANBUL']) {
      const search = await runCli(['backup', 'doItemSearch', address, 'search_string', text, '--json'], bed.t.env)
      assert.equal(search.code, 0, search.stderr)
      assert.equal(JSON.parse(search.stdout).matches.length, 1, `a search for ${text} finds it`)
    }
  })
})
