// The account the restore crash tests start from: seeded messages in each folder, and the cases a re-run after a kill
// must not get wrong, loaded into Dovecot.
import type {ImapFlow} from 'imapflow'

import type {ImapCliBed} from './imap-cli-bed.js'
import type {RandomMail} from './random-mail.js'

import {inBox} from './mailbox-state.js'

/**
 * `counts` messages per folder (INBOX, Archive/2025 and Lists/dev among them), plus the same message twice in INBOX
 * (two it stays) and two different messages with one Message-ID and one size in Archive/2025 (a resent draft: two
 * messages, though a restore's check of what a folder holds cannot tell them apart by those), and keywords and
 * \Flagged on some. Returns a client of the account.
 */
export async function loadCrashCorpus(bed: ImapCliBed, account: string, seeded: RandomMail, counts: Readonly<Record<string, number>>): Promise<ImapFlow> {
  const {mail, message} = seeded
  const folders = seeded.corpus(counts)
  const twice = mail('twice', 3000)
  folders.INBOX.push(message(twice), message(twice))
  folders['Archive/2025'].push(message(mail('same-id', 0, 'a'.repeat(2000))), message(mail('same-id', 0, 'b'.repeat(2000))))
  await bed.dovecot.loadMessages(account, folders)
  const client = await bed.client(account)
  await inBox(client, 'INBOX', () => client.messageFlagsAdd('1:25', ['$Work']))
  await inBox(client, 'Lists/dev', () => client.messageFlagsAdd('10:20', ['$Later', String.raw`\Flagged`]))
  return client
}
