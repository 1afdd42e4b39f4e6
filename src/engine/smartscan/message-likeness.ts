import type {MessageMeta} from '../appserver/imap/imap-session.js'

/**
 * Among items with the same content, how much a backup item looks like a message on the server: the same Message-ID
 * (2) and the same internal date (1). Identical bytes can be several messages (a copy); these tell the likeliest.
 */
export function likeness(metadata: Record<string, unknown>, message: MessageMeta): number {
  return (metadata.messageId === message.headers.messageId ? 2 : 0) + (sameInternalDate(metadata, message) ? 1 : 0)
}

/** Whether the backup item recorded the message's internal date (both known: an unknown date proves nothing). */
export function sameInternalDate(metadata: Record<string, unknown>, message: MessageMeta): boolean {
  return message.internalDate !== null && metadata.internalDate === new Date(message.internalDate).toISOString()
}

/** Whether both dates are known and differ: a MOVE or a COPY keeps the internal date, so these are two messages. */
export function otherInternalDate(metadata: Record<string, unknown>, message: MessageMeta): boolean {
  return message.internalDate !== null && typeof metadata.internalDate === 'string' && !sameInternalDate(metadata, message)
}
