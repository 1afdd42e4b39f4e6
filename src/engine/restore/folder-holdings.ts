/**
 * The key under which a message is looked for in a folder: `<Message-ID> <size>`, or its content digest when it has
 * no Message-ID. Only a candidate: two different messages can share a Message-ID and a size (a draft saved twice, a
 * message edited and saved back), so a held message is recognised by its digest (FolderHoldings.take); the key only
 * says which bodies of the folder are worth reading to know it.
 */
export function candidateKey(messageId: null | string, size: number, digest: null | string): string {
  return messageId ? `id ${messageId} ${size}` : `sha ${digest ?? ''}`
}

/**
 * What a folder of the destination already holds, message by message, not yet matched by a message of this restore:
 * a second restore recognises what the first one appended, and two identical messages of the source stay two.
 * A message is held when a message of the folder has the same content digest. Reading every body of a live folder to
 * know its digests would cost a download of the mailbox; only the messages that share a candidate key with a message
 * being restored are read (none at all for an empty destination), the rest are known by their key and size.
 */
export class FolderHoldings {
  /** Unmatched UIDs by candidate key. */
  private readonly byKey = new Map<string, number[]>()
  private readonly digests = new Map<number, string>()
  private readonly sizes = new Map<number, number>()

  /** A message of the folder; its digest when already known (a message without Message-ID is read whole). */
  add(uid: number, key: string, size: number, digest?: string): void {
    const list = this.byKey.get(key) ?? []
    list.push(uid)
    this.byKey.set(key, list)
    this.sizes.set(uid, size)
    if (digest !== undefined) this.digests.set(uid, digest)
  }

  /** The UIDs, with their sizes, whose digests take() needs for these keys and that are not known yet. */
  unread(keys: Iterable<string>): Array<{size: number; uid: number}> {
    const wanted: Array<{size: number; uid: number}> = []
    for (const key of new Set(keys)) {
      for (const uid of this.byKey.get(key) ?? []) {
        if (!this.digests.has(uid)) wanted.push({uid, size: this.sizes.get(uid) ?? 0})
      }
    }

    return wanted
  }

  /** The digest of a message read for unread(). */
  learn(uid: number, digest: string): void {
    this.digests.set(uid, digest)
  }

  /**
   * Whether the folder holds a message with this key and digest not matched yet; a match is used up. A candidate
   * whose digest is still unknown (expunged before it could be read) is not a match: appending again is the safe side.
   */
  take(key: string, digest: string): boolean {
    const list = this.byKey.get(key)
    const index = list?.findIndex(uid => this.digests.get(uid) === digest) ?? -1
    if (index === -1) return false
    list!.splice(index, 1)
    return true
  }
}
