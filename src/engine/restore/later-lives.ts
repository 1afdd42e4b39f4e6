import type {DeletedMessage} from './deleted-messages.js'

/**
 * The deleted messages of a window that came back later as another item, deleted again in the window too: their
 * content (digest) is that of a message whose life began at or after their deletion. Over IMAP a message that an
 * undelete (or a client) put back is a new item for the backup, so a message undeleted and then deleted again shows
 * as two deletions of one content; bringing back both would put it into the mailbox twice. Only its latest life
 * comes back, with the flags it had last. Copies of one content that lived side by side (the same message twice in
 * a folder) are not later lives of each other: each of them comes back.
 * @returns the ids of the deleted messages to skip
 */
export function earlierLives(messages: readonly DeletedMessage[]): Set<string> {
  const byDigest = new Map<string, DeletedMessage[]>()
  for (const message of messages) {
    const digest = message.state.blobDigest
    if (digest === null) continue
    const group = byDigest.get(digest) ?? []
    group.push(message)
    byDigest.set(digest, group)
  }

  const skipped = new Set<string>()
  for (const group of byDigest.values()) {
    if (group.length < 2) continue
    // The latest life of all, and the latest of the others for the message that is itself that one.
    const [latest, second] = [...group].sort((a, b) => b.liveSince - a.liveSince)
    for (const message of group) {
      const laterLife = message === latest ? second : latest
      if (laterLife.liveSince >= message.deletedAt) skipped.add(message.id)
    }
  }

  return skipped
}
