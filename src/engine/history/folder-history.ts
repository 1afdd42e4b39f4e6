import type {Knex} from 'knex'

import {type HistoryTime, isValidAt} from './history-time.js'
import {ROOT_FOLDER_ID, unknownFolderPath} from './system-folders.js'

/** A folder as it was at some moment. */
export interface FolderAt {
  /** The server's folder id. */
  id: string
  /** Derived from the names of the folder and its ancestors at that moment: "/Inbox/Projects". */
  path: string
  parent: null | string
  view: null | string
  metadata: Record<string, unknown>
  /** When this state of the folder began (ms). */
  since: number
  operation: string
}

interface FolderRevision {
  validFrom: number
  validTo: null | number
  operation: string
  path: string
  parent: null | string
  view: null | string
  deleted: boolean
  metadata: Record<string, unknown>
}

interface FolderRow {
  remote_id: string
  valid_from: number
  valid_to: null | number
  operation: string
  path: string
  parent_remote_id: null | string
  view: null | string
  deleted: boolean | number
  metadata: string
}

/**
 * Every revision of an account's folders, in memory (folders are few, even where items are many), answering "which
 * folders, with which paths, at time T". A folder's path at T is its own name (the last segment of the path it was
 * given) under its parent's path at T, so renaming or moving a folder moves its subfolders too, as the redolog
 * documents; a folder whose parent the catalog does not know keeps the path the server gave it.
 */
export class FolderHistory {
  private constructor(private readonly revisions: ReadonlyMap<string, FolderRevision[]>) {}

  static async load(db: Knex, accountKey: number): Promise<FolderHistory> {
    const rows: FolderRow[] = await db('folders as f')
    .join('folder_revisions as r', 'r.folder_id', 'f.id')
    .where('f.account_id', accountKey)
    .orderBy([{column: 'f.remote_id'}, {column: 'r.valid_from'}, {column: 'r.id'}])
    .select('f.remote_id', 'r.valid_from', 'r.valid_to', 'r.operation', 'r.path', 'r.parent_remote_id', 'r.view', 'r.deleted', 'r.metadata')
    const revisions = new Map<string, FolderRevision[]>()
    for (const row of rows) {
      const list = revisions.get(row.remote_id) ?? []
      list.push({
        validFrom: Number(row.valid_from),
        validTo: row.valid_to === null ? null : Number(row.valid_to),
        operation: row.operation,
        path: row.path,
        parent: row.parent_remote_id,
        view: row.view,
        deleted: Boolean(row.deleted),
        metadata: JSON.parse(row.metadata),
      })
      revisions.set(row.remote_id, list)
    }

    return new FolderHistory(revisions)
  }

  /** The folders that existed (not deleted) at `at`, sorted by path. */
  foldersAt(at: HistoryTime): FolderAt[] {
    const folders: FolderAt[] = []
    for (const id of this.revisions.keys()) {
      const revision = this.liveRevision(id, at)
      if (!revision) continue
      folders.push({
        id,
        path: this.pathAt(id, at),
        parent: revision.parent,
        view: revision.view,
        metadata: revision.metadata,
        since: revision.validFrom,
        operation: revision.operation,
      })
    }

    return folders.sort((a, b) => (a.path < b.path ? -1 : (a.path > b.path ? 1 : 0)))
  }

  /**
   * The path of a folder id at `at`, for an item that is in it. A folder that did not exist then (an item moved
   * into a folder the server never announced, or announced later) is shown with the nearest path the catalog has
   * for it, and an id the catalog never saw with Carbonio's system folder name or the bare id.
   */
  pathAt(id: null | string, at: HistoryTime): string {
    if (id === null) return '/'
    return this.derive(id, at, new Set())
  }

  /**
   * Where a message that was in the folder at `at` goes back into the live mailbox: that folder under its name now
   * while it exists (renamed or moved since), else its path then, made again.
   */
  homePath(id: null | string, at: HistoryTime): string {
    return this.existsAt(id, 'last') ? this.pathAt(id, 'last') : this.pathAt(id, at)
  }

  /** Whether the folder existed (not deleted) at `at`. */
  existsAt(id: null | string, at: HistoryTime): boolean {
    return id !== null && this.liveRevision(id, at) !== undefined
  }

  /** The view (what the folder holds) at `at`, when the catalog knows it. */
  viewAt(id: null | string, at: HistoryTime): null | string {
    if (id === null) return null
    return this.nearestRevision(id, at)?.view ?? null
  }

  /** The metadata (an IMAP folder's specialUse) at `at`, when the catalog knows the folder. */
  metadataAt(id: null | string, at: HistoryTime): Record<string, unknown> {
    if (id === null) return {}
    return this.nearestRevision(id, at)?.metadata ?? {}
  }

  private derive(id: string, at: HistoryTime, seen: Set<string>): string {
    const live = this.liveRevision(id, at)
    if (!live) return this.nearestRevision(id, at)?.path ?? unknownFolderPath(id)
    // A parent loop (a bad feed) must not hang a reader: stop at the path the server gave.
    if (seen.has(id)) return live.path
    seen.add(id)
    const name = lastSegment(live.path)
    if (live.parent === null || live.parent === ROOT_FOLDER_ID || !this.liveRevision(live.parent, at)) return live.path
    const parentPath = this.derive(live.parent, at, seen)
    return parentPath === '/' ? `/${name}` : `${parentPath}/${name}`
  }

  private liveRevision(id: string, at: HistoryTime): FolderRevision | undefined {
    const revision = this.revisions.get(id)?.find(r => isValidAt(r.validFrom, r.validTo, at))
    return revision && !revision.deleted ? revision : undefined
  }

  /** The revision valid at `at`, else the last one before it, else the first one after it. */
  private nearestRevision(id: string, at: HistoryTime): FolderRevision | undefined {
    const list = this.revisions.get(id)
    if (!list || list.length === 0) return undefined
    if (at === 'last') return list.at(-1)
    const before = list.filter(r => r.validFrom <= at)
    return before.at(-1) ?? list[0]
  }
}

function lastSegment(folderPath: string): string {
  const segments = folderPath.split('/').filter(segment => segment !== '')
  return segments.at(-1) ?? folderPath
}
