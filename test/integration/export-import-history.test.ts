import assert from 'node:assert/strict'
import {
  mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {
  GLOBAL, type ImapCliBed, imapCliBed, scanInProcess,
} from '../helpers/imap-cli-bed.js'
import {keyOf, serverState} from '../helpers/mailbox-state.js'
import {changeInRounds, identicalMessageRounds} from '../helpers/random-changes.js'
import {runCli} from '../helpers/run-cli.js'

// Another list (EXPORT_IMPORT_HISTORY_SEEDS=1,2,4) tries other histories.
const SEEDS = (process.env.EXPORT_IMPORT_HISTORY_SEEDS ?? '3').split(',').map(Number)

/**
 * doExport then doExternalRestore, as a migration does, against what the server held: after random changes to
 * identical messages (copies included) with a SmartScan each round, the account is exported as it was at each
 * round's moment and that export imported into a new account, which must then hold exactly what the server held
 * then: folders, flags, bytes and internal dates, every copy.
 */
describe('doExport at every moment, imported with doExternalRestore, against the states the server held', function () {
  this.timeout(300_000)
  let bed: ImapCliBed
  let exports: string

  before(async () => {
    bed = await imapCliBed()
    exports = mkdtempSync(path.join(tmpdir(), 'cb-export-import-'))
    // As a migration runs it, and so that the import does not warn.
    await setAttribute(bed.t.catalog, GLOBAL, 'ZxBackup_RealTimeScanner', 'FALSE')
  })

  after(async () => {
    await bed.cleanup()
    rmSync(exports, {force: true, recursive: true})
  })

  for (const seed of SEEDS) {
    it(`seed ${seed}: each import holds what the server held at the export's moment`, async () => {
      const address = await bed.user(`export${seed}`)
      const rounds = await changeInRounds(await bed.client(address), identicalMessageRounds({
        seed, rounds: 6, boxes: ['INBOX', 'Archive', 'Trash', 'Work'], capture: () => scanInProcess(bed, address),
      }))
      await bed.closeClients()
      for (const [round, {at, state}] of rounds.entries()) {
        const when = new Date(at).toISOString()
        const target = path.join(exports, `${seed}-${round}`)
        const exported = await runCli(['backup', 'doExport', target, 'accounts', address, 'date', when], bed.t.env)
        assert.equal(exported.code, 0, exported.stdout + exported.stderr)
        // The export names the account it imports into: the same mail, into a new account.
        const destination = await bed.user(`export${seed}r${round}`)
        const accountDir = path.join(target, address)
        const manifest = JSON.parse(readFileSync(path.join(accountDir, 'manifest.json'), 'utf8'))
        writeFileSync(path.join(accountDir, 'manifest.json'), JSON.stringify({...manifest, account: destination}))
        const imported = await runCli(['backup', 'doExternalRestore', accountDir], bed.t.env)
        assert.equal(imported.code, 0, imported.stdout + imported.stderr)
        const holds = (await serverState(await bed.client(destination))).map(message => keyOf(message))
        await bed.closeClients()
        assert.deepEqual(holds, state.map(message => keyOf(message)), `the import of the export at round ${round} (${when}, seed ${seed})`)
      }
    })
  }
})
