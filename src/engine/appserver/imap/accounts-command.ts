import {UserError} from '../../errors.js'
import {runShellCommand} from '../shell-command.js'

const TIMEOUT_MS = 5 * 60_000

/**
 * What an account name may look like: a local part (RFC 5322 atext and dots, letters of any script), optionally @ and
 * a domain. A command that exits 0 but prints a warning or an error of its directory ("ERROR: account.SERVICE_FAILURE",
 * "Warning: ...") has those words skipped instead of taken for accounts: logged in as, Dovecot refused them as it
 * refuses a wrong admin password, which paused the capture of every account and failed the SmartScan.
 */
const ACCOUNT_NAME = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-]+(?:@[\p{L}\p{N}.-]+)?$/u

/**
 * The accounts of the AppServer, from the administrator's directory command (backupAccountsCommand, run by the
 * shell: `zmprov -l gaa`, `doveadm user '*'`): the first word of each line, in lower case, without blank lines,
 * duplicates or words that cannot be an account name. A failing command is one line with its exit status and the
 * first line it printed on stderr.
 */
export async function runAccountsCommand(command: null | string, signal?: AbortSignal): Promise<string[]> {
  if (!command) {
    throw new UserError("backupAccountsCommand is not set: set it to a command printing one account per line (zmprov -l gaa on Carbonio, doveadm user '*' on Dovecot)")
  }

  const output = await runShellCommand(['-c', command], {
    maxBuffer: 512 * 1024 * 1024, signal, timeoutMs: TIMEOUT_MS, what: 'backupAccountsCommand failed',
  })
  const accounts = new Set<string>()
  for (const line of output.split('\n')) {
    // The first word of the line: a command that adds columns after the address still works.
    const account = line.trim().split(/\s+/)[0].toLowerCase()
    if (ACCOUNT_NAME.test(account)) accounts.add(account)
  }

  return [...accounts]
}

/**
 * The accounts command exited 0 listing no account: for the capture a failure, not a server without accounts. A
 * directory that printed only a warning (or nothing) left the daemon "running" while following nothing, and
 * `daemon once` "synchronised 0 of 0 accounts" with exit 0.
 */
export function noAccountListed(command: null | string): UserError {
  return new UserError(`the accounts command listed no account: ${command} (check backupAccountsCommand)`)
}

/** The domains of a list of accounts, sorted (an account without a domain has none). */
export function domainsOf(accounts: readonly string[]): string[] {
  return [...new Set(accounts.map(account => account.split('@')[1]).filter(Boolean))].sort()
}
