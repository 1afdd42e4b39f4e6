import type {ImapFlow} from 'imapflow'

import assert from 'node:assert/strict'

import type {RestoreMessage} from '../../../src/engine/restore/imap-restore-target.js'

import {hasLiteralPlus} from '../../../src/engine/appserver/imap/literal-plus-command.js'
import {canMultiAppend, imapDateTime, multiAppend} from '../../../src/engine/restore/multi-append.js'
import {imapScenario, message, type Scenario} from '../smartscan/imap-scenario.js'
import {JAN, sha, snapshot} from './restore-scenario.js'

/** Messages that exercise the framing: no flags, a keyword, no internal date, a body above 64 KiB, binary bytes. */
function messages(): RestoreMessage[] {
  const bodies = [
    message('plain'),
    message('large', 'y'.repeat(200_000)),
    message('flagged'),
    Buffer.concat([message('eight bit', 'caf\u00E9 \u00FC'), Buffer.from([0xC3, 0xA9, 0x0D, 0x0A])]),
  ]
  const flags = [[], [String.raw`\Seen`], [String.raw`\Flagged`, 'urgent'], [String.raw`\Answered`]]
  return bodies.map((bytes, i) => ({
    bytes, digest: sha(bytes), flags: flags[i], internalDate: i === 3 ? null : new Date(JAN.getTime() + (i * 1000)), messageId: null,
  }))
}

/** A snapshot line without its internal date. */
const withoutDate = (line: string) => line.replace(/ \S+$/, '')

/** The same messages into two new mailboxes: with LITERAL+, then the way imapflow sends literals without it. */
async function appendBoth(client: ImapFlow): Promise<void> {
  await client.mailboxCreate('Plus')
  await client.mailboxCreate('Synchronizing')
  const sent = messages()
  await multiAppend(client, 'Plus', sent)
  // Without LITERAL+ imapflow waits for a "+" from the server before each message.
  client.capabilities.delete('LITERAL+')
  await multiAppend(client, 'Synchronizing', sent)
}

describe('MULTIAPPEND', () => {
  it('writes the IMAP date-time in UTC, the day padded with a space, to the second', () => {
    assert.equal(imapDateTime(new Date('2025-03-04T05:06:07.890Z')), ' 4-Mar-2025 05:06:07 +0000')
    assert.equal(imapDateTime(new Date('2024-12-31T23:59:59Z')), '31-Dec-2024 23:59:59 +0000')
  })

  describe('against Dovecot', () => {
    let s: Scenario

    beforeEach(async () => {
      s = await imapScenario('sqlite')
    })

    afterEach(async () => {
      await s.cleanup()
    })

    it('streams the messages with non-synchronizing literals: exact bytes, flags, keywords and dates, as the synchronizing way does', async () => {
      const address = await s.user('alice')
      const client = await s.client(address)
      assert.ok(hasLiteralPlus(client), 'the test Dovecot offers LITERAL+')
      await appendBoth(client)
      const {messages: lines} = await snapshot(await s.client(address))
      const plus = lines.filter(line => line.startsWith('Plus ')).map(line => line.slice('Plus '.length))
      const synchronizing = lines.filter(line => line.startsWith('Synchronizing ')).map(line => line.slice('Synchronizing '.length))
      assert.equal(plus.length, 4)
      for (const sent of messages().filter(m => m.internalDate)) {
        const flags = [...sent.flags].sort().join(',')
        assert.ok(plus.includes(`${sent.digest} [${flags}] ${sent.internalDate!.toISOString()}`), `${sent.digest} [${flags}]`)
      }

      // The one without an internal date gets the server's time of the append: compare everything else.
      assert.deepEqual(plus.map(line => withoutDate(line)).sort(), synchronizing.map(line => withoutDate(line)).sort())
    })

    it('names a mailbox in modified UTF-7 as imapflow does ("&", accented letters), one command for all its messages', async () => {
      const address = await s.user('alice')
      const client = await s.client(address)
      const folders = ['Clients & Co', '\u00C9l\u00E9ments envoy\u00E9s']
      for (const folder of folders) {
        await client.mailboxCreate(folder)
        assert.ok(await canMultiAppend(client, folder), folder)
        await multiAppend(client, folder, messages())
      }

      for (const folder of folders) {
        const status = await client.status(folder, {messages: true})
        assert.equal(status && status.messages, 4, folder)
      }
    })

    it('fails as a whole when the server refuses the command, and the connection goes on', async () => {
      const address = await s.user('alice')
      const client = await s.client(address)
      await assert.rejects(multiAppend(client, 'Missing', messages()), /TRYCREATE|NO|Command failed/i)
      // The server read every literal of the refused command: the next command is understood as one.
      await client.mailboxCreate('There')
      await multiAppend(client, 'There', messages().slice(0, 2))
      const status = await client.status('There', {messages: true})
      assert.equal(status && status.messages, 2)
    })
  })
})
