import {readFileSync, type Stats, statSync} from 'node:fs'
import {userInfo} from 'node:os'
import path from 'node:path'

import {LOGIN_MODES, type LoginMode} from '../../config/attributes.js'
import {UserError} from '../../errors.js'
import {foreignOwnerOf} from '../../password-file-owner.js'

/** What the IMAP connector needs from the configuration (never the password itself: see readPassword). */
export interface ImapSettings {
  host: string
  port: number
  secure: boolean
  /** imap://host:port or imaps://host:port, for messages. */
  url: string
  user: string
  loginMode: LoginMode
  passwordFile: string
  /** The command printing one account per line; null when not configured. */
  accountsCommand: null | string
}

/** Whether this server's configuration names an IMAP AppServer at all. */
export function imapConfigured(config: Map<string, null | string>): boolean {
  return Boolean(config.get('backupAppServerUrl'))
}

/** The connector settings of a server's configuration; a missing one is a single line naming what to set. */
export function imapSettings(config: Map<string, null | string>): ImapSettings {
  const missing = ['backupAppServerUrl', 'backupAppServerUser', 'backupAppServerPasswordFile'].filter(name => !config.get(name))
  if (missing.length > 0) {
    throw new UserError(`the IMAP AppServer is not configured: set ${missing.join(', ')} (carbonio config set global <attribute> <value>)`)
  }

  const url = new URL(config.get('backupAppServerUrl')!)
  const secure = url.protocol === 'imaps:'
  const mode = config.get('backupAppServerLoginMode') ?? 'sasl-authzid'
  return {
    host: url.hostname.replace(/^\[(.*)]$/, '$1'),
    port: url.port ? Number(url.port) : (secure ? 993 : 143),
    secure,
    url: `${url.protocol}//${url.host}`,
    user: config.get('backupAppServerUser')!,
    loginMode: (LOGIN_MODES as readonly string[]).includes(mode) ? mode as LoginMode : 'sasl-authzid',
    passwordFile: config.get('backupAppServerPasswordFile')!,
    accountsCommand: config.get('backupAccountsCommand') ?? null,
  }
}

/**
 * The admin password, read from its file at each use (so a changed password needs no restart). The file must still
 * be readable by its owner only, and belong to the backup's user (foreignOwnerOf); the password is the first line,
 * and no message ever contains any of it. Read synchronously: a SmartScan opens a connection per account, and
 * fs/promises' stat, open, fstat, read and close of a one-line file cost more main-thread time (1.4 ms) than the
 * account's LIST-STATUS.
 */
export async function readPassword(settings: Pick<ImapSettings, 'passwordFile'>): Promise<string> {
  const file = settings.passwordFile
  let stat: Stats
  try {
    stat = statSync(file)
  } catch (error) {
    const {code} = (error as NodeJS.ErrnoException)
    if (denied(code)) {
      const user = backupUser()
      throw new UserError(`backupAppServerPasswordFile ${file} cannot be reached by ${user}, the user the backup runs as (${code}): let ${user} enter ${path.dirname(file)}`)
    }

    throw new UserError(`backupAppServerPasswordFile ${file} cannot be read: create it (chmod 600) with the admin password`)
  }

  if ((stat.mode & 0o077) !== 0) throw new UserError(`backupAppServerPasswordFile ${file} is readable by others: run chmod 600 ${file}`)
  const foreign = foreignOwnerOf(file, stat.uid)
  if (foreign) throw new UserError(`backupAppServerPasswordFile ${foreign}`)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const {code} = (error as NodeJS.ErrnoException)
    if (denied(code)) {
      // The usual case: written as root (umask 077) for a daemon that runs as its unit's User= (zextras).
      const user = backupUser()
      throw new UserError(`backupAppServerPasswordFile ${file} cannot be read by ${user}, the user the backup runs as (${code}): make ${user} its owner (chown ${user} ${file}; chmod 600 ${file})`)
    }

    throw new UserError(`backupAppServerPasswordFile ${file} cannot be read (${code ?? 'error'})`)
  }

  const password = text.split(/\r?\n/)[0]
  if (!password) throw new UserError(`backupAppServerPasswordFile ${file} is empty: its first line must be the admin password`)
  return password
}

function denied(code: string | undefined): boolean {
  return code === 'EACCES' || code === 'EPERM'
}

/** Who this process runs as, for the fix of a permission error: a name when the system has one, else the uid. */
function backupUser(): string {
  try {
    return userInfo().username
  } catch {
    return String(process.getuid?.() ?? 'this user')
  }
}
