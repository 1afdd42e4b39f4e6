import type {Catalog} from '../catalog/catalog.js'
import type {ItemState} from '../scanner/versions.js'

import {locatorOf, locatorPrefix, parseLocator} from '../appserver/imap/imap-identity.js'
import {ROOT_FOLDER_ID, systemMailFolderPath} from '../history/system-folders.js'
import {
  loadLiveItemsAtPlaces, loadLiveItemsInFolders, OPEN_ITEM_COLUMNS, type OpenItemRow, stateFromRow,
} from '../scanner/item-rows.js'

/** What the catalog holds for an account, as a scan compares it with the server. */
export interface BackupAccount {
  id: number
  name: string
  deleted: boolean
}

export interface BackupFolder {
  id: string
  path: string
  parent: null | string
  metadata: Record<string, unknown>
}

/** A live item as the scan needs it: where the server had it, and what it was. */
export interface BackupItem {
  id: string
  folder: string
  flags: string[]
  digest: null | string
  size: null | number
  contentMissing: boolean
  /** The UIDVALIDITY and UID the item had when last seen; undefined for an item not placed by the IMAP connector. */
  place: undefined | {uid: number; uidvalidity: number}
  metadata: Record<string, unknown>
}

export async function findBackupAccount(catalog: Catalog, name: string): Promise<BackupAccount | undefined> {
  const row = await catalog.db('accounts').where({name: name.toLowerCase()}).first('id', 'name', 'deleted_at')
  return row ? {id: Number(row.id), name: row.name, deleted: row.deleted_at !== null} : undefined
}

/**
 * Records that this server's AppServer has the account (unless another server claimed it first): a SmartScan records
 * as deleted only the accounts of its own server that its directory no longer lists, never those of another server
 * sharing the PostgreSQL catalog, which its directory never listed.
 */
export async function claimAccount(catalog: Catalog, accountId: number, server: string): Promise<void> {
  // Read first: a no-change sweep of many accounts should not pay a write each once they are claimed.
  const row: undefined | {server: null | string} = await catalog.db('accounts').where({id: accountId}).first('server')
  if (row && row.server === null) await catalog.db('accounts').where({id: accountId}).whereNull('server').update({server})
}

/**
 * Folders of these views hold what IMAP does not show (the redolog feeds them): no mailbox is ever one of them, so a
 * scan over IMAP must neither adopt them nor take them for gone, which would delete them and everything in them.
 */
const VIEWS_IMAP_CANNOT_SEE = ['contact', 'appointment', 'task', 'document']

/** The account's folders that are not deleted and that IMAP can show, by id. */
export async function liveFolders(catalog: Catalog, accountId: number): Promise<Map<string, BackupFolder>> {
  const rows = await catalog.db('folders as f')
  .join('folder_revisions as r', 'r.folder_id', 'f.id')
  .where('f.account_id', accountId)
  .whereNull('r.valid_to')
  .where('r.deleted', false)
  .where(q => q.whereNull('r.view').orWhereNotIn('r.view', VIEWS_IMAP_CANNOT_SEE))
  .select('f.remote_id', 'r.path', 'r.parent_remote_id', 'r.metadata')
  return new Map(rows.map((row: {metadata: string; parent_remote_id: null | string; path: string; remote_id: string}) => [row.remote_id, {
    id: row.remote_id,
    path: row.path,
    parent: row.parent_remote_id,
    metadata: JSON.parse(row.metadata),
  }]))
}

/**
 * Carbonio's system mail folders (Inbox, Sent, ...) that live items are in though the catalog has no folder for them:
 * a redolog writer may never send their folder.created. A scan takes the mailbox at their well-known path for them
 * (planFolders), instead of making a second Inbox that would hold every message twice.
 */
