// IMAP capture benchmark (issue 4, Speed): the plugin against a real Dovecot (the test server of
// test/setup/dovecot-server.ts, started for this run) next to the peers that copy mail over IMAP, measured in the
// same invocation on the same corpus so that ratios mean something on a noisy shared machine:
//
//   a. initial full capture (`backup doSmartScan start`) vs mbsync pulling into Maildir and dsync
//      (`doveadm backup -R ... imapc:`), the peers running as many accounts at once as SmartScan does; and, as the
//      ceiling of the client library, imapflow fetching every message and dropping it;
//   b. the incremental run after 1% of the messages changed (flags, new, expunged) vs the same peers again;
//   c. a no-change SmartScan of many small accounts;
//   d. the capture lag of the daemon (backup-realtime on) with active accounts: p50/p99 from an APPEND by another
//      client to the committed revision;
//   e. doRestoreOnNewAccount of a large account into an empty one vs mbsync pushing the same messages (its own
//      Maildir pull of that account) into another empty account;
//   f. accounts that each hold one large message (--large-megabytes, 30): the initial SmartScan's peak RSS against
//      that of the same accounts without it, and its time against mbsync (bench/imap/large-messages.ts).
//
// The corpus is written as Maildir files plus `doveadm force-resync` (bench/imap/corpus.ts), not IMAP APPEND.
//
//   npx tsx bench/imap-capture.ts [--accounts 5] [--messages 2000] [--sweep-accounts 100] [--lag-accounts 20]
//     [--lag-changes 200] [--lag-rate 10] [--restore-messages 10000] [--concurrency 4] [--cases a,b,c,d,e,f]
//     [--large-accounts 8] [--large-megabytes 30]
//     [--compression-level 0-9]   (gzip level of the blob store in cases a and b; default: the product's)
//   npx tsx bench/imap-capture.ts --quick      (2 x 300, 100-account sweep, small lag and restore: under a minute)
import {
  mkdirSync, rmSync, writeFileSync,
} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {startTestDovecot, type TestDovecot} from '../test/setup/dovecot-server.js'
import {measureLag} from './imap/capture-lag.js'
import {CarbonioCli} from './imap/carbonio-cli.js'
import {addUsers, CorpusGenerator, loadAccount} from './imap/corpus.js'
import {largeMessageCase} from './imap/large-messages.js'
import {changeOnePercent} from './imap/mailbox-changes.js'
import {Dsync, imapflowFetchOnly, Mbsync} from './imap/peers.js'
import {describeMachine, loadAverage} from './machine.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const PASSWORD = 'bench-pw'
const {values} = parseArgs({
  options: {
    quick: {type: 'boolean', default: false},
    accounts: {type: 'string'},
    messages: {type: 'string'},
    'sweep-accounts': {type: 'string'},
    'lag-accounts': {type: 'string'},
    'lag-changes': {type: 'string'},
    'lag-rate': {type: 'string'},
    'restore-messages': {type: 'string'},
    concurrency: {type: 'string', default: '4'},
    cases: {type: 'string', default: 'a,b,c,d,e,f'},
    'large-accounts': {type: 'string', default: '8'},
    'large-megabytes': {type: 'string', default: '30'},
    'compression-level': {type: 'string'},
  },
})
const preset = values.quick
  ? {
    accounts: 2, messages: 300, sweep: 100, lagAccounts: 20, lagChanges: 40, lagRate: 10, restore: 300,
  }
  : {
    accounts: 5, messages: 2000, sweep: 100, lagAccounts: 20, lagChanges: 200, lagRate: 10, restore: 10_000,
  }
