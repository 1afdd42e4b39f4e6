// Case f of bench/imap-capture.ts: accounts that each hold one large message (a base64 attachment of `megabytes`)
// and a few small ones, captured by an initial SmartScan next to mbsync pulling the same. What it shows is memory: the
// SmartScan's peak RSS against the same scan of the small messages alone, since a large message is stored as it
// arrives (imap-account-feed.ts, STREAM_BYTES) instead of being held whole.
import {ImapFlow} from 'imapflow'
import {randomBytes} from 'node:crypto'
import path from 'node:path'

import type {TestDovecot} from '../../test/setup/dovecot-server.js'

import {CarbonioCli} from './carbonio-cli.js'
import {addUsers} from './corpus.js'
import {Mbsync} from './peers.js'

export interface LargeMessageSettings {
  accounts: number
  megabytes: number
  concurrency: number
  password: string
}

const SMALL_MESSAGES = 5

/** Appends, as a mail client would, one large message (unless `large` is false) and a few small ones. */
async function load(dovecot: TestDovecot, account: string, {large, megabytes, password}: {large: boolean; megabytes: number; password: string}): Promise<number> {
  const client = new ImapFlow({
    host: dovecot.host, port: dovecot.port, secure: false, auth: {user: account, pass: password}, logger: false,
  })
  client.on('error', () => {})
  await client.connect()
  let bytes = 0
  try {
    if (large) {
      const attachment = randomBytes(Math.round(megabytes * 1024 * 1024 * 0.75)).toString('base64').replaceAll(/.{76}/g, '$&\r\n')
      const raw = Buffer.from(`Message-ID: <large.${account}>\r\nFrom: sender@example.org\r\nTo: ${account}\r\nSubject: large\r\n`
        + `MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${attachment}\r\n`)
      await client.append('INBOX', raw)
      bytes += raw.length
    }

    for (let i = 0; i < SMALL_MESSAGES; i++) {
      const raw = Buffer.from(`Message-ID: <small${i}.${account}>\r\nFrom: sender@example.org\r\nTo: ${account}\r\nSubject: small ${i}\r\n\r\nHello ${i}.\r\n`)
      await client.append('INBOX', raw)
      bytes += raw.length
    }
  } finally {
    await client.logout()
  }

  return bytes
}

/** Peak RSS in MiB from the `rss N KiB` that CarbonioCli.profiled reports. */
function peakMiB(cpu: string): number {
  return Math.round(Number(/rss (\d+) KiB/.exec(cpu)?.[1] ?? 0) / 1024)
}

export async function largeMessageCase(dovecot: TestDovecot, work: string, settings: LargeMessageSettings): Promise<Record<string, unknown>> {
  const scan = async (domain: string, large: boolean) => {
    const accounts = Array.from({length: settings.accounts}, (_, i) => `${large ? 'large' : 'small'}${i}@${domain}`)
    await addUsers(dovecot, accounts, settings.password)
    let bytes = 0
    for (const account of accounts) bytes += await load(dovecot, account, {large, megabytes: settings.megabytes, password: settings.password})
    const cli = new CarbonioCli(path.join(work, domain))
    await cli.configure(dovecot, domain)
    const mbsync = new Mbsync(dovecot, path.join(work, `${domain}-mbsync`))
    const mbsyncSeconds = await mbsync.run(accounts.map(account => mbsync.channel(account, 'pull')), settings.concurrency)
    const ours = await cli.profiled(['backup', 'doSmartScan', 'start'])
    return {
      MiB: Math.round(bytes / 1024 / 1024), seconds: ours.seconds, peakRssMiB: peakMiB(ours.cpu), mbsyncSeconds,
    }
  }

  const small = await scan('small.bench', false)
  const large = await scan('large.bench', true)
  return {
    accounts: settings.accounts,
    largeMessageMiB: settings.megabytes,
    smallOnly: {peakRssMiB: small.peakRssMiB, seconds: small.seconds},
    withLarge: {
      MiB: large.MiB, seconds: large.seconds, peakRssMiB: large.peakRssMiB, mbsyncSeconds: Math.round(large.mbsyncSeconds * 100) / 100,
    },
    // What the large messages added to the peak, per message in flight (TransferSlots: 4 accounts transfer at once).
    addedPeakMiB: large.peakRssMiB - small.peakRssMiB,
    ratioToMbsync: Math.round((large.mbsyncSeconds / large.seconds) * 100) / 100,
  }
}
