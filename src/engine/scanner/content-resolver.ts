import {type FileHandle, open, readFile} from 'node:fs/promises'
import path from 'node:path'

import type {ContentRef, Transaction} from '../appserver/transaction.js'
import type {TransactionFeed} from './feed-entry.js'

import {type BlobStore, sha256} from '../blobstore/blob-store.js'
import {hashStream, LARGE_CONTENT_BYTES} from '../blobstore/blob-stream-write.js'

/** What the scanner learnt about one transaction's content before it writes the revision. */
export interface ResolvedContent {
  /** sha256 of the content, or null when neither the server nor the bytes can tell. */
  digest: null | string
  size: null | number
  locator: null | string
  /** The content could not be read (gone on the server) or was not what the server announced. */
  missing: boolean
  /** The content is in the blob store (written now or already there). */
  stored: boolean
  storedSize: null | number
  /** A problem to record against the transaction, without stopping the scanner. */
  problem?: string
}

export interface ContentOptions {
  blobs: BlobStore
  blobless: boolean
  feed: Pick<TransactionFeed, 'resolveContentPath'>
  /** Reads and stores at most this many contents at once: bounds memory to a few blobs in flight. */
  concurrency?: number
  /** Gets the directory of each blob written now, whose new entry must be synced before the catalog names it. */
  writtenDirs?: Set<string>
}

/** Transactions that carry content: creating, modifying or moving (to a new place on the server) an item. */
export function contentOf(transaction: Transaction): ContentRef | undefined {
  if (transaction.op === 'item.created' || transaction.op === 'item.modified' || transaction.op === 'item.moved') return transaction.data.content
  return undefined
}

/**
 * Reads every content of a batch from the AppServer and puts it in the blob store (deduplicated), before the
 * batch's database transaction: the catalog never names a blob that is not on disk. Blobless mode only hashes
 * (and skips reading entirely when the server announced digest and size).
 */
export async function resolveContents(
  transactions: Transaction[],
  options: ContentOptions,
): Promise<Map<Transaction, ResolvedContent>> {
  const results = new Map<Transaction, ResolvedContent>()
  const work: Transaction[] = []
  for (const t of transactions) {
    const ref = contentOf(t)
    if (ref === undefined) continue
    // Most references need no reading (blobless with announced digest and size, or already stored): answered here,
    // without a promise each, which cost the metadata-only ingest more than the rest of the resolving.
    const known = resolveWithoutReading(ref, options)
    if (known) results.set(t, known)
    else work.push(t)
  }

  let next = 0
  const worker = async () => {
    while (next < work.length) {
      const transaction = work[next++]
      results.set(transaction, await resolveOne(contentOf(transaction)!, options))
    }
  }

  await Promise.all(Array.from({length: Math.min(options.concurrency ?? 8, work.length)}, worker))
  return results
}

/** Reads the bytes of a content reference; undefined when the server no longer has them. */
export async function readContent(ref: ContentRef, feed: Pick<TransactionFeed, 'resolveContentPath'>): Promise<Buffer | undefined> {
  const read = await readOrWhyNot(ref, feed)
  return typeof read === 'string' ? undefined : read
}

/** The bytes of a content reference, or why they cannot be read now or ever (a problem to record, not to retry). */
async function readOrWhyNot(ref: ContentRef, feed: Pick<TransactionFeed, 'resolveContentPath'>): Promise<Buffer | string> {
  if (ref.bytes !== undefined) return Buffer.from(ref.bytes.buffer, ref.bytes.byteOffset, ref.bytes.byteLength)
  if (ref.inline !== undefined) return Buffer.from(ref.inline, 'base64')
  if (ref.path === undefined) return GONE
  try {
    return await readFile(feed.resolveContentPath(ref.path))
  } catch (error) {
    const reason = unreadableForGood(error)
    if (reason) return reason
    throw error
  }
}

/**
 * Blobless mode copies no content, because a restore can read it back from where the AppServer keeps it. Content
 * given inline with no locator is kept nowhere else: the line is its only copy, so it is stored all the same.
 */
function keptByTheAppServer(ref: ContentRef): boolean {
  return ref.inline === undefined || ref.locator !== undefined
}

/** What the reference itself tells, when that is all there is to know: undefined when the bytes must be read. */
function resolveWithoutReading(ref: ContentRef, options: ContentOptions): ResolvedContent | undefined {
  const locator = ref.locator ?? ref.path ?? null
  if (options.blobless && ref.digest && ref.size !== undefined && keptByTheAppServer(ref)) {
    return {
      locator, storedSize: null, digest: ref.digest, size: ref.size, missing: false, stored: false,
    }
  }

  if (!options.blobless && ref.storedSize !== undefined && ref.digest && ref.size !== undefined) {
    return {
      locator, digest: ref.digest, size: ref.size, missing: false, stored: true, storedSize: ref.storedSize,
    }
  }

  return undefined
}

