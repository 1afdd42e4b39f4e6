// The peers of the IMAP benchmark, run against the same test Dovecot as the plugin: mbsync (isync) pulling every
// folder into a Maildir and pushing a Maildir into an empty account, and dsync (`doveadm backup -R ... imapc:`)
// pulling through Dovecot's own IMAP client; and imapflow fetching everything and dropping it. All log in as
// `<user>*<master>`, the way the plugin does.
import {ImapFlow} from 'imapflow'
import {spawn} from 'node:child_process'
import {
  chownSync, mkdirSync, statSync, writeFileSync,
} from 'node:fs'
import path from 'node:path'

import type {TestDovecot} from '../../test/setup/dovecot-server.js'

/** Runs a command to completion; its failure names it with the end of its stderr. */
export function runTool(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{seconds: number; stderr: string; stdout: string}> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.once('error', reject)
    child.once('exit', code => {
      const seconds = (performance.now() - started) / 1000
      if (code === 0) resolve({seconds, stderr, stdout})
      else reject(new Error(`${path.basename(command)} ${args.slice(0, 3).join(' ')} ... exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`))
    })
  })
}

/** Runs `jobs` at most `concurrency` at a time; resolves with the wall-clock seconds of the whole. */
export async function inParallel(jobs: Array<() => Promise<unknown>>, concurrency: number): Promise<number> {
  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]()
  }

  await Promise.all(Array.from({length: Math.min(concurrency, jobs.length)}, worker))
  return (performance.now() - started) / 1000
}

/** A second and a margin: from then on mbsync's Maildir mtimes are in an earlier second than its start. */
const MAILDIR_MTIME_SECOND_MS = 1100

/**
 * mbsync with one channel per account (channel name = account index), its state outside the Maildirs so that the
 * same Maildir can be pulled into and then pushed from by another channel.
 */
export class Mbsync {
  private readonly config: string
  private readonly channels: string[] = []

  constructor(private readonly dovecot: TestDovecot, private readonly dir: string) {
    mkdirSync(path.join(dir, 'state'), {recursive: true})
    this.config = path.join(dir, 'mbsyncrc')
    writeFileSync(this.config, '')
  }

  /** Maildir root of an account's pull (what `pull` fills and `push` reads). */
  maildir(account: string): string {
    return path.join(this.dir, 'maildir', account)
  }

  /**
   * Declares a channel for an account: `pull` copies the server into maildir(account); `push` copies
   * maildir(from) into the account on the server. Returns the channel name.
   */
  channel(account: string, direction: 'pull' | 'push', from = account): string {
    const name = `${direction}${this.channels.length}`
    const maildir = this.maildir(from)
    mkdirSync(maildir, {recursive: true})
    const text = `IMAPAccount ${name}
Host ${this.dovecot.host}
Port ${this.dovecot.port}
User ${account}*${this.dovecot.masterUser}
Pass ${this.dovecot.masterPassword}
SSLType None
AuthMechs LOGIN
PipelineDepth 50

IMAPStore ${name}-far
Account ${name}

MaildirStore ${name}-near
Path ${maildir}/
Inbox ${maildir}/INBOX
SubFolders Verbatim

Channel ${name}
Far :${name}-far:
Near :${name}-near:
Patterns *
${direction === 'pull' ? 'Create Near\nExpunge Near\nSync Pull' : 'Create Far\nSync Push'}
SyncState ${this.dir}/state/${name}-

`
    writeFileSync(this.config, text, {flag: 'a'})
    this.channels.push(name)
    return name
  }

  /** When the last run ended (performance.now()), for the wait in run(). */
  private lastRunEnded = -Infinity

