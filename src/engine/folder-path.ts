/**
 * Folder paths as the backup keeps them ("/INBOX/Projects"). IMAP spells INBOX in any case (RFC 3501: "inbox",
 * "Inbox" and "INBOX" are one mailbox, and so is what is under it), while every other name compares exactly ("Case"
 * and "case" are two folders).
 */

/** The path with INBOX spelled "INBOX": the key under which the backup, the server and a restore agree on a folder. */
export function inboxKey(folderPath: string): string {
  return folderPath.replace(/^\/inbox(?=\/|$)/i, '/INBOX')
}

/** INBOX itself, in any case: the one mailbox IMAP does not let a client delete. */
export function isInboxPath(folderPath: string): boolean {
  return inboxKey(folderPath) === '/INBOX'
}
