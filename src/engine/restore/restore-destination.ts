import type {ImapSettings} from '../appserver/imap/imap-settings.js'
import type {ProgressSink} from '../progress.js'

import {ImapError, UnreadableInbox} from '../appserver/imap/imap-errors.js'
import {runProvisioningCommand} from '../appserver/provisioning-command.js'
import {OperationAborted, UserError} from '../errors.js'
import {ImapRestoreTarget} from './imap-restore-target.js'

export interface DestinationOptions {
  /** backupProvisioningCommand; null or undefined when the administrator configured none. */
  provisioningCommand?: null | string
  progress: ProgressSink
  signal: AbortSignal
}

export interface OpenedDestination {
  target: ImapRestoreTarget
  /** The account did not exist: the provisioning command created it. */
  created: boolean
}

/** How long a just-created account may take to be seen (a directory cache, a passwd-file read once a second). */
const VISIBLE_WITHIN_MS = 15_000

/**
 * The restore target of a destination account, created first with backupProvisioningCommand when the AppServer
 * would not open it. "Would not open" is the admin login's authorization failure for that account (scope 'account');
 * a server-wide failure (unreachable, wrong admin password) stops the restore as it is, never provisions.
 */
export async function openDestination(settings: ImapSettings, account: string, options: DestinationOptions): Promise<OpenedDestination> {
  const {progress, provisioningCommand, signal} = options
  try {
    return {target: await ImapRestoreTarget.open(settings, account, signal), created: false}
  } catch (error) {
    // Opened but its mail unseen: the account exists, and creating it would not make its mail seen.
    if (!(error instanceof ImapError) || error.scope !== 'account' || error instanceof UnreadableInbox) throw error
    if (!provisioningCommand) {
      throw new UserError(`${error.message}: create ${account} on the AppServer, or set backupProvisioningCommand so that restores create missing accounts`)
    }
  }

  progress({kind: 'step', account, message: 'not on the AppServer: creating it with backupProvisioningCommand'})
  await runProvisioningCommand(provisioningCommand, account, signal)
  const deadline = Date.now() + VISIBLE_WITHIN_MS
  for (;;) {
    try {
      const target = await ImapRestoreTarget.open(settings, account, signal)
      progress({kind: 'step', account, message: 'created on the AppServer'})
      return {target, created: true}
    } catch (error) {
      if (error instanceof OperationAborted || !(error instanceof ImapError) || error.scope !== 'account') throw error
      if (Date.now() > deadline) {
        throw new UserError(`backupProvisioningCommand ran for ${account} but the AppServer still would not open it: ${error.message}`)
      }
    }

    await new Promise(resolve => {
      setTimeout(resolve, 200)
    })
  }
}