const settings = {
  accounts: Number(values.accounts ?? preset.accounts),
  messages: Number(values.messages ?? preset.messages),
  sweepAccounts: Number(values['sweep-accounts'] ?? preset.sweep),
  lagAccounts: Number(values['lag-accounts'] ?? preset.lagAccounts),
  lagChanges: Number(values['lag-changes'] ?? preset.lagChanges),
  lagRate: Number(values['lag-rate'] ?? preset.lagRate),
  restoreMessages: Number(values['restore-messages'] ?? preset.restore),
  concurrency: Number(values.concurrency),
  cases: new Set(values.cases.split(',')),
  // The blob store's gzip level for the capture cases; unset, the product default (backupCompressionLevel).
  compressionLevel: values['compression-level'],
  // The blob threads' numbers when set in the environment (the plugin's processes inherit it), else the defaults.
  blobWriters: process.env.CARBONIO_BACKUP_BLOB_WRITERS ?? 'default',
  blobReaders: process.env.CARBONIO_BACKUP_BLOB_READERS ?? 'default',
}

const MiB = 2 ** 20
const round = (value: number, digits = 2) => Number(value.toFixed(digits))
const log = (line: string) => process.stderr.write(`imap-capture: ${line}\n`)

/** Seconds the operation itself ran (started to ended in its record), without the CLI's start-up. */
function operationSeconds(view: {ended: string; started: string}): number {
  return (Date.parse(view.ended) - Date.parse(view.started)) / 1000
}

function rate(messages: number, bytes: number, seconds: number) {
  return {
    seconds: round(seconds), messagesPerSecond: Math.round(messages / seconds), MiBPerSecond: round(bytes / MiB / seconds, 1),
  }
}

async function messagesIn(dovecot: TestDovecot, account: string): Promise<number> {
  const out = await dovecot.doveadm(['-f', 'flow', 'mailbox', 'status', '-u', account, 'messages', '*'])
  return out.split('\n').reduce((sum, line) => sum + Number(/messages=(\d+)/.exec(line)?.[1] ?? 0), 0)
}

