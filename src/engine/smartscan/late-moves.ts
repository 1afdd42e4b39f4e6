import type {ImapAccountPosition} from '../appserver/imap/imap-position.js'
import type {ImapSession, MessageMeta} from '../appserver/imap/imap-session.js'
import type {Catalog} from '../catalog/catalog.js'

import {type ContentHolder, messagesWithContent} from './backup-view.js'
import {likeness, sameInternalDate} from './message-likeness.js'

/**
 * How long after a message's deletion was recorded a new message with its content is taken for it, moved: the two
 * halves of a MOVE reach the capture in consecutive cycles of the account. Counted from the account's previous cycle
 * that committed, not from now: that cycle may be long past (a daemon stopped in between, SmartScans alone a day
 * apart), and a MOVE split across it was then recorded as a deletion and a copy for good.
 */
const RECENT_DELETION_MS = 5 * 60_000

/** A new message of the cycle, with its content's digest. */
export interface Arrival {
  folder: {id: string}
  message: MessageMeta
  digest: string
}

/** What a new message found to be an item already in the backup is: that item, moved here (or deleted a moment ago). */
export interface EarlierItem {
  item: ContentHolder
  /** The item's deletion was recorded by an earlier cycle: it lives again, under its own id. */
  revived: boolean
  /**
   * Revived, its deletion recorded by the account's previous cycle and the message already in its folder when that
   * cycle ended: the two halves of a MOVE may have reached these two cycles (seenWithDeletion). Otherwise the message
   * came back after the deletion (a restore into another folder), which stays a deletion.
   */
  moveHalf: boolean
}

/**
 * MOVEs whose two halves the capture saw at different moments. A cycle reads an account's folders one after another,
 * so a message moved between the reading of its source and of its destination appears only as new in the
 * destination; and moved between the reading of the destination and of the source, only as gone from the source.
 * Taken as they appear, the message was recorded as copied and then deleted: its history split in two, and doUndelete
 * over that moment put back a second copy of a message the user had only moved.
 *
 * Only an item with the new message's content and internal date can be it. One live elsewhere is that item, moved,
 * when the item's place on the server no longer holds it (asked now, after the cycle's reads); still there, it is a
 * copy. One deleted a moment ago is that item again (the other half was seen first), unless a live message with that
 * content is still in place: then it may be a copy of that one, and the deletion stays a deletion.
 */
export class LateMoves {
  constructor(private readonly options: {
    catalog: Catalog
    session: ImapSession
    accountId: number
    /** When the account's previous cycle that changed something committed (null: none did). */
    previousCommitAt: null | number
    /**
     * What the position that cycle wrote says of it: when it began and, if it recorded deletions, its folders' UIDNEXT
     * at its end. Unknown (a position written before they were kept), any recent deletion and any UID may be a MOVE's.
     */
    previous: Pick<ImapAccountPosition, 'startedAt' | 'uidnextAtEnd'>
    /** The server's mailbox of a folder of the backup, if the server has it. */
    mailboxOf: (folderId: string) => string | undefined
    /** Items this cycle already accounts for (removed, matched, or found here before): never taken twice. */
    taken: Set<string>
  }) {}

  /** For each arrival that is an item already in the backup, that item. */
  async find(arrivals: readonly Arrival[]): Promise<Map<Arrival, EarlierItem>> {
    const found = new Map<Arrival, EarlierItem>()
    if (arrivals.length === 0) return found
    const {accountId, catalog, taken} = this.options
    const digests = [...new Set(arrivals.map(a => a.digest))]
    const deletedSince = Math.min(Date.now(), this.options.previousCommitAt ?? Date.now()) - RECENT_DELETION_MS
    const holders = (await messagesWithContent(catalog, accountId, digests, deletedSince)).filter(h => !taken.has(h.id))
    if (holders.length === 0) return found
    for (const arrival of arrivals) {
      // A MOVE keeps the internal date (so does a COPY): identical bytes under another date are another message, one
      // a client uploaded anew. Taken for a deleted item, it erased a deletion the user made, and a restore of the
      // moment between the two cycles put the message back where it had been deleted; taken for a live item gone
      // from its place, it hid that item's deletion the same way.
      const candidates = holders.filter(h => h.digest === arrival.digest && !taken.has(h.id) && sameInternalDate(h.metadata, arrival.message))
      const earlier = await this.earlierItem(rank(candidates, arrival.message), arrival)
      if (!earlier) continue
      taken.add(earlier.item.id)
      found.set(arrival, earlier)
    }

    return found
  }

  /**
   * Among the items with the new message's content, the one it is: a live one the server no longer has where the
   * backup saw it (moved); else, when no live one is still in place, one deleted a moment ago (the MOVE's other half
   * seen first). With a live copy still in place the new message may as well be a COPY of it: then it is a new
   * item, and a deletion the user made stays one that doUndelete brings back.
   */
  private async earlierItem(candidates: ContentHolder[], arrival: Arrival): Promise<EarlierItem | undefined> {
    let copyPossible = false
    for (const holder of candidates.filter(h => !h.deleted)) {
      // Rare (a copy, or a move seen in halves), and each answer decides the next: one question at a time.
      if (await this.stillInPlace(holder)) copyPossible = true
      else return {item: holder, revived: false, moveHalf: false}
    }

    const deleted = candidates.find(h => h.deleted)
    if (copyPossible || !deleted) return undefined
    return {item: deleted, revived: true, moveHalf: this.seenWithDeletion(deleted, arrival)}
  }

  /**
   * Whether the new message may be the other half of a MOVE whose expunge recorded this deletion: the deletion was
   * recorded by the previous cycle, and the message was in its folder when that cycle ended (its UID below that
   * folder's UIDNEXT then). A message put back later by a restore, or uploaded again with its internal date, has a
   * higher UID, or comes after a cycle in between.
   */
  private seenWithDeletion(deleted: ContentHolder, arrival: Arrival): boolean {
    const {startedAt, uidnextAtEnd} = this.options.previous
    if (startedAt !== undefined && (deleted.deletedAt ?? 0) < startedAt) return false
    return uidnextAtEnd === undefined || arrival.message.uid < (uidnextAtEnd[arrival.folder.id] ?? 0)
  }

  /** Whether the server still has the live item where the backup last saw it (then the new message is a copy). */
  private async stillInPlace(holder: ContentHolder): Promise<boolean> {
    // Not placed by this connector (fed by the redolog): nothing to ask, and a copy is the cautious answer.
    if (!holder.place) return true
    const mailbox = this.options.mailboxOf(holder.folder)
    if (mailbox === undefined) return false
    return this.options.session.holds(mailbox, holder.place)
  }
}

/** The likeliest first (likeness). */
function rank(holders: ContentHolder[], message: MessageMeta): ContentHolder[] {
  return holders.sort((a, b) => likeness(b.metadata, message) - likeness(a.metadata, message))
}
