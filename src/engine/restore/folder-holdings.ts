import {sha256} from '../blobstore/blob-store.js'
import {likenessDigest} from './imap-form.js'

/**
 * The key under which a message is looked for in a folder: `<Message-ID> <size>`, or its content digest when it has
 * no Message-ID. Only a candidate: two different messages can share a Message-ID and a size (a draft saved twice, a
 * message edited and saved back), so a held message is recognised by its digest (FolderHoldings.take); the key only
 * says which bodies of the folder are worth reading to know it.
 */
export function candidateKey(messageId: null | string, size: number, digest: null | string): string {
  return messageId ? `id ${messageId} ${size}` : `sha ${digest ?? ''}`
}

/** What a message being restored that a server may have normalised (imap-form.ts) is also known by. */
export interface Likeness {
  messageId: null | string
  digest: string
}

/**
 * What a folder of the destination already holds, message by message, not yet matched by a message of this restore:
 * a second restore recognises what the first one appended, and two identical messages of the source stay two.
 * A message is held when a message of the folder has the same content digest. Reading every body of a live folder to
 * know its digests would cost a download of the mailbox; only the messages that share a candidate key with a message
 * being restored are read (none at all for an empty destination), the rest are known by their key and size. A message
 * the server rewrites on APPEND (bare CR or LF, NUL) is held, failing its digest, by a message of the same Message-ID
 * alike but for that rewriting: its restored copy has another size too, so those are read whatever their size.
 */
export class FolderHoldings {
  /** UIDs by candidate key, and by Message-ID ('' for none), matched or not. */
  private readonly byKey = new Map<string, number[]>()
  private readonly byMessageId = new Map<string, number[]>()
  private readonly digests = new Map<number, string>()
  private readonly likenesses = new Map<number, string>()
  private readonly sizes = new Map<number, number>()
  /** UIDs matched by a message of this restore: each stands for one message only. */
  private readonly used = new Set<number>()

  /** A message of the folder; its digest when already known (a message without Message-ID is read whole). */
  add(uid: number, key: string, size: number, messageId: null | string, source?: Buffer): void {
    append(this.byKey, key, uid)
    append(this.byMessageId, messageId ?? '', uid)
    this.sizes.set(uid, size)
    if (source !== undefined) this.learn(uid, source)
  }

  /** Whether the folder has a message with this Message-ID ('' / null: one without), matched or not. */
  hasMessageId(messageId: null | string): boolean {
    return this.byMessageId.has(messageId ?? '')
  }

  /** The UIDs, with their sizes, whose contents take() needs for these keys and likenesses and that are not read yet. */
  unread(keys: Iterable<string>, likenesses: Iterable<Likeness> = []): Array<{size: number; uid: number}> {
    const wanted = new Map<number, number>()
    for (const key of new Set(keys)) {
      for (const uid of this.byKey.get(key) ?? []) if (!this.digests.has(uid)) wanted.set(uid, this.sizes.get(uid) ?? 0)
    }

    for (const {messageId} of likenesses) {
      for (const uid of this.byMessageId.get(messageId ?? '') ?? []) if (!this.digests.has(uid)) wanted.set(uid, this.sizes.get(uid) ?? 0)
    }

    return [...wanted].map(([uid, size]) => ({uid, size}))
  }

  /** The content of a message read for unread(). */
  learn(uid: number, source: Buffer): void {
    this.digests.set(uid, sha256(source))
    this.likenesses.set(uid, likenessDigest(source))
  }

  /**
   * Whether the folder holds a message with this key and digest (or, for a message the server may have rewritten,
   * this likeness) not matched yet; a match is used up. A candidate whose content is still unknown (expunged before
   * it could be read) is not a match: appending again is the safe side.
   */
  take(key: string, digest: string, likeness?: Likeness): boolean {
    const exact = (this.byKey.get(key) ?? []).find(uid => !this.used.has(uid) && this.digests.get(uid) === digest)
    const alike = exact ?? (likeness === undefined
      ? undefined
      : (this.byMessageId.get(likeness.messageId ?? '') ?? []).find(uid => !this.used.has(uid) && this.likenesses.get(uid) === likeness.digest))
    if (alike === undefined) return false
    this.used.add(alike)
    return true
  }
}

function append(map: Map<string, number[]>, key: string, uid: number): void {
  const list = map.get(key)
  if (list) list.push(uid)
  else map.set(key, [uid])
}
