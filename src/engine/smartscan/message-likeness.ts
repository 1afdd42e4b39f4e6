import type {MessageMeta} from '../appserver/imap/imap-session.js'

/**
 * Among items with the same content, how much a backup item looks like a message on the server: the same Message-ID
 * (2) and the same internal date (1). Identical bytes can be several messages (a copy); these tell the likeliest.
 */
export function likeness(metadata: Record<string, unknown>, message: MessageMeta): number {
  const internalDate = message.internalDate === null ? null : new Date(message.internalDate).toISOString()
  return (metadata.messageId === message.headers.messageId ? 2 : 0) + (metadata.internalDate === internalDate ? 1 : 0)
}
