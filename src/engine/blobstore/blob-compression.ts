import {constants, type ZlibOptions} from 'node:zlib'

/** Lines sampled to tell how much of a message is base64 (spread evenly over it). */
const SAMPLES = 32
/** Below this size a message is deflated as it is: the choice would not save measurable time. */
const SMALL = 16 * 1024
const NEWLINE = 0x0A
const CR = 0x0D

/**
 * The gzip options for one blob. Most of the bytes of real mail are attachments in base64 of data that is already
 * compressed (PDF, JPEG, Office files): there LZ77 finds nothing and spends most of deflate's time looking, so the
 * whole gain is deflate's Huffman coding of 64 symbols (about 0.75). For a message that is mostly base64 lines,
 * Huffman coding alone gives nearly the same size at four to five times the speed (on the benchmark corpus: 0.74 of
 * the size at 93 MiB/s instead of 0.71 at 21 MiB/s on one core), and gzip was what bounded the initial capture.
 * Either way the file is ordinary gzip; level 0 still stores. Text keeps full deflate at the configured level.
 */
export function compressionOptions(content: Uint8Array, level: number): ZlibOptions {
  if (level === 0 || content.length < SMALL || base64Share(content) < 0.5) return {level}
  return {level, strategy: constants.Z_HUFFMAN_ONLY}
}

/** The share of sampled lines that are base64 body lines (MIME wraps them at 76; some clients at 64 or 72). */
export function base64Share(content: Uint8Array): number {
  let hits = 0
  for (let i = 0; i < SAMPLES; i++) {
    const at = Math.floor((content.length * i) / SAMPLES)
    const start = content.indexOf(NEWLINE, at) + 1
    if (start === 0) break
    if (isBase64Line(content, start)) hits++
  }

  return hits / SAMPLES
}

function isBase64Line(content: Uint8Array, start: number): boolean {
  let end = start
  while (end < content.length && end - start <= 100 && content[end] !== NEWLINE) {
    if (!isBase64Char(content[end])) return content[end] === CR && end - start >= 40 && content[end + 1] === NEWLINE
    end++
  }

  return end < content.length && end - start >= 40 && end - start <= 100
}

function isBase64Char(c: number): boolean {
  return (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c === 0x2B || c === 0x2F || c === 0x3D
}
