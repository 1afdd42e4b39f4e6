import type {BlobRepair} from './repairs.js'

import {throwIfAborted} from '../errors.js'
import {
  type CheckRun, found, isoTime, reportCounters,
} from './check-run.js'
import {intervalProblems, type RevisionSpan} from './intervals.js'
import {verifyStoredBlobs} from './stored-blobs.js'

export interface AccountRef {
  key: number
  name: string
}

/** Item or folder identities read per query; their revisions come in one query per page. */
const PAGE = 500

/**
 * The scanner requires content for these types (docs/redolog.md): a revision of one of them either names a blob
 * or says its content is missing. Other types (contacts, appointments, tasks) may have no content at all.
 */
const CONTENT_TYPES = new Set(['document', 'message'])

interface ItemRevisionRow {
  id: number
  item_id: number
  valid_from: number
  valid_to: null | number
  blob_digest: null | string
  size: null | number
  content_missing: boolean | number
}

interface Owner {
  id: number
  remote_id: string
  type?: string
}

/**
 * Checks every revision of one account's items and folders: validity intervals, and for items what their content
 * reference points at. Pages by (account, remote id), which the unique index serves in order, so the cost is
 * linear in the account's size and memory stays at one page.
 */
export async function checkAccountRevisions(run: CheckRun, account: AccountRef): Promise<void> {
  for await (const items of pages(run, 'items', account, ['id', 'remote_id', 'type'])) {
    const rows: ItemRevisionRow[] = await run.context.catalog
    .db('item_revisions')
    .whereIn('item_id', items.map(i => i.id))
    .orderBy([{column: 'item_id'}, {column: 'valid_from'}, {column: 'id'}])
    .select('id', 'item_id', 'valid_from', 'valid_to', 'blob_digest', 'size', 'content_missing')
    const byItem = groupBy(rows, r => Number(r.item_id))
    const references = new Map<string, Array<{item: Owner; revisions: ItemRevisionRow[]}>>()
    for (const item of items) {
      const revisions = byItem.get(Number(item.id)) ?? []
      await checkIntervals(run, {table: 'item_revisions', account, owner: item}, revisions.map(row => spanOf(row)))
      checkContentReference(run, {account, item, revisions}, references)
    }

    run.checked.items += items.length
    run.checked.itemRevisions += rows.length
    await checkReferencedBlobs(run, account, references)
    reportCounters(run)
  }

  for await (const folders of pages(run, 'folders', account, ['id', 'remote_id'])) {
    const rows: Array<{id: number; folder_id: number; valid_from: number; valid_to: null | number}> = await run.context.catalog
    .db('folder_revisions')
    .whereIn('folder_id', folders.map(f => f.id))
    .orderBy([{column: 'folder_id'}, {column: 'valid_from'}, {column: 'id'}])
    .select('id', 'folder_id', 'valid_from', 'valid_to')
    const byFolder = groupBy(rows, r => Number(r.folder_id))
    for (const folder of folders) {
      await checkIntervals(run, {table: 'folder_revisions', account, owner: folder}, (byFolder.get(Number(folder.id)) ?? []).map(row => spanOf(row)))
    }

    run.checked.folders += folders.length
    run.checked.folderRevisions += rows.length
    reportCounters(run)
  }
}

async function * pages(run: CheckRun, table: 'folders' | 'items', account: AccountRef, columns: string[]): AsyncGenerator<Owner[]> {
  let after: null | string = null
  for (;;) {
    throwIfAborted(run.context.signal)
    const query = run.context.catalog.db(table).where('account_id', account.key)
    if (after !== null) query.andWhere('remote_id', '>', after)
    const rows: Owner[] = await query.orderBy('remote_id').limit(PAGE).select(columns)
    if (rows.length === 0) return
    after = rows.at(-1)!.remote_id
    yield rows.map(r => ({...r, id: Number(r.id)}))
  }
}

/** Whose revisions are checked: an item or a folder of an account. */
interface Subject {
  table: 'folder_revisions' | 'item_revisions'
  account: AccountRef
  owner: Owner
}

