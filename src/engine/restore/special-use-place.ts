import {inboxKey} from '../folder-path.js'
import {nameOnDestination} from './separator-in-name.js'

/**
 * The special use (\\Sent...) each of the backup's folders had, by key, as placeOnDestination asks for it: from the
 * folders of the moment restored (their metadata.specialUse, an IMAP server's).
 */
export function specialUsesOf(folders: ReadonlyArray<{metadata: Record<string, unknown>; path: string}>): (key: string) => null | string | undefined {
  const uses = new Map(folders.map(f => [inboxKey(f.path), typeof f.metadata.specialUse === 'string' ? f.metadata.specialUse : null]))
  return key => uses.get(key)
}

export interface DestinationFolders {
  /** The destination's hierarchy separator, when known ("." on a Dovecot with the Maildir++ layout). */
  delimiter?: null | string
  /** Whether the destination has a folder at this key. */
  has(key: string): boolean
  /** The key of the destination's folder of a special use (lower case: \\sent), when it has one. */
  ofSpecialUse(use: string): string | undefined
}

/**
 * Where a backup folder (its key: "/Sent/2024") goes on the destination: when it or an ancestor had a special use that
 * the destination has a folder of, into that folder or under it: a server in another language keeps sent mail in
 * Gesendet, and the user's Sent/2024 belongs under it as Gesendet/2024, not under a folderless "Sent" beside it. The
 * special use wins over a plain folder of the same name that the destination also has: a "Sent" without \Sent is not
 * where the user's mail client shows sent mail. Otherwise its own path.
 */
export function placeOnDestination(
  key: string,
  destination: DestinationFolders,
  specialUseOf: (key: string) => null | string | undefined,
): string {
  const segments = key.split('/').filter(Boolean)
  const named = segments.map(segment => nameOnDestination(segment, destination.delimiter))
  for (let depth = segments.length; depth > 0; depth--) {
    const use = specialUseOf(`/${segments.slice(0, depth).join('/')}`)
    const place = use ? destination.ofSpecialUse(use.toLowerCase()) : undefined
    if (place !== undefined) return [place, ...named.slice(depth)].join('/')
    // The nearest ancestor the destination has at its own path keeps the folder under it.
    if (destination.has(`/${named.slice(0, depth).join('/')}`)) break
  }

  return `/${named.join('/')}`
}
