import type {Knex} from 'knex'

import {dialectOf, jsonRowsSource} from '../catalog/bulk-rows.js'
import {itemKey, type ItemState, type ItemVersion} from './versions.js'

/** Columns of an item's open revision, joined with its identity. */
export interface OpenItemRow {
  item_id: number
  account_id: number
  remote_id: string
  type: string
  valid_from: number
  operation: string
  folder_remote_id: null | string
  flags: string
  tags: string
  metadata: string
  blob_digest: null | string
  size: null | number
  locator: null | string
  content_missing: boolean | number
  deleted: boolean | number
  txn_seq: null | number
}

export const OPEN_ITEM_COLUMNS = [
  'i.id as item_id',
  'i.account_id',
  'i.remote_id',
  'i.type',
  'r.valid_from',
  'r.operation',
  'r.folder_remote_id',
  'r.flags',
  'r.tags',
  'r.metadata',
  'r.blob_digest',
  'r.size',
  'r.locator',
  'r.content_missing',
  'r.deleted',
  'r.txn_seq',
]

const OPEN_ITEM_SQL = OPEN_ITEM_COLUMNS.map(c => c.replace(/^(\w)\.(\w+) as (\w+)$/, '$1.$2 AS $3')).join(', ')
const KEYS_PER_LOOKUP = 2000

export function versionFromRow(row: OpenItemRow): ItemVersion {
  return {
    validFrom: Number(row.valid_from),
    operation: row.operation,
    folder: row.folder_remote_id,
    flags: JSON.parse(row.flags),
    tags: JSON.parse(row.tags),
    metadata: JSON.parse(row.metadata),
    metadataText: row.metadata,
    blobDigest: row.blob_digest,
    size: row.size === null ? null : Number(row.size),
    locator: row.locator,
    contentMissing: Boolean(row.content_missing),
    deleted: Boolean(row.deleted),
    txnSeq: row.txn_seq === null ? null : Number(row.txn_seq),
  }
}

export function stateFromRow(row: OpenItemRow): ItemState {
  return {
    accountId: Number(row.account_id),
    remoteId: row.remote_id,
    type: row.type,
    itemId: Number(row.item_id),
    openInDb: true,
    current: versionFromRow(row),
    pending: [],
  }
}

/** Items by (account, remote id) with their open revision; items without one (impossible by design) are skipped. */
export async function loadOpenItems(
  db: Knex | Knex.Transaction,
  keys: Array<[number, string]>,
): Promise<Map<string, ItemState>> {
  const states = new Map<string, ItemState>()
  const k = jsonRowsSource(dialectOf(db), 'k', ['integer', 'text'])
  const sql = `SELECT ${OPEN_ITEM_SQL} FROM ${k.source}
    JOIN items i ON i.account_id = ${k.column(0)} AND i.remote_id = ${k.column(1)}
    JOIN item_revisions r ON r.item_id = i.id AND r.valid_to IS NULL`
  for (let i = 0; i < keys.length; i += KEYS_PER_LOOKUP) {
    const result = await db.raw(sql, [JSON.stringify(keys.slice(i, i + KEYS_PER_LOOKUP))])
    const rows: OpenItemRow[] = Array.isArray(result) ? result : result.rows
    for (const row of rows) states.set(itemKey(Number(row.account_id), row.remote_id), stateFromRow(row))
  }

  return states
}

/** Live (not deleted) items of an account whose open revision is in one of the folders. */
export async function loadLiveItemsInFolders(
  db: Knex | Knex.Transaction,
  accountId: number,
  folders: string[],
): Promise<ItemState[]> {
  const rows: OpenItemRow[] = await db('items as i')
  .join('item_revisions as r', 'r.item_id', 'i.id')
  .where('i.account_id', accountId)
  .whereNull('r.valid_to')
  .where('r.deleted', false)
  .whereIn('r.folder_remote_id', folders)
  .select(OPEN_ITEM_COLUMNS)
  return rows.map(row => stateFromRow(row))
}

/** One folder's question to loadLiveItemsAtPlaces: its id, the locator prefix of its UIDVALIDITY, the places asked. */
export interface FolderPlaces {
  folder: string
  placePrefix: string
  locators: readonly string[]
}

