import type {ImapFlow, Logger} from 'imapflow'

import {OperationAborted} from '../../errors.js'
import {
  explainImapError, explainSessionError, loginDisabled, missingExtension, noSaslPlain,
} from './imap-errors.js'
import {type ImapSettings, readPassword} from './imap-settings.js'
import {loadImapflow} from './imapflow-modules.js'
import {
  enableNow, mayDeferEnable, NoSaslPlain, trimSessionStart,
} from './session-start.js'

export interface AdminConnectionOptions {
  logger?: false | Logger
  signal?: AbortSignal
  /** Ask for QRESYNC (ENABLE) and refuse a server without these extensions, in one line. */
  requireExtensions?: readonly string[]
  /**
   * Leave the ENABLE to enableExtensions, before the first mailbox is opened (where the server allows: see
   * mayDeferEnable): a session that only lists its folders' status, as most of a no-change SmartScan does, never
   * sends it. The required extensions must still be offered at connect.
   */
  deferEnable?: boolean
  /** For a connection that IDLEs: how often IDLE is ended and started again. */
  maxIdleTime?: number
}

/**
 * One imapflow connection to one account with the admin credential: SASL PLAIN with the account as authorization
 * identity, or Dovecot's `<account>*<admin>` login. Shared by the SmartScan/realtime sessions and the restore
 * target, so both log in, time out, abort and explain failures the same way (never quoting the login).
 */
export async function connectAsAdmin(settings: ImapSettings, account: string, options: AdminConnectionOptions = {}): Promise<ImapFlow> {
  const password = await readPassword(settings)
  const auth = settings.loginMode === 'master-separator'
    ? {user: `${account}*${settings.user}`, pass: password}
    : {
      user: settings.user, pass: password, authzid: account, loginMethod: 'AUTH=PLAIN',
    }
  const required = options.requireExtensions ?? []
  const {ImapFlow} = await loadImapflow()
  const client = new ImapFlow({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    auth,
    logger: options.logger ?? false,
    qresync: required.includes('QRESYNC'),
    // Sent after connect instead (see below): same command, but it can wait for deferEnable.
    disableAutoEnable: true,
    disableAutoIdle: true,
    ...(options.maxIdleTime ? {maxIdleTime: options.maxIdleTime} : {}),
    // BODY.PEEK[] gives the exact bytes; BINARY would decode transfer encodings.
    disableBinary: true,
    connectionTimeout: 30_000,
    greetingTimeout: 16_000,
    socketTimeout: 5 * 60_000,
  })
  // After connect() a broken connection is reported as an 'error' event: without a listener it would crash the
  // process. The command in flight fails too, and that failure is what the caller sees.
  client.on('error', () => {})
  // Subscriptions do not matter to a backup, and imapflow follows a LIST with an LSUB whenever no mailbox of the
  // account is subscribed (a Maildir filled by delivery, a client that never subscribes): that would be a second
  // command for every account on every scan. imapflow keeps this switch for servers that reject LSUB.
  const internals = client as unknown as {skipLsub: boolean}
  internals.skipLsub = true
  trimSessionStart(client)
  const {signal} = options
  const onAbort = () => client.close()
  signal?.addEventListener('abort', onAbort, {once: true})
  try {
    await client.connect()
    if (options.deferEnable && mayDeferEnable(client)) {
      const missing = required.filter(extension => !client.capabilities.has(extension))
      if (missing.length > 0) throw missingExtension(settings, missing)
    } else {
      await enableExtensions(client, settings, required)
    }
  } catch (error) {
    signal?.removeEventListener('abort', onAbort)
    client.close()
    if (signal?.aborted) throw new OperationAborted()
    if (refusesPasswords(client)) throw loginDisabled(settings, client.secureConnection)
    if (error instanceof NoSaslPlain) throw noSaslPlain(settings)
    throw explainImapError(error, settings, account)
  }

  client.once('close', () => signal?.removeEventListener('abort', onAbort))
  return client
}

/** Whether the server offered no way to log in with a password, so that none was tried (see loginDisabled). */
function refusesPasswords(client: ImapFlow): boolean {
  const {capabilities} = client
  return !client.authenticated && capabilities.has('LOGINDISABLED') && !capabilities.has('AUTH=PLAIN') && !capabilities.has('AUTH=LOGIN')
}

const enableSent = new WeakMap<ImapFlow, Promise<void>>()

/**
 * Sends the ENABLE of a connection opened with deferEnable (once: ENABLE is only valid before a mailbox is selected,
 * and imapflow remembers what it enabled), and refuses a server that would not enable the required extensions.
 */
export async function enableExtensions(client: ImapFlow, settings: Pick<ImapSettings, 'url'>, required: readonly string[]): Promise<void> {
  // The promise, not a flag: a second mailbox opened while the ENABLE is in flight waits for its answer too.
  let sent = enableSent.get(client)
  if (!sent) {
    sent = enableNow(client)
    enableSent.set(client, sent)
  }

  await sent
  const missing = required.filter(extension => !client.enabled.has(extension))
  if (missing.length > 0) throw missingExtension(settings, missing)
}

/** Logs out while the connection still can, and closes it in any case (a failed LOGOUT is no failure of the caller). */
export async function closeAdminConnection(client: ImapFlow): Promise<void> {
  try {
    if (client.usable) await client.logout()
  } catch {
    // Closing anyway.
  } finally {
    client.close()
  }
}

/**
 * Runs IMAP work on an admin connection, turning an abort into OperationAborted and a failure into one clear line
 * naming the account (never the login).
 */
export async function guardImap<T>(
  connection: {account: string; client: ImapFlow; settings: ImapSettings; signal?: AbortSignal},
  work: () => Promise<T>,
): Promise<T> {
  const {account, client, settings, signal} = connection
  if (signal?.aborted) throw new OperationAborted()
  try {
    return await work()
  } catch (error) {
    if (signal?.aborted) throw new OperationAborted()
    throw explainSessionError(refusedAfterBye(error, client) ? closedByServer() : error, settings, account)
  }
}

/**
 * imapflow closes the connection a moment after the server's BYE (deferred to the next turn of the event loop): a
 * command issued in between is refused with NoMailboxSelected, as the session has left its selected state, although
 * the cause is the server ending the session (a `doveadm kick` did this in CI: the scan said "No mailbox is
 * selected" instead of naming the closed connection).
 */
function refusedAfterBye(error: unknown, client: ImapFlow): boolean {
  return (error as {code?: string} | undefined)?.code === 'NoMailboxSelected' && client.byeReason !== undefined
}

function closedByServer(): Error {
  return Object.assign(new Error('the server ended the session'), {code: 'NoConnection'})
}
