import {ImapFlow} from 'imapflow'
import knex from 'knex'
// A soak of the daemon's Realtime Scanner on IMAP (not part of `npm run bench`: it runs for minutes on purpose):
// Dovecot with N active accounts, the daemon following them, and one client per account changing its mailbox
// without pause the way a mail client does (append, flags, keywords, move, expunge, folder create and delete).
// The daemon's resident memory is sampled the whole time: a daemon that runs for months must not grow with the
// number of changes it has followed. At the end the catalog is compared with the server: every message the server
// has is a live item, with its flags, in its folder, with the same bytes.
//
//   npx tsx bench/daemon-soak.ts [--accounts 20] [--minutes 10] [--sample-seconds 15]
//
// SOAK_DEBUG=1 prints the history of the catalog's items that differ; SOAK_HEAP=1 with
// NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2 has the daemon write a heap snapshot (into the current directory) at each
// sample, to compare what its JavaScript heap holds over time.
import {createHash} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {parseArgs} from 'node:util'

import {startTestDovecot, type TestDovecot} from '../test/setup/dovecot-server.js'
import {CarbonioCli} from './imap/carbonio-cli.js'
import {
  addUsers, CorpusGenerator, loadAccount, random,
} from './imap/corpus.js'
import {describeMachine, loadAverage} from './machine.js'

const {values} = parseArgs({
  options: {
    accounts: {type: 'string', default: '20'},
    minutes: {type: 'string', default: '10'},
    'sample-seconds': {type: 'string', default: '15'},
  },
})
const ACCOUNTS = Number(values.accounts)
const DURATION_MS = Number(values.minutes) * 60_000
const SAMPLE_MS = Number(values['sample-seconds']) * 1000
const PASSWORD = 'soak-pw'
const log = (line: string) => process.stderr.write(`daemon-soak: ${line}\n`)

function residentKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) : Number.NaN
}

/** One change to a message of the folder, as a mail client makes it: flags and a keyword set or cleared, a move, an expunge. */
async function changeOneMessage(client: ImapFlow, folder: string, next: () => number): Promise<void> {
  const lock = await client.getMailboxLock(folder)
  try {
    const {exists} = (client.mailbox as {exists: number})
    if (exists === 0) return
    const seq = String(1 + Math.floor(next() * exists))
    const kind = next()
    if (kind < 0.4) await client.messageFlagsAdd(seq, [String.raw`\Seen`, '$Soak'])
    else if (kind < 0.7) await client.messageFlagsRemove(seq, [String.raw`\Seen`, '$Soak'])
    else if (kind < 0.85) await client.messageMove(seq, folder === 'INBOX' ? 'Soak' : 'INBOX')
    else if (exists > 10) await client.messageDelete(seq)
  } finally {
    lock.release()
  }
}

/** One account's mail client: changes without pause until the deadline; how many changes it made. */
async function mailClient(dovecot: TestDovecot, generator: CorpusGenerator, account: string, until: number): Promise<number> {
  const next = random([...account].reduce((sum, c) => sum + c.codePointAt(0)!, 0))
  const client = new ImapFlow({
    host: dovecot.host, port: dovecot.port, secure: false, auth: {user: account, pass: PASSWORD}, logger: false,
  })
  client.on('error', () => {})
  await client.connect()
  let changes = 0
  let index = 1_000_000
  let scratch = 0
  try {
    await client.mailboxCreate('Soak').catch(() => {})
    while (Date.now() < until) {
      const pick = next()
      const folder = next() < 0.5 ? 'INBOX' : 'Soak'
      if (pick < 0.3) {
        const message = generator.message(account, index++)
        await client.append(folder, message.raw, message.flags, message.internalDate)
      } else if (pick < 0.95) {
        await changeOneMessage(client, folder, next)
      } else {
        const name = `Scratch${scratch++}`
        await client.mailboxCreate(name)
        await client.mailboxDelete(name)
      }

      changes++
      await new Promise(resolve => {
        setTimeout(resolve, 50 + Math.floor(next() * 200))
      })
    }
  } finally {
    await client.logout().catch(() => {})
  }

  return changes
}

