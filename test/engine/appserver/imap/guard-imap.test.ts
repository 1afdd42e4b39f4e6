// guardImap() names a session the server ended, whatever imapflow's error for the command that met the end.
import {ImapFlow} from 'imapflow'
import assert from 'node:assert/strict'

import {guardImap} from '../../../../src/engine/appserver/imap/admin-connection.js'
import {imapSettings} from '../../../../src/engine/appserver/imap/imap-settings.js'

// imapflow's refusal of a command issued without a selected mailbox (its code and text).
const noMailbox = () => Object.assign(new Error('No mailbox is selected'), {code: 'NoMailboxSelected'})

describe('guardImap', () => {
  const settings = imapSettings(new Map([
    ['backupAppServerPasswordFile', '/nonexistent'], ['backupAppServerUrl', 'imap://127.0.0.1:1'], ['backupAppServerUser', 'admin'],
  ]))
  const account = 'ana@example.test'
  let client: ImapFlow

  beforeEach(() => {
    // Never connected: only its state is read.
    client = new ImapFlow({
      auth: {pass: 'x', user: 'x'}, host: '127.0.0.1', logger: false, port: 1,
    })
  })

  it('takes a command refused for no selected mailbox after the server\'s BYE for the closed connection it is', async () => {
    // What imapflow's BYE handler sets; it closes the connection only on the next turn of the event loop.
    client.byeReason = 'Server shutting down.'
    await assert.rejects(guardImap({account, client, settings}, async () => {
      throw noMailbox()
    }), /^ImapError: the AppServer at imap:\/\/\S+ closed the connection of ana@example\.test during the operation \(connection closed\)/)
  })

  it('leaves that refusal as it is while the session stands: it is then no connection trouble', async () => {
    await assert.rejects(guardImap({account, client, settings}, async () => {
      throw noMailbox()
    }), /^ImapError: IMAP error with imap:\/\/\S+ for ana@example\.test: NoMailboxSelected: No mailbox is selected$/)
  })
})
