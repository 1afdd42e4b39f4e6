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
  .replaceAll(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (word, charset: string, encoding: string, data: string) => {
    try {
      const bytes = encoding.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64')
        : Buffer.from(data.replaceAll('_', ' ').replaceAll(/=([\dA-Fa-f]{2})/g, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16))), 'latin1')
      return new TextDecoder(charset.split('*')[0]).decode(bytes)
    } catch {
      return word
    }
  })
}