/** The server's messages of an account, as `folder flags subject` lines, sorted. */
async function serverState(dovecot: TestDovecot, account: string): Promise<string[]> {
  const client = new ImapFlow({
    host: dovecot.host, port: dovecot.port, secure: false, auth: {user: account, pass: PASSWORD}, logger: false,
  })
  client.on('error', () => {})
  await client.connect()
  const lines: string[] = []
  try {
    for (const box of await client.list()) {
      if (box.flags.has(String.raw`\Noselect`)) continue
      const lock = await client.getMailboxLock(box.path, {readOnly: true})
      try {
        if ((client.mailbox as {exists: number}).exists === 0) continue
        for await (const m of client.fetch('1:*', {flags: true, envelope: true, source: true})) {
          // \Recent belongs to the session that sees a message first (this one), not to the message.
          const flags = [...m.flags ?? []].filter(flag => flag !== String.raw`\Recent`)
          lines.push(`/${box.path} ${flags.sort().join(',')} ${m.envelope?.messageId ?? ''} ${createHash('sha256').update(m.source ?? '').digest('hex').slice(0, 12)}`)
        }
      } finally {
        lock.release()
      }
    }
  } finally {
    await client.logout()
  }

  return lines.sort()
}

/** The catalog's live items of an account in the same form. */
async function catalogState(catalogFile: string, account: string): Promise<string[]> {
  const db = knex({client: 'sqlite3', connection: {filename: catalogFile}, useNullAsDefault: true})
  try {
    const rows: Array<{digest: null | string; flags: string; folder: null | string; metadata: string}> = await db('items as i')
    .join('accounts as a', 'a.id', 'i.account_id')
    .join('item_revisions as r', 'r.item_id', 'i.id')
    .where('a.name', account)
    .whereNull('r.valid_to')
    .where('r.deleted', false)
    .select('r.flags', 'r.metadata', 'r.folder_remote_id as folder', 'r.blob_digest as digest')
    const folders: Array<{path: string; remote_id: string}> = await db('folders as f')
    .join('accounts as a', 'a.id', 'f.account_id')
    .join('folder_revisions as r', 'r.folder_id', 'f.id')
    .where('a.name', account)
    .whereNull('r.valid_to')
    .select('f.remote_id', 'r.path')
    const pathOf = new Map(folders.map(f => [f.remote_id, f.path]))
    return rows.map(row => {
      const metadata = JSON.parse(row.metadata) as {messageId?: string}
      const flags = (JSON.parse(row.flags) as string[]).sort().join(',')
      return `${pathOf.get(row.folder ?? '') ?? row.folder} ${flags} ${metadata.messageId ?? ''} ${(row.digest ?? '').slice(0, 12)}`
    }).sort()
  } finally {
    await db.destroy()
  }
}

async function explain(catalogFile: string, account: string): Promise<void> {
  const db = knex({client: 'sqlite3', connection: {filename: catalogFile}, useNullAsDefault: true})
  const odd = await db('items as i').join('accounts as a', 'a.id', 'i.account_id').join('item_revisions as r', 'r.item_id', 'i.id')
  .where('a.name', account).whereNull('r.valid_to').where('r.deleted', false).whereNot('r.metadata', 'like', '%messageId%').select('i.id', 'i.remote_id')
  for (const item of odd) {
    const history = await db('item_revisions').where('item_id', item.id).orderBy('id').select('valid_from', 'valid_to', 'operation', 'folder_remote_id', 'flags', 'deleted', 'locator', 'metadata', 'blob_digest')
    log(`item ${item.id} ${item.remote_id}: ${JSON.stringify(history)}`)
  }

  await db.destroy()
}

