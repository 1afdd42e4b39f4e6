import type {Transaction} from '../appserver/transaction.js'

/** How far a problem reaches: the account it names, every account (a gap in the stream), or none (a duplicate). */
export type UncertaintyScope = 'account' | 'all' | 'none'

/** A line (or event) the feed could not turn into a transaction: recorded, never silently skipped. */
export interface FeedError {
  reason: string
  account?: string
  raw?: string
  origin: {line?: number; source: string}
  scope: UncertaintyScope
  /** Found again each time the feed is read (a broken file name): recorded and told only the first time. */
  once?: boolean
}

/**
 * One step of a connector's stream: a transaction or an error, with the position just after it. The scanner
 * commits the position of the last entry of a batch in the same database transaction as the batch's revisions.
 */
export type FeedEntry<P = unknown>
  = | {error: FeedError; kind: 'error'; position: P}
  | {kind: 'transaction'; position: P; transaction: Transaction}

/** A connector's resumable stream, in chunks as they become available. */
export interface TransactionFeed<P = unknown> {
  readonly connector: string
  /** The checkpoint scope this feed's positions belong to (the server's name for a whole-server feed such as the redolog). */
  readonly scope: string
  /**
   * The one server whose transactions the feed carries, if it is one server's (a redolog): a doubt about the whole
   * feed (a sequence gap) then concerns that server's accounts, not those another server of a shared catalog follows.
   */
  readonly server?: string
  read(from: null | P, signal: AbortSignal): AsyncIterable<Array<FeedEntry<P>>>
  /** Resolves relative content paths against the feed's own location. */
  resolveContentPath(contentPath: string): string
}