/** Cases a and b: one corpus, the initial capture by each tool, 1% changed, the incremental run by each tool. */
async function captureCases(dovecot: TestDovecot, work: string, generator: CorpusGenerator): Promise<Record<string, unknown>> {
  const domain = 'corpus.bench'
  const accounts = Array.from({length: settings.accounts}, (_, i) => `user${i}@${domain}`)
  await addUsers(dovecot, accounts, PASSWORD)
  let messages = 0
  let bytes = 0
  for (const account of accounts) {
    const loaded = await loadAccount(dovecot, generator, account, settings.messages)
    messages += loaded.messages
    bytes += loaded.bytes
  }

  log(`corpus: ${accounts.length} accounts, ${messages} messages, ${round(bytes / MiB, 1)} MiB`)
  const cli = new CarbonioCli(path.join(work, 'capture'))
  await cli.configure(dovecot, domain, settings.compressionLevel === undefined ? {} : {backupCompressionLevel: settings.compressionLevel})
  const mbsync = new Mbsync(dovecot, path.join(work, 'mbsync'))
  const channels = accounts.map(account => mbsync.channel(account, 'pull'))
  const dsync = new Dsync(dovecot, path.join(dovecot.dir, 'dsync'))
  const {concurrency} = settings

  const initial: Record<string, unknown> = {messages, MiB: round(bytes / MiB, 1), loadAverageBefore: loadAverage()}
  const mbsyncInitial = await mbsync.run(channels, concurrency)
  log(`a. mbsync initial: ${round(mbsyncInitial)} s`)
  const dsyncInitial = await dsync.backup(accounts, concurrency)
  log(`a. dsync initial: ${round(dsyncInitial)} s`)
  const fetchOnly = await imapflowFetchOnly(dovecot, accounts, concurrency)
  log(`a. imapflow fetch and drop (the client library's ceiling): ${round(fetchOnly)} s`)
  const ours = await cli.json(['backup', 'doSmartScan', 'start'])
  const oursSeconds = operationSeconds(ours.view)
  log(`a. doSmartScan initial: ${round(oursSeconds)} s (process ${round(ours.seconds)} s)`)
  const captured = ours.view.result.totals.created as number
  Object.assign(initial, {
    carbonio: {...rate(messages, bytes, oursSeconds), processSeconds: round(ours.seconds), created: captured},
    mbsync: rate(messages, bytes, mbsyncInitial),
    dsync: {...rate(messages, bytes, dsyncInitial), reruns: dsync.reruns},
    imapflowFetchOnly: rate(messages, bytes, fetchOnly),
    ratioToMbsync: round(mbsyncInitial / oursSeconds),
    ratioOfFetchOnlyToMbsync: round(mbsyncInitial / fetchOnly),
    ratioToDsync: round(dsyncInitial / oursSeconds),
    loadAverageAfter: loadAverage(),
  })

  const changes = {flagged: 0, appended: 0, expunged: 0}
  for (const account of accounts) {
    const made = await changeOnePercent(dovecot, generator, {account, password: PASSWORD, messages: settings.messages})
    changes.flagged += made.flagged
    changes.appended += made.appended
    changes.expunged += made.expunged
  }

  log(`b. changed: ${JSON.stringify(changes)}`)
  const incremental: Record<string, unknown> = {changes, loadAverageBefore: loadAverage()}
  const mbsyncIncremental = await mbsync.run(channels, concurrency)
  const dsyncIncremental = await dsync.backup(accounts, concurrency)
  const again = await cli.json(['backup', 'doSmartScan', 'start'])
  const againSeconds = operationSeconds(again.view)
  const {totals} = again.view.result
  log(`b. incremental: doSmartScan ${round(againSeconds)} s, mbsync ${round(mbsyncIncremental)} s, dsync ${round(dsyncIncremental)} s`)
  Object.assign(incremental, {
    carbonio: {
      seconds: round(againSeconds), processSeconds: round(again.seconds), created: totals.created, flagsChanged: totals.flagsChanged, deleted: totals.deleted, foldersRead: totals.foldersRead,
    },
    mbsync: {seconds: round(mbsyncIncremental)},
    dsync: {seconds: round(dsyncIncremental), reruns: dsync.reruns},
    ratioToMbsync: round(mbsyncIncremental / againSeconds),
    ratioToDsync: round(dsyncIncremental / againSeconds),
    loadAverageAfter: loadAverage(),
  })
  return {initialCapture: initial, incremental}
}

/** Case c: many small accounts, scanned once, then the timed SmartScan that finds nothing changed. */
async function sweepCase(dovecot: TestDovecot, work: string, generator: CorpusGenerator): Promise<Record<string, unknown>> {
  const domain = 'sweep.bench'
  const accounts = Array.from({length: settings.sweepAccounts}, (_, i) => `s${i}@${domain}`)
  await addUsers(dovecot, accounts, PASSWORD)
  for (const account of accounts) await loadAccount(dovecot, generator, account, 5)
  const cli = new CarbonioCli(path.join(work, 'sweep'))
  await cli.configure(dovecot, domain)
  const first = await cli.json(['backup', 'doSmartScan', 'start'])
  const loadAverageBefore = loadAverage()
  // Most of a no-change sweep is the server's: each login forks an imap process, and in Debian's default
  // high-security mode an imap-login process too. Both modes are measured, the default first.
  const sweep = await cli.json(['backup', 'doSmartScan', 'start'])
  const seconds = operationSeconds(sweep.view)
  log(`c. no-change sweep of ${accounts.length} accounts (Dovecot high-security login): ${round(seconds)} s (process ${round(sweep.seconds)} s)`)
  await dovecot.setLoginProcesses('high-performance')
  const fast = await cli.json(['backup', 'doSmartScan', 'start'])
  await dovecot.setLoginProcesses('high-security')
  const fastSeconds = operationSeconds(fast.view)
  log(`c. no-change sweep of ${accounts.length} accounts (Dovecot high-performance login): ${round(fastSeconds)} s (process ${round(fast.seconds)} s)`)
  return {
    accounts: accounts.length,
    firstScanSeconds: round(operationSeconds(first.view)),
    seconds: round(seconds),
    processSeconds: round(sweep.seconds),
    highPerformanceLogin: {seconds: round(fastSeconds), processSeconds: round(fast.seconds)},
    foldersRead: sweep.view.result.totals.foldersRead,
    loadAverageBefore,
  }
}

