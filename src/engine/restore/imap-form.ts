import {createHash} from 'node:crypto'

/**
 * Whether an IMAP server may store these bytes as something else. IMAP carries messages with CRLF line ends and no
 * NUL (RFC 3501, RFC 5322), and a server normalises what breaks that on APPEND: Dovecot stores "\r\r\n" as "\r\n", a
 * bare "\n" as "\r\n" and NUL as 0x80. A backup holds such bytes when the server itself served them (a file written
 * into its store by another program) or when a redolog's content came from elsewhere; their restored copy cannot be
 * byte-identical, and is known again only by its likeness (likenessDigest).
 */
export function mayBeNormalised(bytes: Buffer): boolean {
  for (let i = bytes.indexOf(0x0D); i !== -1; i = bytes.indexOf(0x0D, i + 1)) {
    if (bytes[i + 1] !== 0x0A) return true
  }

  for (let i = bytes.indexOf(0x0A); i !== -1; i = bytes.indexOf(0x0A, i + 1)) {
    if (i === 0 || bytes[i - 1] !== 0x0D) return true
  }

  return bytes.includes(0x00)
}

/**
 * The digest of what a server's normalisation leaves alike: without CR, NUL read as 0x80. Two messages that share a
 * Message-ID and this digest differ at most in what a server rewrites on APPEND, so one stands for the other when a
 * restore is run again (never the exact digest alone for such a message, which its restored copy no longer has).
 */
export function likenessDigest(bytes: Buffer): string {
  const alike = Buffer.allocUnsafe(bytes.length)
  let length = 0
  for (const byte of bytes) {
    if (byte === 0x0D) continue
    alike[length++] = byte === 0x00 ? 0x80 : byte
  }

  return createHash('sha256').update(alike.subarray(0, length)).digest('hex')
}
