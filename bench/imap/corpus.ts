// The mail of the IMAP benchmark: deterministic, realistic messages (2-200 KB, text bodies, and attachments drawn
// from a small pool so that the same file travels in many messages, as forwarded documents do), loaded into the
// test Dovecot by writing Maildir files and `doveadm force-resync` (test/setup/dovecot-server.ts loadMessages):
// about 4x faster than IMAP APPEND, and it leaves the server exactly as a delivery would, with no IMAP session of
// the benchmark's own warming anything up.
import {appendFileSync} from 'node:fs'
import path from 'node:path'

import type {TestDovecot, TestMessage} from '../../test/setup/dovecot-server.js'

const WORDS = ('the of and to in is that for it as was with be by on not he this are or his from at which but have an they '
  + 'you were her all she there would their we him been has when who will more no if out so said what up its about into '
  + 'than them can only other new some could time these two may then do first any my now such like our over man me even '
  + 'most made after also did many before must through back years where much your way well down should because each just '
  + 'budget meeting quarter report invoice attached please review schedule project deadline customer contract update').split(' ')

const FOLDERS: Array<[string, number]> = [['INBOX', 0.55], ['Sent', 0.2], ['Archive/2024', 0.15], ['Archive/2025', 0.05], ['Trash', 0.05]]

/** A small seeded generator (mulberry32): the same seed gives the same corpus on every machine. */
export function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D_2B_79_F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

interface Attachment {
  name: string
  type: string
  base64: string
}

/** The shared attachments: a few dozen files of 8-150 KB, base64 in 76-column lines as a mail client writes them. */
function attachmentPool(next: () => number): Attachment[] {
  const pool: Attachment[] = []
  for (let i = 0; i < 40; i++) {
    const size = Math.round(8000 + ((next() ** 2) * 142_000))
    const bytes = Buffer.alloc(size)
    for (let j = 0; j < size; j++) bytes[j] = Math.floor(next() * 256)
    const base64 = bytes.toString('base64').replaceAll(/.{1,76}/g, line => `${line}\r\n`)
    const [name, type] = [[`report-${i}.pdf`, 'application/pdf'], [`photo-${i}.jpg`, 'image/jpeg'], [`sheet-${i}.xlsx`, 'application/vnd.ms-excel']][i % 3]
    pool.push({name, type, base64})
  }

  return pool
}

function paragraph(next: () => number, bytes: number): string {
  const words: string[] = []
  let length = 0
  while (length < bytes) {
    const word = WORDS[Math.floor(next() * WORDS.length)]
    words.push(word)
    length += word.length + 1
  }

  return words.join(' ').replaceAll(/(.{1,72})(?: |$)/g, '$1\r\n')
}

export interface CorpusMessage extends TestMessage {
  raw: Buffer
  folder: string
}

/**
 * The messages of one account: about 60% plain text of 2-12 KB, the others with one or two pooled attachments
 * (up to about 200 KB in all); flags as a mailbox that has been read for a while has them; internal dates over 2025.
 */
export class CorpusGenerator {
  private readonly next: () => number
  private readonly pool: Attachment[]

  constructor(seed = 7) {
    this.next = random(seed)
    this.pool = attachmentPool(random(seed + 1))
  }

  message(account: string, index: number): CorpusMessage {
    const {next} = this
    const date = new Date(Date.UTC(2025, 0, 1) + Math.floor(next() * 364 * 86_400_000))
    const id = `<${index}.${Math.floor(next() * 1e9).toString(36)}@${account.split('@')[1] ?? 'bench.test'}>`
    const subject = paragraph(next, 30).split('\r\n')[0]
    const headers = [
      `Return-Path: <sender${index % 50}@example.org>`,
      `Message-ID: ${id}`,
      `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
      `From: Sender ${index % 50} <sender${index % 50}@example.org>`,
      `To: ${account}`,
      `Subject: ${subject}`,
      'MIME-Version: 1.0',
    ]
    const text = paragraph(next, 1500 + Math.floor(next() * 10_000))
    let raw: string
    if (next() < 0.6) {
      raw = [...headers, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 7bit', '', text].join('\r\n')
    } else {
      const boundary = `b${index}x${Math.floor(next() * 1e9)}`
      const parts = [`--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}`]
      const count = next() < 0.8 ? 1 : 2
      for (let i = 0; i < count; i++) {
        const a = this.pool[Math.floor(next() * this.pool.length)]
        parts.push(`--${boundary}\r\nContent-Type: ${a.type}; name="${a.name}"\r\nContent-Disposition: attachment; filename="${a.name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${a.base64}`)
      }

      raw = [...headers, `Content-Type: multipart/mixed; boundary="${boundary}"`, '', ...parts, `--${boundary}--`, ''].join('\r\n')
    }

    const flags: string[] = []
    if (next() < 0.7) flags.push(String.raw`\Seen`)
    if (next() < 0.05) flags.push(String.raw`\Flagged`)
    if (next() < 0.1) flags.push(String.raw`\Answered`)
    return {
      raw: Buffer.from(raw), flags, internalDate: date, folder: this.folder(),
    }
  }

  private folder(): string {
    let pick = this.next()
    for (const [name, share] of FOLDERS) {
      pick -= share
      if (pick < 0) return name
    }

    return 'INBOX'
  }
}

export interface LoadedAccount {
  account: string
  messages: number
  bytes: number
}

/** Loads `count` generated messages into an account (added with addUsers), in chunks so memory stays bounded. */
export async function loadAccount(dovecot: TestDovecot, generator: CorpusGenerator, account: string, count: number): Promise<LoadedAccount> {
  let bytes = 0
  for (let start = 0; start < count; start += 1000) {
    const folders: Record<string, TestMessage[]> = {}
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      const message = generator.message(account, i)
      bytes += message.raw.length;
      (folders[message.folder] ??= []).push(message)
    }

    await dovecot.loadMessages(account, folders)
  }

  return {account, messages: count, bytes}
}

/**
 * Adds many users at once: one passwd-file write and one reload (TestDovecot.addUser reloads for each user, which
 * costs seconds for a hundred accounts).
 */
export async function addUsers(dovecot: TestDovecot, accounts: readonly string[], password: string): Promise<void> {
  const file = path.join(dovecot.dir, 'users')
  appendFileSync(file, accounts.map(account => `${account}:{PLAIN}${password}::::::\n`).join(''))
  await dovecot.doveadm(['reload'])
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      await dovecot.doveadm(['user', accounts.at(-1)!])
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise(resolve => {
        setTimeout(resolve, 50)
      })
    }
  }
}