export async function undeclaredSystemFolders(
  catalog: Catalog,
  accountId: number,
  declared: ReadonlyMap<string, BackupFolder>,
): Promise<Map<string, BackupFolder>> {
  const rows: Array<{folder: null | string}> = await catalog.db('items as i')
  .join('item_revisions as r', 'r.item_id', 'i.id')
  .where('i.account_id', accountId)
  .whereNull('r.valid_to')
  .where('r.deleted', false)
  .distinct({folder: 'r.folder_remote_id'})
  const found = new Map<string, BackupFolder>()
  for (const {folder} of rows) {
    const folderPath = folder === null || declared.has(folder) ? undefined : systemMailFolderPath(folder)
    if (folderPath) {
      found.set(folder!, {
        id: folder!, path: folderPath, parent: ROOT_FOLDER_ID, metadata: {},
      })
    }
  }

  return found
}

/**
 * Live messages in some folders of an account (their open revision is in one of them and not deleted). Only
 * messages: a mailbox never lists the contacts, appointments, tasks or documents that the redolog may have put in the
 * same folder (the Trash), and a scan comparing them with it would take them for deleted.
 */
export async function liveItems(catalog: Catalog, accountId: number, folders: string[]): Promise<BackupItem[]> {
  const items: BackupItem[] = []
  for (let i = 0; i < folders.length; i += 200) {
    for (const state of await loadLiveItemsInFolders(catalog.db, accountId, folders.slice(i, i + 200))) {
      if (state.type === 'message') items.push(backupItemOf(state))
    }
  }

  return items
}

/** An incremental read of a folder: the UIDs it reports changed or vanished, at the folder's UIDVALIDITY. */
export interface IncrementalRead {
  folder: string
  uidvalidity: number
  uids: readonly number[]
}

/**
 * What the diff of an incremental read needs of each folder read (folder-diff.ts): the live items at the UIDs the
 * read reports, those not placed at the folder's UIDVALIDITY, and the number of places it holds at that UIDVALIDITY.
 * All the folders of one cycle in one catalog pass.
 */
export async function liveItemsAtUids(
  catalog: Catalog,
  accountId: number,
  reads: readonly IncrementalRead[],
): Promise<Map<string, {items: BackupItem[]; placed: number}>> {
  const answers = await loadLiveItemsAtPlaces(catalog.db, accountId, reads.map(read => ({
    folder: read.folder,
    placePrefix: locatorPrefix(read.uidvalidity),
    locators: read.uids.map(uid => locatorOf(read.uidvalidity, uid)),
  })))
  return new Map([...answers].map(([folder, {placed, states}]) => [folder, {items: states.map(state => backupItemOf(state)), placed}]))
}

function backupItemOf(state: ItemState): BackupItem {
  const version = state.current!
  return {
    id: state.remoteId,
    folder: version.folder!,
    flags: version.flags,
    digest: version.blobDigest,
    size: version.size,
    contentMissing: version.contentMissing,
    place: parseLocator(version.locator),
    metadata: version.metadata,
  }
}

/** A message of the account with a given content, live or deleted not long ago (messagesWithContent). */
export interface ContentHolder extends BackupItem {
  deleted: boolean
  /** When the deletion was recorded (ms), for a deleted one. */
  deletedAt?: number
}

/**
 * The account's messages whose content is one of `digests`: live ones wherever they are, and deleted ones whose
 * deletion was recorded at or after `deletedSince`. A new message with such content may be one of them that moved
 * while the cycle read its two folders at different moments (LateMoves).
 */
export async function messagesWithContent(catalog: Catalog, accountId: number, digests: readonly string[], deletedSince: number): Promise<ContentHolder[]> {
  const holders: ContentHolder[] = []
  for (let i = 0; i < digests.length; i += 200) {
    const rows: OpenItemRow[] = await catalog.db('items as i')
    .join('item_revisions as r', 'r.item_id', 'i.id')
    .where('i.account_id', accountId)
    .whereIn('r.blob_digest', digests.slice(i, i + 200))
    .whereNull('r.valid_to')
    .where(q => q.where('r.deleted', false).orWhere('r.valid_from', '>=', deletedSince))
    .select(OPEN_ITEM_COLUMNS)
    for (const state of rows.map(row => stateFromRow(row))) {
      if (state.type === 'message') {
        const {deleted, validFrom} = state.current!
        holders.push({...backupItemOf(state), deleted, ...(deleted ? {deletedAt: validFrom} : {})})
      }
    }
  }

  return holders
}