const machine = describeMachine()
const dovecot = await startTestDovecot()
try {
  const generator = new CorpusGenerator(11)
  const domain = 'soak.bench'
  const accounts = Array.from({length: ACCOUNTS}, (_, i) => `soak${i}@${domain}`)
  await addUsers(dovecot, accounts, PASSWORD)
  for (const account of accounts) await loadAccount(dovecot, generator, account, 50)
  const cli = new CarbonioCli(path.join(dovecot.dir, 'soak'))
  await cli.configure(dovecot, domain, {ZxBackup_RealTimeScanner: 'TRUE'})
  const daemon = cli.start(['backup', 'daemon'])
  let stderr = ''
  daemon.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000)
  })
  const samples: Array<{minute: number; rssMiB: number}> = []
  let changes = 0
  try {
    for (const deadline = Date.now() + 120_000; ;) {
      const {view} = await cli.json(['backup', 'getServices'])
      const detail = view.services.find((s: {name: string}) => s.name === 'backup-realtime')?.detail
      if (detail?.accountsFollowed === ACCOUNTS) break
      if (Date.now() > deadline) throw new Error(`the daemon did not follow ${ACCOUNTS} accounts in 120 s: ${stderr.slice(-500)}`)
      await new Promise(resolve => {
        setTimeout(resolve, 500)
      })
    }

    const started = Date.now()
    const until = started + DURATION_MS
    const sampler = setInterval(() => {
      const sample = {minute: Math.round((Date.now() - started) / 6000) / 10, rssMiB: Math.round(residentKiB(daemon.pid!) / 1024)}
      samples.push(sample)
      log(`${sample.minute} min: daemon RSS ${sample.rssMiB} MiB`)
      if (process.env.SOAK_HEAP) daemon.kill('SIGUSR2')
    }, SAMPLE_MS)
    const counts = await Promise.all(accounts.map(account => mailClient(dovecot, generator, account, until)))
    clearInterval(sampler)
    changes = counts.reduce((a, b) => a + b, 0)
    log(`${changes} changes made; waiting for the daemon to catch up`)
    // The polling safety net runs every 30 s for accounts pushed by NOTIFY: the last changes are in by then.
    await new Promise(resolve => {
      setTimeout(resolve, 35_000)
    })
    let differing = 0
    for (const account of accounts) {
      const [server, catalog] = [await serverState(dovecot, account), await catalogState(cli.catalogFile, account)]
      if (JSON.stringify(server) !== JSON.stringify(catalog)) {
        differing++
        const missing = server.filter(line => !catalog.includes(line))
        const extra = catalog.filter(line => !server.includes(line))
        if (process.env.SOAK_DEBUG) await explain(cli.catalogFile, account)
        log(`${account}: server ${server.length}, catalog ${catalog.length}; not in the catalog: ${missing.slice(0, 3).join(' | ')}; not on the server: ${extra.slice(0, 3).join(' | ')}`)
      }
    }

    const first = samples.slice(0, Math.max(1, Math.floor(samples.length / 4)))
    const last = samples.slice(-Math.max(1, Math.floor(samples.length / 4)))
    const mean = (list: typeof samples) => Math.round(list.reduce((a, s) => a + s.rssMiB, 0) / list.length)
    const result = {
      machine,
      accounts: ACCOUNTS,
      minutes: DURATION_MS / 60_000,
      changes,
      accountsDiffering: differing,
      rssMiB: {firstQuarter: mean(first), lastQuarter: mean(last), peak: Math.max(...samples.map(s => s.rssMiB))},
      samples,
      loadAverageAfter: loadAverage(),
    }
    const file = path.join(path.dirname(new URL(import.meta.url).pathname), 'results', `daemon-soak-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.json`)
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`)
    log(`RSS first quarter ${result.rssMiB.firstQuarter} MiB, last quarter ${result.rssMiB.lastQuarter} MiB, peak ${result.rssMiB.peak} MiB; ${differing} of ${ACCOUNTS} accounts differ from the server; ${file}`)
  } finally {
    daemon.kill('SIGTERM')
    await new Promise(resolve => {
      daemon.once('exit', resolve)
      setTimeout(() => daemon.kill('SIGKILL'), 20_000).unref()
    })
  }
} finally {
  await dovecot.stop()
}
