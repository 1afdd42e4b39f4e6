import {runShellCommand} from './shell-command.js'

const TIMEOUT_MS = 2 * 60_000

/**
 * The shell text of backupProvisioningCommand for one run. The address never becomes shell text: `{account}` turns
 * into "$1" and `{domain}` into "$2", positional parameters that /bin/sh expands as plain words, so an address like
 * `a;rm -rf ~@x` is one argument and nothing else. Without `{account}`, "$1" is appended as the last argument.
 */
export function provisioningScript(command: string): string {
  const withAccount = command.includes('{account}') ? command.replaceAll('{account}', '"$1"') : `${command} "$1"`
  return withAccount.replaceAll('{domain}', '"$2"')
}

/**
 * Creates an account on the AppServer with the administrator's backupProvisioningCommand (Carbonio:
 * `zmprov ca {account} <password>`; Dovecot: a script adding a passdb/userdb entry). A failing command is one line
 * with its exit status and the first line it printed on stderr.
 */
export async function runProvisioningCommand(command: string, account: string, signal?: AbortSignal): Promise<void> {
  const domain = account.split('@')[1] ?? ''
  await runShellCommand(['-c', provisioningScript(command), 'carbonio-provision', account, domain], {
    maxBuffer: 16 * 1024 * 1024, signal, timeoutMs: TIMEOUT_MS, what: `backupProvisioningCommand failed for ${account}`,
  })
}
