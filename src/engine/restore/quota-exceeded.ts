import type {MessageRefused} from './message-refused.js'

import {ImapError} from '../appserver/imap/imap-errors.js'

/**
 * The destination account is over its quota: every further message would be refused the same way, so the restore
 * stops there (it is not one message's failure, and listing each refused message would bury the cause) and says what
 * to do. What went in stays; the same command, run again once the quota is raised, skips it and adds the rest.
 */
export class QuotaExceeded extends ImapError {
  /**
   * Set by appendMany: for each message it was given, what became of it before the stop (appended, already there,
   * refused), undefined for one the full account left out; so that the restore still counts what went in.
   */
  settled: ReadonlyArray<boolean | MessageRefused | undefined> = []

  constructor(account: string, url: string, why: string) {
    super(`quota exceeded on ${account} at the AppServer ${url} (${why}): raise its quota and run the same command again; `
      + 'the messages already restored are skipped', 'account')
    this.name = 'QuotaExceeded'
  }
}

/**
 * Whether the server's NO is about the account's quota: RFC 5530's [OVERQUOTA] (Dovecot, Carbonio), or only its text
 * for a server that sends no code.
 */
export function isOverQuota(failure: {response?: unknown; responseText?: string; serverResponseCode?: string}): boolean {
  const code = failure.serverResponseCode ?? statusCodeOf(failure.response)
  if (code) return code.toUpperCase() === 'OVERQUOTA'
  return /quota exceeded|over quota/i.test(failure.responseText ?? '')
}

/** The response code ([OVERQUOTA]) of a tagged answer as imapflow parsed it; commands it does not run leave it there. */
function statusCodeOf(response: unknown): string | undefined {
  const section = (response as undefined | {attributes?: Array<{section?: Array<{value?: unknown}>}>})?.attributes?.[0]?.section?.[0]?.value
  return typeof section === 'string' ? section.trim() : undefined
}
