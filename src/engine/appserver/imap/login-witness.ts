import {closeAdminConnection, connectAsAdmin} from './admin-connection.js'
import {ImapError} from './imap-errors.js'
import {type ImapSettings} from './imap-settings.js'

/**
 * Tells a wrong admin credential from an account the server does not know, which a server may refuse the same way:
 * Dovecot with a master passdb without `pass = yes` (its own example) answers NO [UNAVAILABLE] or closes the
 * connection, Carbonio answers AUTHENTICATIONFAILED. Taken for the credential, one stale name in the accounts list
 * paused the daemon's capture of every account and stopped SmartScan and `daemon once`. The credential is good when
 * another account opens with it: then the refusal is this account's own.
 */
export class LoginWitness {
  /** An account that last opened with the credential: the first one to try as witness. */
  private opened: string | undefined

  constructor(private readonly settings: ImapSettings) {}

  /** The account logged in: a witness for the next refusal. */
  noteOpened(account: string): void {
    this.opened = account
  }

  /**
   * `error` as the account's own failure when it is a refused login and another account (the last one opened, then
   * the first other of `accounts`) logs in now; otherwise `error` unchanged.
   */
  async judge(error: unknown, account: string, accounts: readonly string[], signal?: AbortSignal): Promise<unknown> {
    if (!(error instanceof ImapError) || error.loginRefusal === undefined) return error
    // The last one opened may be gone since (deleted on the server: the daemon's sessions stay open for days), and
    // its refusal too would have paused every account: then the first other listed one is asked as well.
    const witnesses = new Set([this.opened, accounts.find(other => other !== account)].filter((other): other is string => other !== undefined && other !== account))
    const witness = await this.firstOpening(witnesses, signal)
    if (witness === undefined) return error
    this.opened = witness
    const {url, user} = this.settings
    // Not what the server said, which varies from one try to the next (Dovecot answers NO, or closes): the daemon logs
    // an account's failure once while it stays the same.
    // A server at its connection limit (Dovecot's process_limit) closes some logins and lets others in, the witness's
    // among them: the line says so, or the administrator goes looking for an account that is there.
    const why = 'does the account exist there? backupAccountsCommand lists it; a server at its connection limit refuses '
      + 'some logins the same way for a moment'
    return new ImapError(`the AppServer at ${url} would not open ${account} for ${user}, though it opens other accounts with the same credential (${why})`, 'account')
  }

  /** The first of `witnesses` that logs in now with the credential, if any. */
  private async firstOpening(witnesses: Iterable<string>, signal?: AbortSignal): Promise<string | undefined> {
    for (const witness of witnesses) {
      try {
        await closeAdminConnection(await connectAsAdmin(this.settings, witness, {signal}))
        return witness
      } catch {
        if (signal?.aborted) return undefined
      }
    }

    return undefined
  }
}
