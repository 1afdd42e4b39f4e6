import type {FolderStatus} from './imap-session.js'

/**
 * Where the backup of one mailbox stands, per folder: the server's UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and message
 * count when the folder's changes were last committed. It is the checkpoint of connector 'imap' with the account
 * as scope, written in the same database transaction as the revisions (so a folder whose status still equals it
 * needs no reading), and it names the folder id each mailbox path has in the catalog.
 */
export interface ImapAccountPosition {
  folders: Record<string, ImapFolderPosition>
  /**
   * Set, unique, on the position of each batch of a cycle but its last: a cycle is under way. The checkpoint is
   * written only over the position a cycle expects (saveCheckpoint compares them): without it an intermediate position
   * often equals the start one, so two cycles of one account at once (a SmartScan beside the daemon) both committed
   * their batches, each computed from a backup the other had changed since: every change twice, or an older state
   * over a newer one that no later cycle would read again.
   */
  cycle?: string
  /**
   * When the cycle that wrote this position began (ms). A deletion the next cycle finds recorded since then was seen
   * by that cycle, so a new message with its content elsewhere may be the other half of a MOVE it saw only in part
   * (LateMoves); one recorded before, with a cycle that committed in between, is a deletion the user made.
   */
  startedAt?: number
  /**
   * Written by a cycle that recorded deletions: each folder's UIDNEXT (by folder id) once it had read everything. A
   * message the next cycle finds in a folder below it was there before that cycle ended, so it may be the other half
   * of a MOVE whose expunge that cycle saw; one at or above it came afterwards (a restore, an upload), and the
   * deletion it resembles stays one.
   */
  uidnextAtEnd?: Record<string, number>
}

export interface ImapFolderPosition extends FolderStatus {
  /** The catalog path of the mailbox ("/Archive/2024"). */
  path: string
}

export const EMPTY_POSITION: ImapAccountPosition = {folders: {}}

/** What a position keeps for a mailbox without a status (\Noselect), and a new folder starts from. */
export const NO_STATUS: FolderStatus = {
  uidvalidity: 0, uidnext: 0, highestmodseq: '0', messages: 0,
}

/** Whether a folder is as the position left it: then a scan reads nothing in it. */
export function sameStatus(known: FolderStatus, now: FolderStatus): boolean {
  return known.uidvalidity === now.uidvalidity
    && known.uidnext === now.uidnext
    && known.highestmodseq === now.highestmodseq
    && known.messages === now.messages
}

/** Reads a stored position defensively: anything else than the expected shape counts as none. */
export function asImapPosition(value: unknown): ImapAccountPosition {
  const {folders, startedAt, uidnextAtEnd} = (value ?? {}) as Partial<ImapAccountPosition>
  if (!folders || typeof folders !== 'object') return {folders: {}}
  return {
    folders: {...folders},
    ...(typeof startedAt === 'number' ? {startedAt} : {}),
    ...(uidnextAtEnd && typeof uidnextAtEnd === 'object' ? {uidnextAtEnd: {...uidnextAtEnd}} : {}),
  }
}