/** INBOX is pushed by IDLE on the push connection's selected mailbox; Archive by NOTIFY. */
const LAG_FOLDERS = ['INBOX', 'Archive']

/** Case d: the daemon follows the accounts; another client appends at a steady rate; lag to the catalog. */
async function lagCase(dovecot: TestDovecot, work: string, generator: CorpusGenerator): Promise<Record<string, unknown>> {
  const domain = 'lag.bench'
  const accounts = Array.from({length: settings.lagAccounts}, (_, i) => `l${i}@${domain}`)
  await addUsers(dovecot, accounts, PASSWORD)
  for (const account of accounts) await loadAccount(dovecot, generator, account, 20)
  const cli = new CarbonioCli(path.join(work, 'lag'))
  await cli.configure(dovecot, domain, {ZxBackup_RealTimeScanner: 'TRUE'})
  const daemon = cli.start(['backup', 'daemon'])
  let stderr = ''
  daemon.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  try {
    // Ready once every account has been through a cycle: the first one captures its mail.
    const deadline = Date.now() + 120_000
    let detail: undefined | {accountsFollowed: number; revisions: number}
    for (;;) {
      const {view} = await cli.json(['backup', 'getServices'])
      detail = view.services.find((s: {name: string}) => s.name === 'backup-realtime')?.detail
      if (detail?.accountsFollowed === accounts.length && detail.revisions >= accounts.length * 20) break
      if (Date.now() > deadline) throw new Error(`the daemon did not follow ${accounts.length} accounts in 120 s: ${JSON.stringify(detail)}; ${stderr.slice(-500)}`)
      await new Promise(resolve => {
        setTimeout(resolve, 500)
      })
    }

    const loadAverageBefore = loadAverage()
    const lag = await measureLag({
      dovecot, accounts, password: PASSWORD, catalogFile: cli.catalogFile, changes: settings.lagChanges, perSecond: settings.lagRate, folders: LAG_FOLDERS,
    })
    // Pushes the daemon missed meanwhile (each then waited for the safety-net poll).
    const {view} = await cli.json(['backup', 'getServices'])
    const after = view.services.find((s: {name: string}) => s.name === 'backup-realtime')?.detail
    const perFolder = LAG_FOLDERS.map(folder => `${folder} p99 ${lag.byFolder[folder].p99Ms} ms`).join(', ')
    log(`d. lag with ${accounts.length} accounts: p50 ${lag.p50Ms} ms, p99 ${lag.p99Ms} ms (${perFolder}), max ${lag.maxMs} ms, ${lag.missing} missing, `
      + `${after?.push?.missed ?? '?'} pushes missed`)
    return {
      accounts: accounts.length,
      ...lag,
      changeKind: `APPEND by a separate IMAP client, to ${LAG_FOLDERS.join(' and ')} in turn`,
      realtime: detail,
      realtimeAfter: after,
      loadAverageBefore,
      loadAverageAfter: loadAverage(),
    }
  } finally {
    daemon.kill('SIGTERM')
    await new Promise(resolve => {
      daemon.once('exit', resolve)
      setTimeout(() => {
        daemon.kill('SIGKILL')
      }, 20_000).unref()
    })
  }
}

