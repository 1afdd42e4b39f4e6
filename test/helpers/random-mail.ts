// Seeded mail for the crash tests: the same seed gives the same corpus, flags and internal dates, and the same
// sequence of random choices after them (kill moments, changes).
import type {TestMessage} from '../setup/dovecot-server.js'

import {mulberry32} from '../../src/tools/redolog-generator.js'

const WORDS = ['invoice', 'meeting', 'backup', 'quarterly', 'report', 'lunch', 'deploy', 'kernel', 'release', 'budget', 'travel', 'review', 'draft', 'server', 'mailbox']

export interface RandomMail {
  /** A number in [0, 1). */
  random(): number
  /** An integer in [min, max]. */
  int(min: number, max: number): number
  pick<T>(list: readonly T[]): T
  /**
   * An RFC 5322 message of about `size` bytes, CRLF line ends; its words and a random tail make every one distinct.
   * With `body`, that body instead (two messages can then share a Message-ID and a size but not their bytes).
   */
  mail(id: string, size: number, body?: string): Buffer
  /** The message with random system flags and a random internal date in 2025. */
  message(raw: Buffer): TestMessage
  /** For each folder, that many distinct messages of 400 to 6,000 bytes (for Dovecot's loadMessages). */
  corpus(counts: Readonly<Record<string, number>>): Record<string, TestMessage[]>
}

export function randomMail(seed: number, domain: string): RandomMail {
  const random = mulberry32(seed)
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1))
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]
  return {
    random,
    int,
    pick,
    mail(id, size, body) {
      const head = `Message-ID: <${id}@${domain}>\r\nFrom: Sender <sender@${domain}>\r\nTo: someone@${domain}\r\nSubject: ${pick(WORDS)} ${id}\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\n`
      if (body !== undefined) return Buffer.from(`${head}${body}\r\n`)
      const lines: string[] = []
      let {length} = head
      while (length < size) {
        const line = Array.from({length: 12}, () => pick(WORDS)).join(' ') + ` ${random().toString(36).slice(2)}`
        lines.push(line)
        length += line.length + 2
      }

      return Buffer.from(`${head}${lines.join('\r\n')}\r\n`)
    },
    message(raw) {
      const flags = [random() < 0.6 ? String.raw`\Seen` : '', random() < 0.1 ? String.raw`\Flagged` : '', random() < 0.05 ? String.raw`\Answered` : ''].filter(Boolean)
      return {raw, flags, internalDate: new Date(Date.UTC(2025, int(0, 11), int(1, 28), int(0, 23), int(0, 59), int(0, 59)))}
    },
    corpus(counts) {
      const folders: Record<string, TestMessage[]> = {}
      for (const [folder, count] of Object.entries(counts)) {
        folders[folder] = Array.from({length: count}, (_, i) => this.message(this.mail(`${folder.replace('/', '-')}-${i}`, int(400, 6000))))
      }

      return folders
    },
  }
}
