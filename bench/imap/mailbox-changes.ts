// The changes of the incremental case, made the way a mail client makes them (logged in as the user, not through
// the plugin): for each account, 1% of its messages changed, a third each flags set, new messages delivered and
// messages expunged, spread over the folders that hold them.
import {ImapFlow} from 'imapflow'

import type {TestDovecot} from '../../test/setup/dovecot-server.js'
import type {CorpusGenerator} from './corpus.js'

export interface ChangeCounts {
  flagged: number
  appended: number
  expunged: number
}

export interface ChangeTarget {
  account: string
  password: string
  /** Messages the account holds. */
  messages: number
}

export async function changeOnePercent(dovecot: TestDovecot, generator: CorpusGenerator, {account, password, messages}: ChangeTarget): Promise<ChangeCounts> {
  const total = Math.max(3, Math.round(messages / 100))
  const counts: ChangeCounts = {flagged: 0, appended: 0, expunged: 0}
  const client = new ImapFlow({
    host: dovecot.host, port: dovecot.port, secure: false, auth: {user: account, pass: password}, logger: false,
  })
  client.on('error', () => {})
  await client.connect()
  try {
    for (let i = 0; i < total - (2 * Math.floor(total / 3)); i++) {
      const message = generator.message(account, 1_000_000 + i)
      await client.append(message.folder, message.raw, message.flags, message.internalDate)
      counts.appended++
    }

    for (const [mailbox, share] of [['INBOX', 0.6], ['Sent', 0.4]] as const) {
      const lock = await client.getMailboxLock(mailbox)
      try {
        const {exists} = (client.mailbox as {exists: number})
        const flag = Math.min(exists, Math.round(Math.floor(total / 3) * share))
        const expunge = Math.min(exists - flag, Math.round(Math.floor(total / 3) * share))
        // Every seventh message from the start for flags, from the end for expunges: spread, never the same ones.
        const flagSet = Array.from({length: flag}, (_, k) => 1 + (k * 7)).filter(seq => seq <= exists)
        const expungeSet = Array.from({length: expunge}, (_, k) => exists - (k * 7)).filter(seq => seq > 0 && !flagSet.includes(seq))
        if (flagSet.length > 0) await client.messageFlagsAdd(flagSet.join(','), [String.raw`\Flagged`])
        if (expungeSet.length > 0) await client.messageDelete(expungeSet.join(','))
        counts.flagged += flagSet.length
        counts.expunged += expungeSet.length
      } finally {
        lock.release()
      }
    }
  } finally {
    await client.logout()
  }

  return counts
}
