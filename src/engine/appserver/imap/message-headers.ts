/**
 * The few headers a message's revision keeps in its metadata, so that doItemSearch and getItem can show and find it
 * without opening the blob: Message-ID (which also helps match a moved message), Subject, From, To and Date. They
 * come with the FETCH of flags, as `BODY.PEEK[HEADER.FIELDS (...)]`.
 */
export const HEADER_FIELDS = ['message-id', 'subject', 'from', 'to', 'date']

export interface MessageHeaders {
  messageId: null | string
  subject?: string
  from?: string
  to?: string
  date?: string
}

export function parseHeaders(block?: Buffer): MessageHeaders {
  const values = new Map<string, string>()
  if (block) {
    // Unfold continuation lines, then take the first occurrence of each field.
    const text = block.toString('latin1').replaceAll(/\r?\n[ \t]+/g, ' ')
    for (const line of text.split(/\r?\n/)) {
      const match = /^([!-9;-~]+):[ \t]*(.*?)[ \t]*$/.exec(line)
      if (!match) continue
      const name = match[1].toLowerCase()
      if (!values.has(name)) values.set(name, match[2])
    }
  }

  const headers: MessageHeaders = {messageId: values.get('message-id') || null}
  for (const name of ['subject', 'from', 'to', 'date'] as const) {
    const raw = values.get(name)
    if (raw !== undefined && raw !== '') headers[name] = decodeWords(rawText(Buffer.from(raw, 'latin1')))
  }

  return headers
}

const UTF8 = new TextDecoder('utf8', {fatal: true})
const LEGACY = new TextDecoder('windows-1252')

/**
 * A header's raw bytes as text: UTF-8 (RFC 6532) when they are valid UTF-8, else the 8-bit Latin-1 (Windows-1252)
 * that legacy mailers send unencoded. Read as UTF-8 regardless, "Straße" became "Stra\uFFFDe": shown garbled, and
 * no search for it could find the message.
 */
function rawText(bytes: Buffer): string {
  try {
    return UTF8.decode(bytes)
  } catch {
    return LEGACY.decode(bytes)
  }
}

/**
 * RFC 2047 encoded words (`=?utf-8?B?...?=`, `=?iso-8859-1?Q?...?=`) decoded, so that a search for "Müller" finds
 * it. A charset Node does not know leaves the word as it was.
 */
export function decodeWords(text: string): string {
  return text
  .replaceAll(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, '$1')
  .replaceAll(/(?:=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)+/g, run => decodeRun(run))
}

/**
 * Adjacent encoded words, decoded. The bytes of consecutive words of one charset are decoded together: some mailers
 * cut a long header inside a multi-byte character ("f\xC3" then "\xBCr"), and each half decoded alone gave two
 * U+FFFD instead of "ü".
 */
function decodeRun(run: string): string {
  let text = ''
  let group: {charset: string; words: string[]; bytes: Buffer[]} | undefined
  const flush = () => {
    if (!group) return
    try {
      text += new TextDecoder(group.charset).decode(Buffer.concat(group.bytes))
    } catch {
      text += group.words.join('')
    }
  }

  for (const [word, label, encoding, data] of run.matchAll(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g)) {
    const charset = label.split('*')[0].toLowerCase()
    if (group?.charset !== charset) {
      flush()
      group = {charset, words: [], bytes: []}
    }

    group.words.push(word)
    group.bytes.push(encoding.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64')
      : Buffer.from(data.replaceAll('_', ' ').replaceAll(/=([\dA-Fa-f]{2})/g, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16))), 'latin1'))
  }

  flush()
  return text
}
