// Profiling aid for the IMAP capture (not part of `npm run bench`): one test Dovecot with a capture corpus and a
// sweep corpus, then repeated runs of mbsync and `backup doSmartScan start` side by side, each capture into a fresh
// backup home, so that a ratio is measured under the same load. --node-args goes to the plugin's process, e.g.
// "--cpu-prof --cpu-prof-dir=/tmp/prof"; --hold keeps the server up (its settings printed) for runs by hand. The
// incremental case captures the corpus once (plugin and mbsync), then in each run changes 1% of it and times both
// tools catching up, as case b of bench/imap-capture.ts does once.
//
//   npx tsx bench/imap-profile.ts [--accounts 4] [--messages 1000] [--sweep-accounts 100] [--runs 2]
//     [--cases capture,sweep,incremental] [--node-args="..."] [--hold]
import {mkdirSync, rmSync} from 'node:fs'
import path from 'node:path'
import {parseArgs} from 'node:util'

import {startTestDovecot} from '../test/setup/dovecot-server.js'
import {CarbonioCli} from './imap/carbonio-cli.js'
import {addUsers, CorpusGenerator, loadAccount} from './imap/corpus.js'
import {changeOnePercent} from './imap/mailbox-changes.js'
import {Mbsync} from './imap/peers.js'
import {loadAverage} from './machine.js'

const {values} = parseArgs({
  options: {
    accounts: {type: 'string', default: '4'},
    messages: {type: 'string', default: '1000'},
    'sweep-accounts': {type: 'string', default: '100'},
    runs: {type: 'string', default: '2'},
    cases: {type: 'string', default: 'capture,sweep'},
    'node-args': {type: 'string', default: ''},
    hold: {type: 'boolean', default: false},
  },
})
const cases = new Set(values.cases.split(','))
const runs = Number(values.runs)
const nodeArgs = values['node-args'].split(' ').filter(Boolean)
const log = (line: string) => process.stderr.write(`imap-profile: ${line}\n`)
const PASSWORD = 'bench-pw'

const dovecot = await startTestDovecot()
const work = path.join(dovecot.dir, 'profile')
mkdirSync(work)
try {
  const generator = new CorpusGenerator(7)
  const domain = 'corpus.bench'
  const accounts = Array.from({length: Number(values.accounts)}, (_, i) => `user${i}@${domain}`)
  const sweepDomain = 'sweep.bench'
  const sweepAccounts = Array.from({length: Number(values['sweep-accounts'])}, (_, i) => `s${i}@${sweepDomain}`)
  if (cases.has('capture') || cases.has('incremental')) {
    await addUsers(dovecot, accounts, PASSWORD)
    for (const account of accounts) await loadAccount(dovecot, generator, account, Number(values.messages))
  }

  if (cases.has('sweep')) {
    await addUsers(dovecot, sweepAccounts, PASSWORD)
    for (const account of sweepAccounts) await loadAccount(dovecot, generator, account, 5)
  }

  const sweep = new CarbonioCli(path.join(work, 'sweep'))
  if (cases.has('sweep')) {
    await sweep.configure(dovecot, sweepDomain)
    await sweep.profiled(['backup', 'doSmartScan', 'start'], nodeArgs)
  }

  const incremental = new CarbonioCli(path.join(work, 'incremental'))
  const incrementalPeer = new Mbsync(dovecot, path.join(work, 'mbsync-incremental'))
  const incrementalChannels = accounts.map(account => incrementalPeer.channel(account, 'pull'))
  if (cases.has('incremental')) {
    await incremental.configure(dovecot, domain)
    await incremental.profiled(['backup', 'doSmartScan', 'start'])
    await incrementalPeer.run(incrementalChannels, 4)
  }

  for (let run = 1; run <= runs; run++) {
    if (cases.has('incremental')) {
      for (const account of accounts) await changeOnePercent(dovecot, generator, {account, password: PASSWORD, messages: Number(values.messages)})
      const load = loadAverage()
      const peer = await incrementalPeer.run(incrementalChannels, 4)
      const ours = await incremental.profiled(['backup', 'doSmartScan', 'start'], nodeArgs)
      log(`incremental run ${run}: carbonio ${ours.seconds.toFixed(2)} s, mbsync ${peer.toFixed(2)} s, ratio ${(peer / ours.seconds).toFixed(2)}, ${ours.cpu} (load ${load})`)
    }

    if (cases.has('capture')) {
      const mbsyncDir = path.join(work, `mbsync-${run}`)
      const mbsync = new Mbsync(dovecot, mbsyncDir)
      const channels = accounts.map(account => mbsync.channel(account, 'pull'))
      const load = loadAverage()
      const peer = await mbsync.run(channels, 4)
      rmSync(mbsyncDir, {recursive: true, force: true})
      const cli = new CarbonioCli(path.join(work, `capture-${run}`))
      await cli.configure(dovecot, domain)
      const ours = await cli.profiled(['backup', 'doSmartScan', 'start'], nodeArgs)
      rmSync(cli.home, {recursive: true, force: true})
      log(`capture run ${run}: carbonio ${ours.seconds.toFixed(2)} s, mbsync ${peer.toFixed(2)} s, ratio ${(peer / ours.seconds).toFixed(2)}, ${ours.cpu} (load ${load})`)
    }

    if (cases.has('sweep')) {
      const load = loadAverage()
      const ours = await sweep.profiled(['backup', 'doSmartScan', 'start'], nodeArgs)
      log(`sweep run ${run}: ${sweepAccounts.length} accounts in ${ours.seconds.toFixed(2)} s, ${ours.cpu} (load ${load})`)
    }
  }

  if (values.hold) {
    log(`holding: CARBONIO_BACKUP_HOME=${sweep.env.CARBONIO_BACKUP_HOME} CARBONIO_BACKUP_SERVER=bench (sweep); Ctrl-C to stop`)
    // Signal listeners alone do not keep Node running: the timer does, until a signal comes.
    const alive = setInterval(() => {}, 60_000)
    await new Promise(resolve => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    clearInterval(alive)
  }
} finally {
  await dovecot.stop()
}
