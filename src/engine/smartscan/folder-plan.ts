import type {ImapAccountPosition, ImapFolderPosition} from '../appserver/imap/imap-position.js'
import type {ServerFolder} from '../appserver/imap/imap-session.js'
import type {BackupFolder} from './backup-view.js'

import {IMAP_ROOT_PARENT, newFolderId} from '../appserver/imap/imap-identity.js'
import {NO_STATUS, sameStatus} from '../appserver/imap/imap-position.js'
import {inboxKey, isInboxPath} from '../folder-path.js'

/** A mailbox of the server, with the catalog folder it is. */
export interface PlannedFolder {
  id: string
  server: ServerFolder
  /** Where the backup of this folder stood (its checkpoint entry); undefined when it has none. */
  known?: ImapFolderPosition
  /** The parent folder id, or the root ('1') for a top-level mailbox or one whose parent is no mailbox. */
  parent: string
  /** The folder revision this scan adds, if the catalog's current one differs (or there is none). */
  change: 'folder.created' | 'folder.moved' | 'folder.renamed' | null
}

export interface FolderPlan {
  /** Every mailbox of the server, parents before children. */
  folders: PlannedFolder[]
  /** Folders of the backup that no mailbox is any more, deepest first. */
  gone: Array<{id: string; path: string}>
}

/** What the scan found out beyond the mailboxes, their positions and the catalog's folders. */
export interface PlanKnowledge {
  /** Paths whose mailbox has a new UIDVALIDITY and none of the old folder's mail (recreatedWithOtherMail). */
  recreated?: ReadonlySet<string>
  /** System folders the backup's items are in but the catalog never declared (undeclaredSystemFolders). */
  undeclared?: ReadonlyMap<string, BackupFolder>
}

/**
 * Which catalog folder each mailbox is. Without OBJECTID a mailbox is recognised by its UIDVALIDITY (kept by RENAME)
 * and its path: same path and UIDVALIDITY is the same folder; the same UIDVALIDITY at a new path is that folder
 * renamed (whether its old path is gone or holds a new mailbox); the same path with a new UIDVALIDITY is otherwise
 * still that folder (its messages are matched again by content, not duplicated), unless it is empty or `recreated`
 * (a new mailbox under the old name); a live catalog folder at the path, with no checkpoint entry, is adopted;
 * anything else is a new folder.
 */
