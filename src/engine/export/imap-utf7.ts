/**
 * IMAP's modified UTF-7 (RFC 3501 section 5.1.3), the encoding of non-ASCII folder names in Maildir++ directory
 * names (Courier and Dovecot both use it), so that an exported "/Entwürfe" is the folder "Entwürfe" again once a
 * server reads the Maildir.
 */
export function encodeModifiedUtf7(name: string): string {
  let out = ''
  let pending = ''
  const flush = () => {
    if (pending === '') return
    // UTF-16 big-endian, as the RFC wants (characters outside the BMP become their surrogate pairs).
    const utf16 = Buffer.from(pending, 'utf16le').swap16()
    out += `&${utf16.toString('base64').replaceAll('=', '').replaceAll('/', ',')}-`
    pending = ''
  }

  for (const char of name) {
    const code = char.codePointAt(0)!
    if (code >= 0x20 && code <= 0x7E) {
      flush()
      out += char === '&' ? '&-' : char
    } else {
      pending += char
    }
  }

  flush()
  return out
}

/** The inverse of encodeModifiedUtf7: a shift that is not valid base64 is kept as it was. */
export function decodeModifiedUtf7(text: string): string {
  return text.replaceAll(/&([^-]*)-/g, (shift, data: string) => {
    if (data === '') return '&'
    if (!/^[A-Za-z\d+,]+$/.test(data)) return shift
    const bytes = Buffer.from(data.replaceAll(',', '/'), 'base64')
    if (bytes.length % 2 !== 0) return shift
    return Buffer.from(bytes).swap16().toString('utf16le')
  })
}
