/**
 * How IMAP things are named in the catalog. IMAP has no stable ids (neither Dovecot 2.3 nor Carbonio offers
 * OBJECTID), so the connector makes them:
 *
 * - a folder is `f<UIDVALIDITY when first seen>` (with `.2`, `.3` on the rare clash): a RENAME keeps the mailbox's
 *   UIDVALIDITY, so the connector recognises a renamed folder and its id stays; a mailbox whose UIDVALIDITY
 *   changed at the same path keeps its id too;
 * - an item is `<folder id>/<UIDVALIDITY>/<UID>` where it was first seen. A MOVE, or a new UIDVALIDITY, gives the
 *   message a new place on the server but not a new id: the scan matches it back by content, and only its
 *   locator changes;
 * - the locator, kept on every revision for blobless restores, is `imap:<UIDVALIDITY>/<UID>` in the revision's
 *   folder: where the server has the bytes now.
 */

/** The connector name in checkpoints. */
export const IMAP_CONNECTOR = 'imap'

/** Carbonio's id of the user root, which readers treat as "no parent": the parent of a top-level mailbox. */
export const IMAP_ROOT_PARENT = '1'

export function newFolderId(uidvalidity: number, taken: ReadonlySet<string>): string {
  const base = `f${uidvalidity}`
  if (!taken.has(base)) return base
  for (let n = 2; ; n++) {
    const id = `${base}.${n}`
    if (!taken.has(id)) return id
  }
}

export function itemIdOf(folderId: string, uidvalidity: number, uid: number): string {
  return `${folderId}/${uidvalidity}/${uid}`
}

export function locatorOf(uidvalidity: number, uid: number): string {
  return `${locatorPrefix(uidvalidity)}${uid}`
}

/** What every locator of a mailbox at this UIDVALIDITY starts with (no LIKE wildcard in it). */
export function locatorPrefix(uidvalidity: number): string {
  return `imap:${uidvalidity}/`
}

export function parseLocator(locator: null | string): undefined | {uid: number; uidvalidity: number} {
  const match = locator === null ? null : /^imap:(\d+)\/(\d+)$/.exec(locator)
  if (!match) return undefined
  return {uidvalidity: Number(match[1]), uid: Number(match[2])}
}

/** The catalog's folder path of a mailbox: "/" and its hierarchy levels joined by "/", whatever the server's delimiter. */
export function folderPathOf(mailbox: string, delimiter: null | string): string {
  const segments = delimiter ? mailbox.split(delimiter) : [mailbox]
  return `/${segments.join('/')}`
}

/**
 * The flags an item keeps: system flags and keywords (IMAP keywords are how Carbonio tags and Thunderbird labels
 * reach IMAP), without \Recent, which belongs to one session and not to the message.
 */
export function normalizeFlags(flags: Iterable<string>): string[] {
  return [...new Set([...flags].filter(flag => flag.toLowerCase() !== String.raw`\recent`))].sort()
}

export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((flag, index) => flag === b[index])
}
