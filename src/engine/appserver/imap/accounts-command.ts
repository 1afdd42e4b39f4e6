import {UserError} from '../../errors.js'
import {runShellCommand} from '../shell-command.js'

const TIMEOUT_MS = 5 * 60_000

/**
 * The accounts of the AppServer, from the administrator's directory command (backupAccountsCommand, run by the
 * shell: `zmprov -l gaa`, `doveadm user '*'`): the first word of each line, in lower case, without blank lines
 * or duplicates. A failing command is one line with its exit status and the first line it printed on stderr.
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
    if (account !== '') accounts.add(account)
  }

  return [...accounts]
}

/** The domains of a list of accounts, sorted (an account without a domain has none). */
export function domainsOf(accounts: readonly string[]): string[] {
  return [...new Set(accounts.map(account => account.split('@')[1]).filter(Boolean))].sort()
}
