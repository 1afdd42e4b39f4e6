// Profiling aid for doRestoreOnNewAccount (not part of `npm run bench`; case e of bench/imap-capture.ts is the
// benchmark): one test Dovecot, one large account captured once, then repeated runs of mbsync pushing its Maildir
// copy and of the restore, each into a fresh empty account, so that a ratio is measured under the same load without
// rebuilding the corpus. --node-args goes to the plugin's process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof";
// --hold keeps the server up with that many more empty accounts (hold0@..., its settings printed) for runs by hand.
//
//   npx tsx bench/restore-profile.ts [--messages 10000] [--runs 2] [--node-args="..."] [--hold 10]
import {mkdirSync} from 'node:fs'
import path from 'node:path'
import {parseArgs} from 'node:util'

import {startTestDovecot} from '../test/setup/dovecot-server.js'
import {CarbonioCli} from './imap/carbonio-cli.js'
import {addUsers, CorpusGenerator, loadAccount} from './imap/corpus.js'
import {Mbsync} from './imap/peers.js'
import {loadAverage} from './machine.js'

const {values} = parseArgs({
  options: {
    messages: {type: 'string', default: '10000'},
    runs: {type: 'string', default: '2'},
    'node-args': {type: 'string', default: ''},
    hold: {type: 'string', default: '0'},
  },
})
const runs = Number(values.runs)
const nodeArgs = values['node-args'].split(' ').filter(Boolean)
const log = (line: string) => process.stderr.write(`restore-profile: ${line}\n`)
const PASSWORD = 'bench-pw'

const dovecot = await startTestDovecot()
const work = path.join(dovecot.dir, 'restore-profile')
mkdirSync(work)
try {
  const domain = 'restore.bench'
  const source = `big@${domain}`
  const destinations = Array.from({length: runs}, (_, i) => [`dest${i}@${domain}`, `mbsync${i}@${domain}`] as const)
  const spare = Array.from({length: Number(values.hold)}, (_, i) => `hold${i}@${domain}`)
  await addUsers(dovecot, [source, ...destinations.flat(), ...spare], PASSWORD)
  await loadAccount(dovecot, new CorpusGenerator(7), source, Number(values.messages))
  const cli = new CarbonioCli(path.join(work, 'cli'))
  await cli.configure(dovecot, domain)
  const mbsync = new Mbsync(dovecot, path.join(work, 'mbsync'))
  const pull = mbsync.channel(source, 'pull')
  const pushes = destinations.map(([, peer]) => mbsync.channel(peer, 'push', source))
  await mbsync.run([pull], 1)
  await cli.profiled(['backup', 'doAccountScan', source], nodeArgs)
  for (let run = 0; run < runs; run++) {
    const load = loadAverage()
    const peer = await mbsync.run([pushes[run]], 1)
    const ours = await cli.profiled(['backup', 'doRestoreOnNewAccount', source, destinations[run][0], 'last'], nodeArgs)
    log(`run ${run + 1}: restore ${ours.seconds.toFixed(2)} s (${ours.view.result.restored} restored), mbsync push ${peer.toFixed(2)} s, ratio ${(peer / ours.seconds).toFixed(2)} (load ${load})`)
  }

  if (spare.length > 0) {
    log(`holding: CARBONIO_BACKUP_HOME=${cli.env.CARBONIO_BACKUP_HOME} CARBONIO_BACKUP_SERVER=bench, source ${source}`)
    log(`empty accounts hold0..${spare.length - 1}@${domain}; Ctrl-C to stop`)
    // A pending promise alone does not keep Node running: a timer does.
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