/** Reads, checks and (unless blobless) stores the bytes of a reference that resolveWithoutReading could not answer. */
async function resolveOne(ref: ContentRef, options: ContentOptions): Promise<ResolvedContent> {
  const large = await resolveLargeFile(ref, options)
  if (large) return large
  const base = {locator: ref.locator ?? ref.path ?? null, storedSize: null}
  const content = await readOrWhyNot(ref, options.feed)
  if (typeof content === 'string') return gone(ref, content)
  const digest = sha256(content)
  if ((ref.digest && ref.digest !== digest) || (ref.size !== undefined && ref.size !== content.length)) return mismatch(ref, digest, content.length)
  if (options.blobless && keptByTheAppServer(ref)) return {
    ...base, digest, size: content.length, missing: false, stored: false,
  }
  // Copied to the writer thread, not lent: moving them bought the redolog ingest no speed (its main thread is not
  // what copying slows) and cost 10 MB of peak memory (measured at 100k transactions with content).
  const stored = await options.blobs.put(content, digest)
  if (stored.written) options.writtenDirs?.add(path.dirname(options.blobs.pathOf(digest)))
  return {
    ...base, digest, size: stored.size, missing: false, stored: true, storedSize: stored.storedSize,
  }
}

/**
 * A large file of the AppServer's store hashed and (unless blobless) stored as it is read: read whole, a 50 MB message
 * cost its size several times over in memory, in each of the contents resolved at once. Undefined for anything else
 * (small, inline, in memory), which resolveOne reads whole; the file's size is asked only when the reference does not
 * announce it.
 */
async function resolveLargeFile(ref: ContentRef, options: ContentOptions): Promise<ResolvedContent | undefined> {
  if (ref.path === undefined || ref.bytes !== undefined || ref.inline !== undefined || (ref.size !== undefined && ref.size < LARGE_CONTENT_BYTES)) return undefined
  let handle: FileHandle
  try {
    handle = await open(options.feed.resolveContentPath(ref.path), 'r')
  } catch (error) {
    const reason = unreadableForGood(error)
    if (reason) return gone(ref, reason)
    throw error
  }

  try {
    if ((await handle.stat()).size < LARGE_CONTENT_BYTES) return undefined
    const pieces = handle.createReadStream({autoClose: false, highWaterMark: 1024 * 1024})
    const locator = ref.locator ?? ref.path
    if (options.blobless) {
      const {digest, size} = await hashStream(pieces)
      if ((ref.digest && ref.digest !== digest) || (ref.size !== undefined && ref.size !== size)) return mismatch(ref, digest, size)
      return {
        locator, storedSize: null, digest, size, missing: false, stored: false,
      }
    }

    const stored = await options.blobs.putStream(pieces, {digest: ref.digest, size: ref.size})
    if (!stored.ok) return mismatch(ref, stored.digest, stored.size)
    if (stored.written) options.writtenDirs?.add(path.dirname(options.blobs.pathOf(stored.digest)))
    return {
      locator, digest: stored.digest, size: stored.size, missing: false, stored: true, storedSize: stored.storedSize,
    }
  } finally {
    await handle.close()
  }
}

function gone(ref: ContentRef, reason = GONE): ResolvedContent {
  return missing(ref, ref.digest ?? null, ref.size ?? null, `content ${describe(ref)} ${reason}: recorded as missing`)
}

function mismatch(ref: ContentRef, digest: string, size: number): ResolvedContent {
  const announced = `announced ${ref.digest ?? '-'}, ${ref.size ?? '-'} bytes`
  return missing(ref, ref.digest ?? digest, ref.size ?? size, `content ${describe(ref)} does not match the transaction (digest ${digest}, ${size} bytes; ${announced}): recorded as missing`)
}

/** A content recorded as missing on its revision, with the problem reported for it. */
function missing(ref: ContentRef, digest: null | string, size: null | number, problem: string): ResolvedContent {
  return {
    locator: ref.locator ?? ref.path ?? null, storedSize: null, digest, size, missing: true, stored: false, problem,
  }
}

const GONE = 'is gone on the AppServer'

/**
 * Why a content file cannot be read, when that will not change by retrying: the file is gone, or the path names a
 * directory (a writer's mistake). Recorded on its line like a gone file, since throwing would stop the scanner on
 * that line for ever and hold back every line after it. Anything else (EACCES, EIO, EMFILE) may pass: it is thrown,
 * and the batch is read again, rather than recording as missing a content that is still on the server.
 */
function unreadableForGood(error: unknown): string | undefined {
  const {code} = (error as NodeJS.ErrnoException)
  if (code === 'ENOENT' || code === 'ENOTDIR') return GONE
  if (code === 'EISDIR') return 'is a directory, not a file'
  return undefined
}

/** How a problem names the content: its file, its server locator, or that it came inline. */
function describe(ref: ContentRef): string {
  return ref.path ?? ref.locator ?? '(inline)'
}