/** Case e: a large account restored into an empty one, against mbsync pushing its own copy into another. */
async function restoreCase(dovecot: TestDovecot, work: string, generator: CorpusGenerator): Promise<Record<string, unknown>> {
  const domain = 'restore.bench'
  const [source, destination, peerDestination] = ['big', 'dest', 'mbsync-dest'].map(name => `${name}@${domain}`)
  await addUsers(dovecot, [source, destination, peerDestination], PASSWORD)
  const loaded = await loadAccount(dovecot, generator, source, settings.restoreMessages)
  const cli = new CarbonioCli(path.join(work, 'restore'))
  await cli.configure(dovecot, domain)
  const mbsync = new Mbsync(dovecot, path.join(work, 'mbsync-restore'))
  const pull = mbsync.channel(source, 'pull')
  const push = mbsync.channel(peerDestination, 'push', source)
  const loadAverageBefore = loadAverage()
  const mbsyncPull = await mbsync.run([pull], 1)
  const scan = await cli.json(['backup', 'doAccountScan', source])
  const scanSeconds = operationSeconds(scan.view)
  log(`e. one account of ${loaded.messages}: doAccountScan ${round(scanSeconds)} s, mbsync pull ${round(mbsyncPull)} s`)
  const mbsyncPush = await mbsync.run([push], 1)
  const restore = await cli.json(['backup', 'doRestoreOnNewAccount', source, destination, 'last'])
  const restoreSeconds = operationSeconds(restore.view)
  const [restoredThere, pushedThere] = [await messagesIn(dovecot, destination), await messagesIn(dovecot, peerDestination)]
  log(`e. restore of ${loaded.messages}: doRestoreOnNewAccount ${round(restoreSeconds)} s, mbsync push ${round(mbsyncPush)} s`)
  return {
    messages: loaded.messages,
    MiB: round(loaded.bytes / MiB, 1),
    loadAverageBefore,
    singleAccountCapture: {
      carbonio: rate(loaded.messages, loaded.bytes, scanSeconds),
      mbsync: rate(loaded.messages, loaded.bytes, mbsyncPull),
      ratioToMbsync: round(mbsyncPull / scanSeconds),
    },
    restore: {
      carbonio: {
        ...rate(loaded.messages, loaded.bytes, restoreSeconds), processSeconds: round(restore.seconds), restored: restore.view.result.restored, onServer: restoredThere,
      },
      mbsync: {...rate(loaded.messages, loaded.bytes, mbsyncPush), onServer: pushedThere},
      ratioToMbsync: round(mbsyncPush / restoreSeconds),
    },
    loadAverageAfter: loadAverage(),
  }
}

const machine = describeMachine()
const dovecot = await startTestDovecot()
const work = path.join(dovecot.dir, 'bench')
mkdirSync(work)
const results: Record<string, unknown> = {}
try {
  const generator = new CorpusGenerator(7)
  if (settings.cases.has('a') || settings.cases.has('b')) Object.assign(results, await captureCases(dovecot, work, generator))
  if (settings.cases.has('c')) results.noChangeSweep = await sweepCase(dovecot, work, generator)
  if (settings.cases.has('d')) results.captureLag = await lagCase(dovecot, work, generator)
  if (settings.cases.has('e')) results.restore = await restoreCase(dovecot, work, generator)
  if (settings.cases.has('f')) {
    results.largeMessages = await largeMessageCase(dovecot, work, {
      accounts: Number(values['large-accounts']), megabytes: Number(values['large-megabytes']), concurrency: settings.concurrency, password: PASSWORD,
    })
    log(`f. large messages: ${JSON.stringify(results.largeMessages)}`)
  }
} finally {
  rmSync(work, {recursive: true, force: true})
  await dovecot.stop()
}

mkdirSync(path.join(ROOT, 'bench', 'results'), {recursive: true})
const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-')
const file = path.join(ROOT, 'bench', 'results', `imap-capture-${stamp}.json`)
const {cases, ...corpus} = settings
writeFileSync(file, JSON.stringify({
  benchmark: 'imap-capture', machine, settings: {...corpus, cases: [...cases]}, results,
}, null, 2) + '\n')
console.log(JSON.stringify({file: path.relative(ROOT, file), machine, results}, null, 2))