/** loadLiveItemsAtPlaces' answer for one folder. */
export interface ItemsAtPlaces {
  /** How many distinct places at the folder's UIDVALIDITY it holds. */
  placed: number
  states: ItemState[]
}

/**
 * The live items of some folders of an account that incremental reads concern: in each folder, those at the given
 * places (IMAP locators of the folder's current UIDVALIDITY) and every one not placed at that UIDVALIDITY; plus how
 * many distinct places at that UIDVALIDITY each folder holds. A folder of thousands with a dozen changes decodes a
 * dozen rows, not thousands. One pass reads the open revisions' ids, folders and locators only, and the rows chosen
 * are then read whole by id. The catalog has no index by folder, so that pass walks the account's items: once for
 * all the folders a cycle read (a walk per folder made the account's SQL most of an incremental SmartScan's, on the
 * one catalog connection that every account scanned at once waits for).
 */
export async function loadLiveItemsAtPlaces(
  db: Knex | Knex.Transaction,
  accountId: number,
  questions: readonly FolderPlaces[],
): Promise<Map<string, ItemsAtPlaces>> {
  const answers = new Map<string, ItemsAtPlaces>()
  if (questions.length === 0) return answers
  const asked = new Map(questions.map(q => [q.folder, {...q, wanted: new Set(q.locators), places: new Set<string>()}]))
  const live: Array<{folder: string; id: number; locator: null | string}> = await db('items as i')
  .join('item_revisions as r', 'r.item_id', 'i.id')
  .where('i.account_id', accountId)
  .whereNull('r.valid_to')
  .where('r.deleted', false)
  .whereIn('r.folder_remote_id', [...asked.keys()])
  .select('r.id', 'r.locator', 'r.folder_remote_id as folder')
  const chosen: number[] = []
  for (const {folder, id, locator} of live) {
    const q = asked.get(folder)!
    const placedHere = locator !== null && locator.startsWith(q.placePrefix)
    if (placedHere) q.places.add(locator)
    if (!placedHere || q.wanted.has(locator)) chosen.push(id)
  }

  for (const q of asked.values()) answers.set(q.folder, {placed: q.places.size, states: []})
  for (let i = 0; i < chosen.length; i += KEYS_PER_LOOKUP) {
    const rows: OpenItemRow[] = await db('item_revisions as r')
    .join('items as i', 'i.id', 'r.item_id')
    .whereIn('r.id', chosen.slice(i, i + KEYS_PER_LOOKUP))
    // Still open: another writer may have closed one since the pass above (the cycle's checkpoint then conflicts).
    .whereNull('r.valid_to')
    .select(OPEN_ITEM_COLUMNS)
    for (const row of rows) answers.get(row.folder_remote_id!)!.states.push(stateFromRow(row))
  }

  return answers
}

/** The columns of an item revision, in the order revisionValues lists them (for bulkInsert). */
export const REVISION_COLUMNS = [
  {name: 'item_id', type: 'bigint'},
  {name: 'valid_from', type: 'bigint'},
  {name: 'valid_to', type: 'bigint'},
  {name: 'operation', type: 'text'},
  {name: 'folder_remote_id', type: 'text'},
  {name: 'flags', type: 'text'},
  {name: 'tags', type: 'text'},
  {name: 'metadata', type: 'text'},
  {name: 'blob_digest', type: 'text'},
  {name: 'size', type: 'bigint'},
  {name: 'locator', type: 'text'},
  {name: 'content_missing', type: 'boolean'},
  {name: 'deleted', type: 'boolean'},
  {name: 'txn_seq', type: 'bigint'},
] as const

export function revisionValues(itemId: number, version: ItemVersion, validTo: null | number): unknown[] {
  return [
    itemId,
    version.validFrom,
    validTo,
    version.operation,
    version.folder,
    JSON.stringify(version.flags),
    JSON.stringify(version.tags),
    version.metadataText ?? JSON.stringify(version.metadata),
    version.blobDigest,
    version.size,
    version.locator,
    version.contentMissing,
    version.deleted,
    version.txnSeq,
  ]
}
