import {ImapError} from '../appserver/imap/imap-errors.js'
import {isOverQuota, QuotaExceeded} from './quota-exceeded.js'

/**
 * The AppServer answered NO to an APPEND: it will not store that content (an empty file from a cut-short copy of an
 * export, a message over the new server's size limit). The connection and the account are fine, so an import may
 * take it as that message's failure only: report it as not restored with the server's reason and go on.
 */
export class MessageRefused extends ImapError {
  constructor(message: string) {
    super(message, 'account')
    this.name = 'MessageRefused'
  }
}

/**
 * Runs an APPEND, turning the server's NO into MessageRefused (naming the mailbox, the account and the reason), or
 * into QuotaExceeded when the account is full, which no message can get past.
 */
export async function appendOrRefusal<T>(
  where: {account: string; mailbox: string; url: string; count: number},
  append: () => Promise<T>,
): Promise<T> {
  try {
    return await append()
  } catch (error) {
    const failure = error as {message?: string; response?: unknown; responseStatus?: string; responseText?: string; serverResponseCode?: string}
    // A server that advertises APPENDLIMIT (RFC 7889) has imapflow refuse a bigger message before sending it: the
    // server's refusal all the same, of that one message.
    if (failure?.serverResponseCode === 'APPENDLIMIT' && failure.responseStatus === undefined) {
      throw new MessageRefused(`the AppServer at ${where.url} would not take the message into ${where.mailbox} in ${where.account}: ${failure.message}`)
    }

    if (failure?.responseStatus !== 'NO') throw error
    // Without Dovecot's timing of the command ("(0.001 + 0.000 secs)."), which only makes the line longer.
    const why = (failure.responseText ?? 'refused').replaceAll(/\s+/g, ' ').replace(/\s*\([\d.+ ]+secs\)\.?$/, '').trim()
    if (isOverQuota(failure)) throw new QuotaExceeded(where.account, where.url, why)
    const what = where.count === 1 ? 'the message' : `a batch of ${where.count} messages`
    throw new MessageRefused(`the AppServer at ${where.url} would not append ${what} to ${where.mailbox} in ${where.account}: ${why}`)
  }
}
