/**
 * A Transaction is one mailbox change as a connector (redolog, IMAP) reports it. The Realtime Scanner replays
 * transactions on the catalog in order and never overwrites: each one closes the affected state's validity and
 * adds a new revision. Connectors normalise whatever the server speaks into these shapes.
 */

export const ITEM_TYPES = ['message', 'contact', 'appointment', 'task', 'document'] as const
export type ItemType = (typeof ITEM_TYPES)[number]

/** Where the content of an item is, as the AppServer tells it. */
export interface ContentRef {
  /** A file in the AppServer's store (absolute, or relative to the redolog directory). */
  path?: string
  /** Small items may travel inline, base64-encoded. */
  inline?: string
  /**
   * The content itself, in memory: what a connector that has just read it from the server (IMAP BODY.PEEK[]) hands
   * to the blob store, without a detour through a file or base64. Never part of a serialised transaction.
   */
  bytes?: Uint8Array
  /**
   * Set by a connector that has itself put `bytes` into the blob store under `digest` (hashed, compressed, fsynced):
   * the scanner records the blob without hashing and storing the same bytes again. Never part of a serialised
   * transaction (the redolog parser keeps only the documented fields).
   */
  storedSize?: number
  /** Bytes of the raw content, when the server knows it. */
  size?: number
  /** sha256 hex of the raw content, when the server knows it; checked against what is read. */
  digest?: string
  /** An opaque server-side locator kept on the revision (for blobless restores), e.g. an IMAP mailbox/UID. */
  locator?: string
}

export interface AccountData {
  /** The server's id for the account (Carbonio zimbraId), when known. */
  id?: string
  cos?: string
  settings?: Record<string, unknown>
}

export interface FolderData {
  /** The server's stable folder id. */
  folder: string
  /** Parent folder id; absent for a top-level folder. */
  parent?: string
  /** Display path, e.g. "/Inbox/Projects". */
  path?: string
  /** message, contact, appointment, task, document: what the folder holds. */
  view?: string
  metadata?: Record<string, unknown>
}

export interface ItemData {
  /** The server's stable item id within the account. */
  item: string
  type?: ItemType
  folder?: string
  flags?: string[]
  tags?: string[]
  /** Type-specific metadata (headers of a message, fields of a contact, ...). */
  metadata?: Record<string, unknown>
  content?: ContentRef
  /** For item.copied: the item the copy was made from. */
  source?: string
}

export type Transaction = TransactionBase
  & (
    | {op: 'account.created'; data: AccountData}
    | {op: 'account.deleted'; data: Record<string, never>}
    | {op: 'account.modified'; data: AccountData}
    | {op: 'account.renamed'; data: {name: string}}
    | {op: 'folder.created'; data: FolderData}
    | {op: 'folder.deleted'; data: {folder: string}}
    | {op: 'folder.emptied'; data: {folder: string}}
    | {op: 'folder.moved'; data: FolderData}
    | {op: 'folder.renamed'; data: FolderData}
    | {op: 'item.copied'; data: ItemData & {source: string}}
    | {op: 'item.created'; data: ItemData}
    | {op: 'item.deleted'; data: {item: string}}
    | {op: 'item.flags'; data: {flags: string[]; item: string}}
    | {op: 'item.modified'; data: ItemData}
    // A redolog move names the folder only; a move an IMAP AppServer shows (the message at a new UID elsewhere) also
    // carries its new place (content locator) and the flags it has there.
    // undoesDeletion: the IMAP connector saw the MOVE's expunge a cycle before its append, and recorded it as the
    // item's deletion. That deletion never was: the move takes its place, from its moment (see Batch.undoDeletion).
    | {op: 'item.moved'; data: Pick<ItemData, 'content' | 'flags' | 'metadata' | 'tags'> & {folder: string; item: string; undoesDeletion?: true}}
    | {op: 'item.tags'; data: {item: string; tags: string[]}}
  )

export interface TransactionBase {
  /** Monotonically increasing position in the feed (redolog sequence number). */
  seq: number
  /** When it happened on the server (ms since the epoch), or when it was observed. */
  time: number
  /** The account address. */
  account: string
  /** Where it came from, for error reports: file and line, or mailbox. */
  origin: {line?: number; source: string}
  /**
   * The account is uncertain from this transaction on, for this reason, until a scan that began by `since` aligns it
   * with the server: the first capture of an account, which a stopped or killed scan leaves part-way.
   */
  doubt?: {reason: string; since: number}
}

export type TransactionOp = Transaction['op']

export const TRANSACTION_OPS: readonly TransactionOp[] = [
  'account.created',
  'account.deleted',
  'account.modified',
  'account.renamed',
  'folder.created',
  'folder.deleted',
  'folder.emptied',
  'folder.moved',
  'folder.renamed',
  'item.copied',
  'item.created',
  'item.deleted',
  'item.flags',
  'item.modified',
  'item.moved',
  'item.tags',
]
