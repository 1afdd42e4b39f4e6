/**
 * Carbonio tags travel over IMAP as keywords (as its IMAP server shows them), so a restore into a mailbox gives each
 * tag of an item back as a keyword: the backup of a redolog feed keeps tags apart from flags, and appending only the
 * flags would drop them. A keyword is an IMAP atom (RFC 3501): characters it cannot carry (space, parentheses,
 * braces, quotes, backslash, the wildcards, "]", controls, anything outside ASCII) become "_".
 */
export function keywordOfTag(tag: string): null | string {
  const keyword = [...tag].map(char => (isAtomChar(char) ? char : '_')).join('')
  return keyword === '' ? null : keyword
}

const ATOM_SPECIALS = new Set([' ', '"', '%', '(', ')', '*', '\\', ']', '{'])

function isAtomChar(char: string): boolean {
  const code = char.codePointAt(0)!
  return code > 0x20 && code < 0x7F && !ATOM_SPECIALS.has(char)
}

/** The flags an item has on an IMAP server: its own, and its tags as keywords. */
export function flagsWithTags(flags: readonly string[], tags: readonly string[]): string[] {
  const keywords = tags.map(tag => keywordOfTag(tag)).filter((keyword): keyword is string => keyword !== null)
  return [...new Set([...flags, ...keywords])]
}
