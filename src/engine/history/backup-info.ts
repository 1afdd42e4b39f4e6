import type {Catalog} from '../catalog/catalog.js'

import {serverConfig} from '../config/config-store.js'
import {uncertainAccounts} from '../scanner/account-certainty.js'
import {SMARTSCAN_REQUIRED} from './account-certainty-view.js'
import {blobReferenceTotals} from './blob-references.js'
import {blobStoreUsage} from './blob-store-usage.js'
import {catalogSize} from './catalog-size.js'
import {currentWithoutContent} from './current-without-content.js'

export interface BackupInfo {
  backupPath: string
  catalog: {dialect: Catalog['dialect']; location: string; metadataBytes: number}
  blobStore: {
    /**
     * Blob files found under items/ and their size on disk (gzip); null unless countFiles was asked: the walk takes
     * seconds per 100k files, and the catalog's figures below are what the blob writer recorded of the same files.
     */
    files: null | number
    bytesOnDisk: null | number
    /** What the catalog records as stored: should equal the two above (doCoherencyCheck finds differences). */
    catalogStored: number
    catalogStoredBytes: number
  }
  counts: {accounts: number; deletedAccounts: number; domains: number; items: number; revisions: number; blobs: number}
  dedup: {
    definition: string
    referencedBytes: number
    storedBytes: number
    ratio: null | number
    perItemDefinition: string
    perItemReferencedBytes: number
    perItemRatio: null | number
    /** Raw size of the stored blobs, and that over their size in the store: the part of the ratio due to gzip. */
    storedRawBytes: number
    compressionRatio: null | number
  }
  blobless: {
    enabled: boolean
    /** Current (not deleted) item states with content whose bytes are not in the backup. */
    currentWithoutContent: number
    /** ... because blobless mode kept only the reference. */
    currentNotStored: number
    /** ... because the content was gone (or wrong) on the AppServer when it was read. */
    currentContentMissing: number
  }
  lastTransaction: {
    seq: null | number
    time: null | number
    /** now - time of the last applied transaction, in ms: grows while the feed is idle, too. */
    lagMs: null | number
    checkpoints: Array<{connector: string; scope: string; seq: null | number; file: null | string; updatedAt: number}>
  }
  ingestErrors: {
    count: number
    newest: Array<{id: number; where: string; account: null | string; reason: string; recordedAt: number}>
  }
  uncertainAccounts: Array<{account: string; reason: null | string; since: null | number; advice: string}>
}

export interface BackupInfoOptions {
  /** Walk the blob store and count its files and their bytes on disk (the default; seconds per 100k files). */
  countFiles?: boolean
}

export const DEDUP_DEFINITION
  = 'sum of the raw sizes of all item revisions that reference a stored blob (every state counts, deleted ones included) / bytes the stored blobs take in the store (gzip)'
export const PER_ITEM_DEDUP_DEFINITION
  = 'sum of the raw sizes of distinct (item, content) pairs whose blob is stored, i.e. each version of each item once / the same stored bytes'
const NEWEST_ERRORS = 20

