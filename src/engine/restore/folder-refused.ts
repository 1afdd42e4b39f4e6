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
