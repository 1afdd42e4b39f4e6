import {execFile} from 'node:child_process'

import {UserError} from '../../errors.js'

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

  const output = await new Promise<string>((resolve, reject) => {
    execFile('/bin/sh', ['-c', command], {maxBuffer: 512 * 1024 * 1024, signal, timeout: TIMEOUT_MS}, (error, stdout, stderr) => {
      if (!error) {
        resolve(stdout)
        return
      }

      if (error.name === 'AbortError') {
        reject(error)
        return
      }

      const why = String(stderr).trim().split('\n')[0] || error.message.split('\n')[0]
      const status = error.killed ? `timed out after ${TIMEOUT_MS / 1000} s` : `exit ${error.code ?? error.signal ?? '?'}`
      reject(new UserError(`backupAccountsCommand failed (${status}): ${why}`))
    })
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
