import type {ImapRestoreTarget, RestoreMessage} from './imap-restore-target.js'

import {MessageRefused} from './message-refused.js'
import {QuotaExceeded} from './quota-exceeded.js'

/** Counts of a folder's messages, and those not restored with why. */
export interface AppendCounts {
  restored: number
  skipped: number
  unrestored: Array<{item: string; reason: string}>
}

/**
 * appendMany's outcomes added to a folder's counts: appended, already there, or a message the server would not take
 * (a size limit), listed with its reason while the others go in. A message without an outcome (a full account
 * stopped the append before it) is not counted: it is left.
 */
export function countAppended(
  counts: AppendCounts,
  messages: ReadonlyArray<{item: string}>,
  outcomes: ReadonlyArray<boolean | MessageRefused | undefined>,
): void {
  for (const [i, appended] of outcomes.entries()) {
    if (appended === undefined) continue
    if (appended instanceof MessageRefused) counts.unrestored.push({item: messages[i].item, reason: appended.message})
    else if (appended) counts.restored++
    else counts.skipped++
  }
}

/**
 * Appends the messages into the mailbox and adds the outcomes to the counts; when the account is full, what went in
 * before the stop is counted too, then QuotaExceeded goes on to end the restore.
 */
export async function appendCounted(
  target: ImapRestoreTarget,
  mailbox: string,
  counts: AppendCounts,
  messages: ReadonlyArray<{item: string; message: RestoreMessage}>,
): Promise<void> {
  try {
    countAppended(counts, messages, await target.appendMany(mailbox, messages.map(({message}) => message)))
  } catch (error) {
    if (error instanceof QuotaExceeded) countAppended(counts, messages, error.settled)
    throw error
  }
}