async function checkIntervals(run: CheckRun, subject: Subject, spans: RevisionSpan[]): Promise<void> {
  const {account, owner, table} = subject
  const where = table === 'item_revisions'
    ? {account: account.name, item: owner.remote_id, ...(owner.type ? {itemType: owner.type} : {})}
    : {account: account.name, folder: owner.remote_id}
  const what = table === 'item_revisions' ? `item ${owner.remote_id}` : `folder ${owner.remote_id}`
  const problems = intervalProblems(spans)
  if (problems.inverted.length > 0) {
    found(run, 'invertedIntervals', {
      ...where,
      revisions: problems.inverted.map(s => s.id),
      detail: `${what}: ${problems.inverted.map(s => `revision ${s.id} ends at ${isoTime(s.validTo)}, before it begins at ${isoTime(s.validFrom)}`).join('; ')}`,
    })
  }

  if (problems.duplicateOpen.length > 0) {
    const finding = found(run, 'multipleOpenRevisions', {
      ...where,
      revisions: problems.duplicateOpen.map(s => s.id),
      detail: `${what}: ${problems.duplicateOpen.length} open revisions (${problems.duplicateOpen.map(s => `${s.id} from ${isoTime(s.validFrom)}`).join(', ')})`,
    })
    await run.repairs?.closeDuplicateOpen(table, table === 'item_revisions' ? 'item_id' : 'folder_id', owner.id, finding)
  }

  if (problems.overlaps.length > 0) {
    found(run, 'overlappingIntervals', {
      ...where,
      revisions: [...new Set(problems.overlaps.flat().map(s => s.id))],
      detail: `${what}: ${problems.overlaps.map(([a, b]) => describeOverlap(a, b)).join('; ')}`,
    })
  }

  if (problems.noOpen) {
    found(run, 'noOpenRevision', {
      ...where,
      detail: spans.length === 0 ? `${what} has no revision at all` : `${what}: all ${spans.length} revisions are closed, the last at ${isoTime(spans.at(-1)!.validTo)}`,
    })
  }
}

/**
 * What the scanner writes (content-resolver.ts, flush-items.ts): a content with a known digest gives blob_digest
 * and a blob row (stored, or not stored in blobless mode or when the content was gone); a content that could not
 * be read and had no announced digest gives blob_digest NULL with content_missing. So a message or document
 * revision with neither references nothing; blob digests are collected to look their rows up per page.
 */
function checkContentReference(
  run: CheckRun,
  {account, item, revisions}: {account: AccountRef; item: Owner; revisions: ItemRevisionRow[]},
  references: Map<string, Array<{item: Owner; revisions: ItemRevisionRow[]}>>,
): void {
  const contentless = revisions.filter(r => r.blob_digest === null && !r.content_missing)
  if (CONTENT_TYPES.has(item.type ?? '') && contentless.length > 0) {
    found(run, 'contentlessRevisions', {
      account: account.name,
      item: item.remote_id,
      itemType: item.type,
      revisions: contentless.map(r => Number(r.id)),
      detail: `${contentless.length} revision(s) of ${item.type} ${item.remote_id} name no blob and are not marked as missing content`,
    })
  }

  for (const revision of revisions) {
    if (revision.blob_digest === null) continue
    const list = references.get(revision.blob_digest) ?? []
    const entry = list.find(e => e.item === item)
    if (entry) entry.revisions.push(revision)
    else list.push({item, revisions: [revision]})
    references.set(revision.blob_digest, list)
  }
}

/** Blob rows of the digests a page of items references: dangling references, and (for named accounts) the files. */
async function checkReferencedBlobs(
  run: CheckRun,
  account: AccountRef,
  references: Map<string, Array<{item: Owner; revisions: ItemRevisionRow[]}>>,
): Promise<void> {
  if (references.size === 0) return
  const rows: Array<{digest: string; stored: boolean | number}> = await run.context.catalog
  .db('blobs')
  .whereIn('digest', [...references.keys()])
  .select('digest', 'stored')
  const known = new Map(rows.map(r => [r.digest, Boolean(r.stored)]))
  const repairs: BlobRepair[] = []
  for (const [digest, referencing] of references) {
    if (known.has(digest)) continue
    let repaired = false
    for (const {item, revisions} of referencing) {
      const finding = found(run, 'danglingReferences', {
        account: account.name,
        item: item.remote_id,
        itemType: item.type,
        digest,
        revisions: revisions.map(r => Number(r.id)),
        detail: `${revisions.length} revision(s) of item ${item.remote_id} reference blob ${digest}, which has no blob row`,
      })
      if (!repaired) {
        const size = Number(revisions.find(r => r.size !== null)?.size ?? 0)
        repairs.push({
          type: 'addRow', digest, size, finding,
        })
        repaired = true
      }
    }
  }

  await run.repairs?.applyBlobRepairs(repairs)
  // The whole backup: the blob pass reads every stored file once. Named accounts: the files their items reference.
  if (run.recentBlobs) {
    const toVerify = [...known].filter(([digest, stored]) => stored && !run.recentBlobs!.has(digest)).map(([digest]) => digest)
    for (const digest of toVerify) run.recentBlobs.add(digest)
    await verifyStoredBlobs(run, toVerify)
  }
}

function describeOverlap(a: RevisionSpan, b: RevisionSpan): string {
  return `revision ${a.id} (${isoTime(a.validFrom)} to ${isoTime(a.validTo)}) is still valid when ${b.id} begins at ${isoTime(b.validFrom)}`
}

function spanOf(row: {id: number; valid_from: number; valid_to: null | number}): RevisionSpan {
  return {id: Number(row.id), validFrom: Number(row.valid_from), validTo: row.valid_to === null ? null : Number(row.valid_to)}
}

function groupBy<T>(rows: T[], key: (row: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>()
  for (const row of rows) {
    const list = groups.get(key(row))
    if (list) list.push(row)
    else groups.set(key(row), [row])
  }

  return groups
}
