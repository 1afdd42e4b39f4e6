import {encodeModifiedUtf7} from './imap-utf7.js'

/**
 * Names in an exported Maildir++ tree, as Dovecot and Courier read it:
 * - the top-level Inbox ("/Inbox", any case) is the Maildir itself: its cur/, new/ and tmp/ are in Maildir/;
 * - every other folder is a directory `.<segments joined by dots>`: "/Inbox/Sub" is ".Inbox.Sub", "/Sent" ".Sent";
 * - each segment is in IMAP modified UTF-7, and the characters that would break the dotted hierarchy are escaped
 *   as Dovecot's listescape does: "." as \2e, "\" as \5c ("/Projects/v1.2" is ".Projects.v1\2e2").
 */
export function maildirFolderName(folderPath: string): string {
  const segments = folderPath.split('/').filter(segment => segment !== '')
  if (segments.length === 0) return ''
  if (segments.length === 1 && segments[0].toLowerCase() === 'inbox') return ''
  return `.${segments.map(segment => escapeSegment(segment)).join('.')}`
}

function escapeSegment(segment: string): string {
  return encodeModifiedUtf7(segment).replaceAll('\\', String.raw`\5c`).replaceAll('.', String.raw`\2e`)
}

/** IMAP system flags and their Maildir info letters; other flags (keywords) stay in items.ndjson. */
const FLAG_LETTERS: ReadonlyMap<string, string> = new Map([
  [String.raw`\answered`, 'R'],
  [String.raw`\deleted`, 'T'],
  [String.raw`\draft`, 'D'],
  [String.raw`\flagged`, 'F'],
  [String.raw`\seen`, 'S'],
])

/** The Maildir info letters of a set of flags, in ASCII order as the Maildir specification requires. */
export function maildirFlags(flags: readonly string[]): string {
  const letters = new Set<string>()
  for (const flag of flags) {
    const letter = FLAG_LETTERS.get(flag.toLowerCase())
    if (letter) letters.add(letter)
  }

  return [...letters].sort().join('')
}

/**
 * The name of a message file: `<unix time>.<item id>.carbonio-backup:2,<flags>`. The item id is unique in the
 * account, so the name is too; characters that are not safe in a Maildir name (".", "/", ":" and the like) are
 * percent-encoded.
 */
export function messageFileName(firstSeenMs: number, itemId: string, flags: readonly string[]): string {
  return `${Math.floor(firstSeenMs / 1000)}.${safeName(itemId)}.carbonio-backup:2,${maildirFlags(flags)}`
}

/** A string as one file name: letters, digits, "-", "_", "@", "+" kept, everything else percent-encoded. */
export function safeName(text: string): string {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCodePoint(byte)
    out += /[\w@+-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }

  return out
}