export function planFolders(
  server: readonly ServerFolder[],
  position: ImapAccountPosition,
  catalog: ReadonlyMap<string, BackupFolder>,
  {recreated = new Set(), undeclared = new Map()}: PlanKnowledge = {},
): FolderPlan {
  const recreatedPaths = new Set([...recreated].map(p => inboxKey(p)))
  const madeAgain = (folder: ServerFolder) => !isInboxPath(folder.path) && (folder.status?.messages === 0 || recreatedPaths.has(inboxKey(folder.path)))
  const known = new Map(Object.entries(position.folders))
  const assigned = new Map<ServerFolder, string>()
  const used = new Set<string>()
  const take = (folder: ServerFolder, id: string) => {
    assigned.set(folder, id)
    used.add(id)
  }

  const serverPaths = new Set(server.map(folder => inboxKey(folder.path)))
  const unassigned = () => server.filter(folder => !assigned.has(folder))
  const free = () => [...known].filter(([id]) => !used.has(id))
  // 1. Same path, same UIDVALIDITY (a \Noselect mailbox has none: the path alone).
  for (const folder of server) {
    const match = free().find(([, k]) => inboxKey(k.path) === inboxKey(folder.path) && (!folder.status || k.uidvalidity === folder.status.uidvalidity))
    if (match) take(folder, match[0])
  }

  // 2. Renamed: the UIDVALIDITY of a folder whose path is gone from the server; then of one whose path another mailbox
  // holds now (step 1 left it free, so that one has another UIDVALIDITY): a folder renamed and a new one made under its
  // old name, as a user archiving "Projects" as "Projects 2025" and starting a new "Projects" does. Taken the other way
  // (the new mailbox as the old folder renumbered), the old folder's history went on in the new, empty one, and
  // doUndelete put what had been deleted from it there instead of in the folder its messages are in now.
  for (const oldPathHeld of [false, true]) {
    for (const folder of unassigned()) {
      if (!folder.status) continue
      const match = free().find(([, k]) => k.uidvalidity === folder.status!.uidvalidity && serverPaths.has(inboxKey(k.path)) === oldPathHeld)
      if (match) take(folder, match[0])
    }
  }

  // 3. Same path, new UIDVALIDITY: the server lost its UID list, or the mailbox was deleted and made again with the
  // same messages put back; they are matched again by content. One that is empty now is a new mailbox made under the
  // old one's name (a user deleting "Projects" with its mail and starting a new one): taken for the old folder, the
  // old one's history went on in it, and doUndelete put the deleted mail there (and wherever a later rename took it)
  // instead of back under the name it was deleted with. So is one that holds none of the old folder's mail
  // (`recreated`: recreatedWithOtherMail). INBOX cannot be deleted: it stays itself.
  for (const folder of unassigned()) {
    if (madeAgain(folder)) continue
    const match = free().find(([, k]) => inboxKey(k.path) === inboxKey(folder.path))
    if (match) take(folder, match[0])
  }

  // 4. A live catalog folder at that path without a checkpoint entry (a scan interrupted before its last batch).
  for (const folder of unassigned()) {
    const match = [...catalog.values()].find(c => !used.has(c.id) && !known.has(c.id) && inboxKey(c.path) === inboxKey(folder.path))
    if (match) take(folder, match.id)
  }

  // 4b. A system folder that the backup's items are in but the catalog never had (undeclaredSystemFolders): adopted,
  // and created at the mailbox's path; one the server does not list is not taken for gone, it was never declared.
  for (const folder of unassigned()) {
    const match = [...undeclared.values()].find(c => !used.has(c.id) && !known.has(c.id) && inboxKey(c.path) === inboxKey(folder.path))
    if (match) take(folder, match.id)
  }

  // 5. New folders.
  const taken = new Set([...catalog.keys(), ...known.keys(), ...undeclared.keys()])
  for (const folder of unassigned()) {
    const id = newFolderId(folder.status?.uidvalidity ?? 0, taken)
    taken.add(id)
    take(folder, id)
  }

  const idByPath = new Map(server.map(folder => [inboxKey(folder.path), assigned.get(folder)!]))
  const folders = [...server]
  .sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : 1))
  .map(folder => {
    const id = assigned.get(folder)!
    const parent = idByPath.get(inboxKey(parentPath(folder.path))) ?? IMAP_ROOT_PARENT
    return {
      id, server: folder, known: known.get(id), parent, change: changeOf(catalog.get(id), folder.path, parent),
    }
  })
  const goneIds = new Set([...known.keys(), ...catalog.keys()].filter(id => !used.has(id)))
  const gone = [...goneIds]
  .map(id => ({id, path: catalog.get(id)?.path ?? known.get(id)!.path}))
  .sort((a, b) => depth(b.path) - depth(a.path) || (a.path < b.path ? -1 : 1))
  return {folders, gone}
}

function changeOf(current: BackupFolder | undefined, path: string, parent: string): PlannedFolder['change'] {
  if (!current) return 'folder.created'
  if (inboxKey(current.path) === inboxKey(path) && current.parent === parent) return null
  return lastSegment(current.path) === lastSegment(path) ? 'folder.moved' : 'folder.renamed'
}

function parentPath(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/'
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}

function depth(path: string): number {
  return path.split('/').length
}

/**
 * Whether the server's mailboxes are exactly those the position left, each at the same path and status: then nothing
 * changed, and a scan needs neither the catalog's folders nor any mailbox read. The checkpoint is committed with the
 * folder revisions it covers, so it speaks for the catalog; anything else (a new, renamed, emptied or vanished
 * mailbox) takes the full plan.
 */
export function serverMatchesPosition(server: readonly ServerFolder[], position: ImapAccountPosition): boolean {
  const known = Object.values(position.folders)
  if (known.length !== server.length) return false
  const byPath = new Map(known.map(k => [k.path, k]))
  return byPath.size === known.length && server.every(folder => {
    const entry = byPath.get(folder.path)
    return entry !== undefined && sameStatus(entry, folder.status ?? NO_STATUS)
  })
}
