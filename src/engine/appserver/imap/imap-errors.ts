import type {ImapSettings} from './imap-settings.js'

import {OperationAborted, UserError} from '../../errors.js'
import {type TlsFailure, tlsProblemLine} from './tls-problem.js'

/**
 * A failure talking to the AppServer, as one line naming the server, the account and the fix. `scope` says how far it
 * reaches: 'server' (unreachable, wrong admin password, missing extension: every account would fail the same way,
 * so a SmartScan stops) or 'account' (this account cannot be opened or read: the others go on).
 */
export class ImapError extends UserError {
  constructor(
    message: string,
    readonly scope: 'account' | 'server',
    /**
     * Set when the server refused (or cut) the login to one account: what it said. A wrong admin credential and an
     * account the server does not know can look the same (see login-witness.ts).
     */
    readonly loginRefusal?: string,
  ) {
    super(message)
    this.name = 'ImapError'
  }
}

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  CONNECT_TIMEOUT: 'connection timed out',
  GREETING_TIMEOUT: 'no IMAP greeting (a TLS-only port wants imaps://)',
  EPIPE: 'connection closed',
  NoConnection: 'connection closed',
  EConnectionClosed: 'connection closed',
  ClosedAfterConnectText: 'connection closed by the server',
  ClosedAfterConnectTLS: 'connection closed by the server',
}

/**
 * What a connection that was already logged in dies of: the server ended this one session (`doveadm kick`, the user's
 * imap process crashed or was restarted). Only this account is concerned: if the whole server went away, the next
 * account's connect fails and stops a SmartScan then.
 */
const DROPPED = new Set(['EConnectionClosed', 'ECONNRESET', 'EPIPE', 'NoConnection'])

/** Closed after the greeting: also how Dovecot may end the login to an account its userdb does not know. */
function closedAtLogin(code: string): string | undefined {
  return code === 'ClosedAfterConnectText' || code === 'ClosedAfterConnectTLS' ? UNREACHABLE[code] : undefined
}

/**
 * The server accepted the connection and closed it before the login was answered: a server at its connection limit
 * does this (Dovecot, once its imap processes are all taken, closes the new ones without a word); so may a login to an
 * account its userdb does not know.
 */
export function closedAtConnect(error: unknown): boolean {
  return error instanceof ImapError && error.loginRefusal === UNREACHABLE.ClosedAfterConnectText
}

interface ImapFlowFailure extends TlsFailure {
  code?: string
  authenticationFailed?: boolean
  serverResponseCode?: string
  responseText?: string
  responseStatus?: string
  message?: string
}

/**
 * Turns what imapflow or the socket threw into an ImapError. Only the server's own response text is quoted, never
 * the command that failed: a LOGIN or AUTHENTICATE carries the password.
 */
export function explainImapError(error: unknown, settings: Pick<ImapSettings, 'loginMode' | 'url' | 'user'>, account: string): Error {
  if (error instanceof UserError || error instanceof OperationAborted) return error
  const failure = (error ?? {}) as ImapFlowFailure
  const code = failure.code ?? ''
  if (UNREACHABLE[code]) {
    return new ImapError(`cannot reach the AppServer at ${settings.url}: ${UNREACHABLE[code]} (check backupAppServerUrl and that its IMAP service runs)`, 'server', closedAtLogin(code))
  }

  const tls = tlsProblemLine(failure, settings.url)
  if (tls) return new ImapError(tls, 'server')

  const response = oneLine(failure.responseText ?? '')
  if (failure.serverResponseCode === 'AUTHORIZATIONFAILED' || (failure.authenticationFailed && /authoriz/i.test(response))) {
    const why = response || 'authorization failed'
    return new ImapError(`the AppServer at ${settings.url} would not open ${account} for ${settings.user}: ${why} (does the account exist there, and may ${settings.user} open it?)`, 'account')
  }

  if (failure.authenticationFailed) {
    const login = settings.loginMode === 'master-separator' ? `${account}*${settings.user}` : `${settings.user} (for ${account})`
    const why = response || 'authentication failed'
    const fix = 'check backupAppServerUser, the password in backupAppServerPasswordFile and backupAppServerLoginMode'
    return new ImapError(`the AppServer at ${settings.url} refused the login of ${login}: ${why} (${fix})`, 'server', why)
  }

  if (failure.responseStatus === 'NO' || failure.responseStatus === 'BAD') {
    return new ImapError(`the AppServer at ${settings.url} answered ${failure.responseStatus} for ${account}: ${response || 'command failed'}`, 'account')
  }

  const message = oneLine(failure.message ?? String(error))
  return new ImapError(`IMAP error with ${settings.url} for ${account}: ${code ? `${code}: ` : ''}${message}`, 'account')
}

