import {sameFlags} from '../appserver/imap/imap-identity.js'

/** A message on either side of a restore preview. */
export interface PreviewMessage {
  folderPath: string
  /** The backup's item id (backup side), else null. */
  item: null | string
  /** The live UID (live side), else null. */
  uid: null | number
  messageId: null | string
  subject: null | string
  size: number
  flags: string[]
}

/** The same message on both sides with other flags or keywords: a restore skips it, leaving the live flags. */
export interface DifferingMessage extends PreviewMessage {
  liveFlags: string[]
  uid: number
}

export interface FolderComparison {
  add: PreviewMessage[]
  differ: DifferingMessage[]
  liveOnly: PreviewMessage[]
  same: number
}

/**
 * Pairs the messages of one folder as the backup had them and as they are live, by match key and as multisets (two
 * identical messages stay two): pairs with the same flags first, so that a flag change shows on one message only.
 */
export function compareFolder(
  backup: ReadonlyArray<PreviewMessage & {key: string}>,
  live: ReadonlyArray<PreviewMessage & {key: string}>,
): FolderComparison {
  const result: FolderComparison = {
    add: [], differ: [], liveOnly: [], same: 0,
  }
  const liveByKey = new Map<string, Array<PreviewMessage & {key: string}>>()
  for (const message of live) {
    const list = liveByKey.get(message.key) ?? []
    list.push(message)
    liveByKey.set(message.key, list)
  }

  const unpaired: Array<PreviewMessage & {key: string}> = []
  for (const message of backup) {
    const candidates = liveByKey.get(message.key) ?? []
    const index = candidates.findIndex(candidate => sameFlags(candidate.flags, message.flags))
    if (index === -1) {
      unpaired.push(message)
      continue
    }

    candidates.splice(index, 1)
    result.same++
  }

  for (const message of unpaired) {
    const other = liveByKey.get(message.key)?.shift()
    if (other) result.differ.push({...shownOf(message), uid: other.uid!, liveFlags: other.flags})
    else result.add.push(shownOf(message))
  }

  for (const rest of liveByKey.values()) {
    for (const message of rest) result.liveOnly.push(shownOf(message))
  }

  return result
}

/** A message as the preview lists it, without its match key. */
export function shownOf(message: PreviewMessage): PreviewMessage {
  return {
    folderPath: message.folderPath,
    item: message.item,
    uid: message.uid,
    messageId: message.messageId,
    subject: message.subject,
    size: message.size,
    flags: message.flags,
  }
}
