import type {ImapRestoreTarget} from './imap-restore-target.js'

import {ImapError} from '../appserver/imap/imap-errors.js'

/**
 * The AppServer answered NO to creating a folder: a name its storage does not allow (a "." in a name on a Maildir++
 * Dovecot, where Carbonio allows it; a name too long). Only that folder's messages cannot go in: an import reports
 * them as not restored, naming the folder and the server's reason, and goes on with the other folders.
 */
export class FolderRefused extends ImapError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message, 'account')
    this.name = 'FolderRefused'
  }
}

/**
 * The mailbox of a folder path, created when missing (or the destination's folder of its special use:
 * ImapRestoreTarget.ensureFolder), or the server's refusal to create it.
 */
export async function folderOrRefusal(
  target: ImapRestoreTarget,
  path: string,
  specialUseOf?: (key: string) => null | string | undefined,
): Promise<FolderRefused | string> {
  try {
    return await target.ensureFolder(path, specialUseOf)
  } catch (error) {
    if (error instanceof FolderRefused) return error
    throw error
  }
}
