import type {ImapSession, MessageMeta} from '../appserver/imap/imap-session.js'
import type {Catalog} from '../catalog/catalog.js'
import type {FolderPlan} from './folder-plan.js'

import {isInboxPath} from '../folder-path.js'
import {type BackupItem, liveItems} from './backup-view.js'
import {sameInternalDate} from './message-likeness.js'

/**
 * The paths of the mailboxes that planFolders took for the known folder at their path although their UIDVALIDITY is
 * new, and that hold mail, none of it the old folder's: a folder deleted with its mail and made again under its name,
 * into which other mail went before this scan. planFolders keeps such a path as the same folder so that a mailbox the
 * server renumbered (or one recreated with its messages put back) keeps its history; for these it must not, or the
 * old folder's history went on in the new one and doUndelete put its deleted mail there. Costs one listing of each
 * such mailbox, which only a new UIDVALIDITY brings (the full read that follows reads the same).
 */
export async function recreatedWithOtherMail(plan: FolderPlan, {accountId, catalog, session}: {
  accountId: number
  catalog: Catalog
  session: ImapSession
}): Promise<Set<string>> {
  const recreated = new Set<string>()
  for (const f of plan.folders) {
    const {status} = f.server
    // Taken for the known folder at its path although the UIDVALIDITY differs: planFolders' same-path rule.
    if (!f.known || !status || status.messages === 0 || f.known.uidvalidity === status.uidvalidity || isInboxPath(f.server.path)) continue
    const before = await liveItems(catalog, accountId, [f.id])
    // Nothing of the old folder left to mistake for it: whatever it is, no deleted mail goes astray.
    if (before.length === 0) continue
    const {messages} = await session.readMessages(f.server.mailbox, 1, status.uidnext - 1)
    if (!messages.some(message => before.some(item => couldBe(item, message)))) recreated.add(f.server.path)
  }

  return recreated
}

/**
 * Whether the message could be the backup item, put back: the same size, and the same Message-ID or internal date
 * (a renumbered mailbox may date its messages anew; a message without Message-ID has its date).
 */
function couldBe(item: BackupItem, message: MessageMeta): boolean {
  if (item.size !== null && item.size !== message.size) return false
  const {messageId} = message.headers
  return (messageId !== null && item.metadata.messageId === messageId) || sameInternalDate(item.metadata, message)
}