/**
 * explainImapError() for what failed after the login: a lost connection then is no sign of a wrong URL and concerns
 * this account only (it used to stop a whole SmartScan with "check backupAppServerUrl").
 */
export function explainSessionError(error: unknown, settings: Pick<ImapSettings, 'loginMode' | 'url' | 'user'>, account: string): Error {
  const code = (error as ImapFlowFailure | undefined)?.code ?? ''
  if (!DROPPED.has(code)) return explainImapError(error, settings, account)
  // True of whatever was cut off (a scan, a restore, the daemon's capture, which retries by itself): what it committed
  // stays and a new run skips it. No restore advice: the daemon logs this line whenever the server restarts.
  const again = 'what was done before stays, and running it again does not repeat it'
  return new ImapError(`the AppServer at ${settings.url} closed the connection of ${account} during the operation (${UNREACHABLE[code]}): ${again}`, 'account')
}

/** The server lacks an extension the connector cannot work without. */
export function missingExtension(settings: Pick<ImapSettings, 'url'>, missing: string[]): ImapError {
  return new ImapError(`the AppServer at ${settings.url} does not offer ${missing.join(' and ')} (RFC 7162): the IMAP connector needs CONDSTORE and QRESYNC to see what changed`, 'server')
}

/**
 * The server announced LOGINDISABLED and no AUTH=PLAIN or AUTH=LOGIN, so imapflow sent no credentials and failed as
 * a refused login: blaming the password sent the administrator to the wrong fix. Dovecot does this without TLS when
 * plaintext logins are disabled (disable_plaintext_auth, ssl = required) and no STARTTLS is offered, and on any
 * connection when `auth_mechanisms` lacks plain.
 */
export function loginDisabled(settings: Pick<ImapSettings, 'url'>, overTls: boolean): ImapError {
  const mechanism = 'with Dovecot keep plain in auth_mechanisms'
  const fix = overTls
    ? `the connector logs in with SASL PLAIN: ${mechanism}`
    : `the connector logs in with SASL PLAIN, which the server allows only over TLS or not at all: use imaps:// (its TLS port, 993) or let it offer STARTTLS, and ${mechanism}`
  return new ImapError(`the AppServer at ${settings.url} accepts no password login on ${overTls ? 'this TLS' : 'an unencrypted'} connection (LOGINDISABLED): ${fix}`, 'server')
}

/** The server offers no SASL PLAIN, which the sasl-authzid mode needs (see NoSaslPlain). */
export function noSaslPlain(settings: Pick<ImapSettings, 'url'>): ImapError {
  return new ImapError(`the AppServer at ${settings.url} offers no SASL PLAIN (AUTH=PLAIN), which backupAppServerLoginMode sasl-authzid needs `
    + 'to open each account with the admin credential: let the server offer PLAIN (Dovecot: plain in auth_mechanisms), '
    + 'or with Dovecot set backupAppServerLoginMode master-separator', 'server')
}

/**
 * The account's INBOX is missing from its listing, or the server says it does not exist: every account has one, so
 * the admin user is not seeing the account's mail. Dovecot's ACL plugin does this to a master user (it checks the
 * master user's own rights, which are none, unless acl_user = %u): the scan would otherwise record an empty account,
 * or every folder of one already in the backup as deleted; a restore would take the account for empty and fail on its
 * first APPEND with the server's bare "Mailbox doesn't exist". Its own class: the account exists, so a restore must
 * not take it for one to create with backupProvisioningCommand.
 */
export class UnreadableInbox extends ImapError {
  constructor(message: string) {
    super(message, 'account')
    this.name = 'UnreadableInbox'
  }
}

/** `outcome`: what becomes of the account (a scan leaves the backup as it is; a restore writes nothing into it). */
export function unreadableInbox(
  settings: Pick<ImapSettings, 'url' | 'user'>,
  account: string,
  outcome = 'the account is left as the backup has it',
): UnreadableInbox {
  const fix = 'with Dovecot\'s ACL plugin set plugin { acl_user = %u }, or else give that user the rights'
  return new UnreadableInbox(`the AppServer at ${settings.url} shows ${settings.user} no INBOX in ${account}, so not its mail: ${outcome} (${fix})`)
}

function oneLine(text: string): string {
  return text.replaceAll(/\s+/g, ' ').trim()
}