/** The state of the whole backup: where it is, how big, how current, what went wrong. */
export async function backupInfo(catalog: Catalog, server: string, now = Date.now(), options: BackupInfoOptions = {}): Promise<BackupInfo> {
  const {db} = catalog
  const config = await serverConfig(catalog, server)
  const [disk, metadataBytes] = await Promise.all([options.countFiles === false ? null : blobStoreUsage(catalog.home), catalogSize(catalog)])
  const [accounts] = await db('accounts').select(db.raw('COUNT(*) as n'), db.raw('SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) as deleted'))
  const [blobs] = await db('blobs').select(
    db.raw('COUNT(*) as n'),
    db.raw('SUM(CASE WHEN stored = ? THEN 1 ELSE 0 END) as stored', [true]),
    db.raw('SUM(CASE WHEN stored = ? THEN stored_size ELSE 0 END) as stored_bytes', [true]),
    db.raw('SUM(CASE WHEN stored = ? THEN size ELSE 0 END) as stored_raw_bytes', [true]),
  )
  const references = await blobReferenceTotals(catalog)
  const current = await currentWithoutContent(catalog, references.pairsWithoutRow)
  const storedBytes = Number(blobs.stored_bytes ?? 0)
  const {referencedBytes, perItemReferencedBytes: perItemBytes} = references
  const {contentMissing: missing, notStored} = current
  const last = await lastTransaction(catalog, server, now)
  const [errors] = await db('ingest_errors').count({n: '*'})
  const newest: Array<{account: null | string; id: number; line: null | number; reason: string; recorded_at: number; source: string}> = await db('ingest_errors')
  .orderBy('id', 'desc')
  .limit(NEWEST_ERRORS)
  .select('id', 'source', 'line', 'account', 'reason', 'recorded_at')
  return {
    backupPath: catalog.home,
    catalog: {dialect: catalog.dialect, location: catalog.location, metadataBytes},
    blobStore: {
      files: disk?.files ?? null, bytesOnDisk: disk?.bytes ?? null, catalogStored: Number(blobs.stored ?? 0), catalogStoredBytes: storedBytes,
    },
    counts: {
      accounts: Number(accounts.n),
      deletedAccounts: Number(accounts.deleted ?? 0),
      domains: await count(catalog, 'domains'),
      items: await count(catalog, 'items'),
      revisions: await count(catalog, 'item_revisions'),
      blobs: Number(blobs.n),
    },
    dedup: {
      definition: DEDUP_DEFINITION,
      referencedBytes,
      storedBytes,
      ratio: ratio(referencedBytes, storedBytes),
      perItemDefinition: PER_ITEM_DEDUP_DEFINITION,
      perItemReferencedBytes: perItemBytes,
      perItemRatio: ratio(perItemBytes, storedBytes),
      storedRawBytes: Number(blobs.stored_raw_bytes ?? 0),
      compressionRatio: ratio(Number(blobs.stored_raw_bytes ?? 0), storedBytes),
    },
    blobless: {
      enabled: config.get('backupBloblessMode') === 'true',
      currentWithoutContent: missing + notStored,
      currentNotStored: notStored,
      currentContentMissing: missing,
    },
    lastTransaction: last,
    ingestErrors: {
      count: Number(errors.n),
      newest: newest.map(e => ({
        id: Number(e.id),
        where: e.line === null ? e.source : `${e.source}:${Number(e.line)}`,
        account: e.account,
        reason: e.reason,
        recordedAt: Number(e.recorded_at),
      })),
    },
    uncertainAccounts: (await uncertainAccounts(catalog)).map(a => ({
      account: a.account, reason: a.reason, since: a.since, advice: SMARTSCAN_REQUIRED,
    })),
  }
}

async function count(catalog: Catalog, table: string): Promise<number> {
  const [row] = await catalog.db(table).count({n: '*'})
  return Number(row.n)
}

function ratio(referenced: number, stored: number): null | number {
  return stored === 0 ? null : Math.round((referenced / stored) * 100) / 100
}

/**
 * The newest transaction applied: its seq from this server's redolog checkpoint (committed with the revisions it
 * produced; other servers sharing the catalog have their own, and an older catalog's unscoped one counts too), its
 * time the newest start of a revision. Every checkpoint is listed.
 */
async function lastTransaction(catalog: Catalog, server: string, now: number): Promise<BackupInfo['lastTransaction']> {
  const {db} = catalog
  const rows: Array<{connector: string; position: string; scope: string; updated_at: number}> = await db('checkpoints')
  .orderBy(['connector', 'scope'])
  .select('connector', 'scope', 'position', 'updated_at')
  const checkpoints = rows.map(row => {
    const position = parsePosition(row.position)
    return {
      connector: row.connector,
      scope: row.scope,
      seq: typeof position.seq === 'number' ? position.seq : null,
      file: typeof position.file === 'string' ? position.file : null,
      updatedAt: Number(row.updated_at),
    }
  })
  const times: number[] = []
  for (const table of ['item_revisions', 'folder_revisions', 'account_revisions']) {
    // A batch inserts its revisions grouped by item, not in transaction order, and one batch may write any number of
    // them (8000 transactions, an emptied folder): no window of newest rows is sure to hold the last transaction's,
    // so the newest time is taken from every row (one scan, like the dedup sums above).
    const [newest] = await db(table).max({t: 'valid_from'})
    if (newest?.t !== null && newest?.t !== undefined) times.push(Number(newest.t))
  }

  const seqs = checkpoints
  .filter(c => c.connector !== 'redolog' || c.scope === server || c.scope === '')
  .map(c => c.seq)
  .filter((seq): seq is number => seq !== null)
  const time = times.length === 0 ? null : Math.max(...times)
  return {
    seq: seqs.length === 0 ? null : Math.max(...seqs),
    time,
    lagMs: time === null ? null : Math.max(0, now - time),
    checkpoints,
  }
}

function parsePosition(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text)
    return value !== null && typeof value === 'object' ? value : {}
  } catch {
    return {}
  }
}
