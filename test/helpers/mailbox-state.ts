// What a mailbox holds, read over IMAP by a client of the test's own (read-only, BODY.PEEK), in a form two states can
// be compared in: the crash tests compare the server with a backup, or a restored account with the source.
import type {ImapFlow} from 'imapflow'

import {createHash} from 'node:crypto'

/** One message as a folder holds it. */
export interface LiveMessage {
  folder: string
  flags: string[]
  digest: string
  internalDate: string
  messageId: null | string
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

/** What two states must agree on for a message: where, flags, exact bytes and internal date. */
export const keyOf = (m: LiveMessage) => `${m.folder} | ${m.flags.join(' ')} | ${m.digest} | ${m.internalDate}`

/** Every message of every mailbox of the account as the server has it now, sorted by keyOf. */
export async function serverState(c: ImapFlow): Promise<LiveMessage[]> {
  const messages: LiveMessage[] = []
  for (const box of await c.list()) {
    if (box.flags.has(String.raw`\Noselect`)) continue
    // Examined afresh: imapflow keeps a mailbox still selected as it was, and Dovecot tells that session of messages
    // appended since by other sessions only at its next sync (an account with INBOX alone read an undelete's
    // messages as missing: seed 22 of the folder-tree test).
    if (typeof c.mailbox === 'object' && c.mailbox.path === box.path) await c.mailboxClose()
    const lock = await c.getMailboxLock(box.path, {readOnly: true})
    try {
      if (typeof c.mailbox === 'object' && c.mailbox.exists === 0) continue
      for (const m of await c.fetchAll('1:*', {
        uid: true, flags: true, internalDate: true, source: true, envelope: true,
      })) {
        messages.push({
          folder: `/${box.path}`,
          flags: [...m.flags ?? []].filter(f => f !== String.raw`\Recent`).sort(),
          digest: sha(m.source!),
          internalDate: new Date(m.internalDate!).toISOString(),
          messageId: m.envelope?.messageId ?? null,
        })
      }
    } finally {
      lock.release()
    }
  }

  return messages.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1))
}

/** Runs `work` with the mailbox selected (read-write). */
export async function inBox<T>(c: ImapFlow, box: string, work: () => Promise<T>): Promise<T> {
  const lock = await c.getMailboxLock(box)
  try {
    return await work()
  } finally {
    lock.release()
  }
}

/** How many times each folder holds each message (Message-ID and content). */
export function copiesPerFolder(list: readonly LiveMessage[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const m of list) {
    const key = `${m.folder} ${m.messageId} ${m.digest}`
    counts[key] = (counts[key] ?? 0) + 1
  }

  return Object.fromEntries(Object.entries(counts).sort())
}