  /**
   * Runs the channels; resolves with the wall-clock seconds. mbsync sleeps one second when it starts within the
   * second its Maildir last changed (isync's guard against changes hidden by the directory's one-second mtime:
   * measured, a clock_nanosleep of 1 s). mbsync run by cron never meets it; a benchmark that runs it again at once
   * would time that sleep (1.1-1.2 s instead of 0.13-0.24 s for an incremental of 5 accounts), so the second is
   * waited out first, untimed.
   */
  async run(channels: readonly string[], concurrency: number): Promise<number> {
    const wait = this.lastRunEnded + MAILDIR_MTIME_SECOND_MS - performance.now()
    if (wait > 0) await new Promise(resolve => {
      setTimeout(resolve, wait)
    })
    try {
      return await inParallel(channels.map(channel => () => runTool('mbsync', ['-q', '-c', this.config, channel])), concurrency)
    } finally {
      this.lastRunEnded = performance.now()
    }
  }
}

/**
 * dsync through imapc: `doveadm -o imapc_... -o mail_location=<own Maildir> backup -R -u <account> imapc:` makes
 * a local Maildir (outside the server's mail) the one-way copy of what the server shows over IMAP. Run again, it
 * transfers only the changes. imapc_features stays at what every server has (no modseq: with it, dsync was seen
 * missing flag changes).
 */
export class Dsync {
  constructor(private readonly dovecot: TestDovecot, private readonly dir: string) {
    mkdirSync(dir, {recursive: true})
    // doveadm drops to the mail user of the userdb before writing.
    const {uid, gid} = statSync(dovecot.maildirOf(''))
    chownSync(dir, uid, gid)
  }

  maildir(account: string): string {
    return path.join(this.dir, account)
  }

  /** Runs that were asked to run again (exit 75, "temporary failure": dsync found a conflict and restarted). */
  reruns = 0

  backup(accounts: readonly string[], concurrency: number): Promise<number> {
    return inParallel(accounts.map(account => async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.backupOne(account)
        } catch (error) {
          if (attempt >= 3 || !/exited with 75/.test((error as Error).message)) throw error
          this.reruns++
        }
      }
    }), concurrency)
  }

  private backupOne(account: string): Promise<unknown> {
    const {dovecot} = this
    return runTool('doveadm', [
      '-c',
      dovecot.configFile,
      '-o',
      `imapc_host=${dovecot.host}`,
      '-o',
      `imapc_port=${dovecot.port}`,
      '-o',
      `imapc_user=${account}`,
      '-o',
      `imapc_master_user=${dovecot.masterUser}`,
      '-o',
      `imapc_password=${dovecot.masterPassword}`,
      '-o',
      'imapc_features=rfc822.size fetch-headers',
      '-o',
      `mail_location=maildir:${this.maildir(account)}`,
      'backup',
      '-R',
      '-u',
      account,
      'imapc:',
    ])
  }
}

/**
 * The ceiling of any capture built on imapflow, the plugin's IMAP client: every selectable folder of each account
 * read with one `UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[])` and the bytes dropped. What separates the
 * plugin from this is its own work per message (digest, gzip, fsync, catalog), not the client library.
 */
export function imapflowFetchOnly(dovecot: TestDovecot, accounts: readonly string[], concurrency: number): Promise<number> {
  return inParallel(accounts.map(account => async () => {
    const client = new ImapFlow({
      host: dovecot.host,
      port: dovecot.port,
      secure: false,
      logger: false,
      auth: {user: `${account}*${dovecot.masterUser}`, pass: dovecot.masterPassword},
    })
    await client.connect()
    try {
      for (const mailbox of await client.list()) {
        if (mailbox.flags.has(String.raw`\Noselect`) || mailbox.flags.has(String.raw`\NonExistent`)) continue
        const lock = await client.getMailboxLock(mailbox.path, {readOnly: true})
        try {
          // eslint-disable-next-line @typescript-eslint/no-unused-vars
          for await (const _message of client.fetch('1:*', {
            uid: true, flags: true, internalDate: true, source: true,
          }, {uid: true})) {
            // dropped: only the transfer and the parsing are measured
          }
        } finally {
          lock.release()
        }
      }
    } finally {
      await client.logout()
    }
  }), concurrency)
}
