import type {Catalog} from '../catalog/catalog.js'
import type {ItemRevision} from '../history/item-revision.js'

import {ImapError} from '../appserver/imap/imap-errors.js'
import {parseLocator} from '../appserver/imap/imap-identity.js'
import {ImapSession} from '../appserver/imap/imap-session.js'
import {type ImapSettings} from '../appserver/imap/imap-settings.js'
import {blobReaders} from '../blobstore/blob-reader-pool.js'
import {BlobStore, sha256} from '../blobstore/blob-store.js'
import {MovedContent} from './moved-content.js'

/** An item whose content a restore needs: its catalog key (for its locators) and the state being restored. */
export interface ContentRequest {
  accountKey: number
  item: string
  state: ItemRevision
}

export type ContentResult = {bytes: Buffer; ok: true} | {ok: false; reason: string}

/**
 * Where a restore reads the exact bytes of a message: the backup's blob store, or, when the blob is not stored
 * (blobless mode), the AppServer through the item's locators (`imap:<UIDVALIDITY>/<UID>`), newest first, from the
 * mailbox that has that UIDVALIDITY now, else by its size and digest in any folder (moved since the last scan).
 * Whatever the AppServer returns must hash to the recorded digest.
 */
export class ContentSource {
  private readonly blobs: BlobStore
  private session: ImapSession | null = null
  private mailboxes: null | Promise<Map<number, string>> = null
  private moved: MovedContent | null = null

  constructor(
    private readonly catalog: Catalog,
    private readonly source: {account: string; settings: ImapSettings | null; signal: AbortSignal},
  ) {
    this.blobs = new BlobStore(catalog.home)
  }

  async read(request: ContentRequest): Promise<ContentResult> {
    const {state} = request
    const digest = state.blobDigest
    if (digest === null) return {ok: false, reason: 'the item has no content'}
    if (state.contentStored) {
      try {
        return {ok: true, bytes: await this.blobs.get(digest)}
      } catch (error) {
        return this.afterBlobFailure(request, digest, error as NodeJS.ErrnoException)
      }
    }

    return this.fromServerOnly(request, digest)
  }

  /**
   * The contents of many items, in order: the stored blobs read together by the blob reader threads, the others (and
   * a blob that fails) one by one as read() does.
   */
  async readMany(requests: readonly ContentRequest[]): Promise<ContentResult[]> {
    const stored = requests.filter(({state}) => state.blobDigest !== null && state.contentStored)
    const contents = await blobReaders().read(this.blobs.home, stored.map(({state}) => state.blobDigest!))
    const fromBlobs = new Map(stored.map((request, i) => [request, contents[i]]))
    const results: ContentResult[] = []
    for (const request of requests) {
      const content = fromBlobs.get(request)
      if (content === undefined) results.push(await this.read(request))
      else if (Buffer.isBuffer(content)) results.push({ok: true, bytes: content})
      else results.push(await this.afterBlobFailure(request, request.state.blobDigest!, content))
    }

    return results
  }

  async close(): Promise<void> {
    await this.session?.close()
    this.session = null
    this.moved = null
  }

  /** A stored blob that could not be read: the AppServer may still have the content. */
  private async afterBlobFailure(request: ContentRequest, digest: string, error: NodeJS.ErrnoException): Promise<ContentResult> {
    const why = error.code === 'ENOENT' ? `blob ${digest} is missing from the blob store` : error.message
    const fromServer = await this.fromServer(request, digest)
    return fromServer ?? {ok: false, reason: `${why}, and the AppServer no longer has it`}
  }

  /** Content that is not in the backup (blobless mode): only the AppServer has it. */
  private async fromServerOnly(request: ContentRequest, digest: string): Promise<ContentResult> {
    if (!this.source.settings) return {ok: false, reason: 'its content is not in the backup (blobless mode) and no AppServer is configured to read it from'}
    const fromServer = await this.fromServer(request, digest)
    return fromServer ?? {ok: false, reason: 'its content is not in the backup (blobless mode) and is gone from the AppServer'}
  }

  private async fromServer(request: ContentRequest, digest: string): Promise<{bytes: Buffer; ok: true} | undefined> {
    if (!this.source.settings) return undefined
    const rows: Array<{locator: null | string}> = await this.catalog.db('item_revisions as r')
    .join('items as i', 'i.id', 'r.item_id')
    .where({'i.account_id': request.accountKey, 'i.remote_id': request.item})
    .whereNotNull('r.locator')
    .orderBy([{column: 'r.valid_from', order: 'desc'}, {column: 'r.id', order: 'desc'}])
    .select('r.locator')
    const seen = new Set<string>()
    for (const {locator} of rows) {
      if (locator === null || seen.has(locator)) continue
      seen.add(locator)
      const place = parseLocator(locator)
      if (!place) continue
      const mailbox = (await this.mailboxesByUidvalidity()).get(place.uidvalidity)
      if (mailbox === undefined) continue
      const bodies = await this.session!.bodies(mailbox, [place.uid])
      const bytes = bodies.get(place.uid)
      if (bytes && sha256(bytes) === digest) return {ok: true, bytes}
    }

    // No locator leads to it: it may have moved to another folder since the last scan.
    const {size} = request.state
    const byName = await this.mailboxesByUidvalidity()
    if (size === null || !this.session || byName.size === 0) return undefined
    this.moved ??= new MovedContent(this.session, [...byName.values()])
    const bytes = await this.moved.lookUp(digest, size)
    return bytes ? {ok: true, bytes} : undefined
  }

  /** Shared by reads running at once: one session, one LIST. */
  private mailboxesByUidvalidity(): Promise<Map<number, string>> {
    this.mailboxes ??= this.listMailboxes()
    return this.mailboxes
  }

  private async listMailboxes(): Promise<Map<number, string>> {
    const map = new Map<number, string>()
    try {
      this.session ??= await ImapSession.open(this.source.settings!, this.source.account, {signal: this.source.signal})
      for (const folder of await this.session.folders()) {
        if (folder.status) map.set(folder.status.uidvalidity, folder.mailbox)
      }
    } catch (error) {
      // The source account itself is gone from the server (deleted, renamed): so is its content there. A problem with
      // the server (unreachable, the admin login refused) stops the restore instead.
      if (!(error instanceof ImapError) || error.scope !== 'account') throw error
    }

    return map
  }
}
