import {likenessDigest, mayBeNormalised} from './imap-form.js'

/** A message of either side of a preview as rewritten-message pairing needs it. */
export interface PairableMessage {
  key: string
  messageId: null | string
  /** Backup side: the content digest, to read the bytes by. */
  digest?: null | string
  /** Live side: the digest of what a server's rewriting leaves alike, when the body was read for it. */
  likeness?: string
}

/**
 * Gives a backup message that a server stored rewritten (a bare CR or LF, a NUL: imap-form.ts) the key of its live
 * copy, so that the preview pairs them as the restore target does, instead of listing it to add (and its copy as live
 * only) after every restore. Only backup messages left without an exact match whose Message-ID has a live message
 * still unpaired are read, and kept only when their bytes are of that kind; `read` answers undefined for a content
 * it cannot read (blobless: not worth a trip to the server for a preview).
 */
export async function pairRewritten(
  backup: PairableMessage[],
  live: readonly PairableMessage[],
  read: (digest: string) => Promise<Buffer | undefined>,
): Promise<void> {
  const unpaired = new Map<string, number>()
  for (const message of live) unpaired.set(message.key, (unpaired.get(message.key) ?? 0) + 1)
  const waiting: PairableMessage[] = []
  for (const message of backup) {
    const left = unpaired.get(message.key) ?? 0
    if (left > 0) unpaired.set(message.key, left - 1)
    else waiting.push(message)
  }

  const free = (message: PairableMessage) => (unpaired.get(message.key) ?? 0) > 0
  for (const message of waiting) {
    const alike = live.filter(other => other.likeness !== undefined && (other.messageId ?? null) === (message.messageId ?? null) && free(other))
    if (alike.length === 0 || !message.digest) continue
    const bytes = await read(message.digest)
    if (!bytes || !mayBeNormalised(bytes)) continue
    const likeness = likenessDigest(bytes)
    const copy = alike.find(other => other.likeness === likeness)
    if (!copy) continue
    message.key = copy.key
    unpaired.set(copy.key, unpaired.get(copy.key)! - 1)
  }
}
