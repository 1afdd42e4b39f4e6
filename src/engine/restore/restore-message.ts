import type {ItemRevision} from '../history/item-revision.js'
import type {RestoreMessage} from './imap-restore-target.js'

import {flagsWithTags} from '../appserver/imap/tag-keywords.js'

/** The message to APPEND for a state of an item: its bytes, flags and keywords (tags too), internal date and Message-ID. */
export function restoreMessageOf(state: ItemRevision, bytes: Buffer): RestoreMessage {
  const {internalDate, messageId} = state.metadata as {internalDate?: unknown; messageId?: unknown}
  const date = typeof internalDate === 'string' ? new Date(internalDate) : null
  return {
    bytes,
    digest: state.blobDigest!,
    flags: flagsWithTags(state.flags, state.tags),
    internalDate: date && !Number.isNaN(date.getTime()) ? date : null,
    messageId: typeof messageId === 'string' && messageId !== '' ? messageId : null,
  }
}
