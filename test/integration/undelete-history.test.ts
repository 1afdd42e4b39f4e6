import assert from 'node:assert/strict'

import {undelete} from '../../src/engine/restore/undelete.js'
import {sleep} from '../../src/engine/sleep.js'
import {
  type ImapCliBed, imapCliBed, scanInProcess, testOperation,
} from '../helpers/imap-cli-bed.js'
import {keyOf, type LiveMessage, serverState} from '../helpers/mailbox-state.js'
import {
  changeInRounds, distinctIdentity, distinctMessageRounds, folderNow, type RoundMoment,
} from '../helpers/random-changes.js'
import {randomMail} from '../helpers/random-mail.js'

// Another list (UNDELETE_HISTORY_SEEDS=1,2,3) tries other histories; seed 14 deletes a message from the Trash.
const SEEDS = (process.env.UNDELETE_HISTORY_SEEDS ?? '14').split(',').map(Number)
const ROUNDS = 7
const WINDOWS = 3

/**
 * doUndelete against what the server held: a client appends, moves, flags, expunges, empties and renames at random,
 * with a SmartScan after each round; then undeletes of random windows, one after another, must each leave the account
 * with what it had plus every message deleted in the window that it no longer has, in the folder it was deleted from
 * (the one before the Trash for a message deleted there; a renamed folder under its new name), and a second run
 * of the same window must add nothing.
 */
describe('doUndelete of random windows against the states the server held', function () {
  this.timeout(300_000)
  let bed: ImapCliBed

  before(async () => {
    bed = await imapCliBed()
  })

  after(async () => {
    await bed.cleanup()
  })

  for (const seed of SEEDS) {
    it(`seed ${seed}: each undelete brings back exactly what the window deleted`, async () => {
      const address = await bed.user(`undelete${seed}`)
      const client = await bed.client(address)
      const boxes = ['INBOX', 'Archive', 'Trash', 'Work']
      const moments = await changeInRounds(client, distinctMessageRounds({
        seed, rounds: ROUNDS, boxes, capture: () => scanInProcess(bed, address),
      }))
      const {int} = randomMail(seed + 1000, 'example.test')
      const context = testOperation(bed, 'undelete-history')
      for (let run = 0; run < WINDOWS; run++) {
        // From moment `from` (-1: first) to moment `to`: the deletions the scans of rounds from+1 to `to` recorded.
        const from = int(-1, ROUNDS - 2)
        const to = int(from + 1, ROUNDS - 1)
        const expected = expectedAfter(await serverState(client), moments, {from, to}, boxes)
        const window = {from: from < 0 ? null : moments[from].at, to: moments[to].at}
        const what = `window ${from}..${to} (run ${run}, seed ${seed})`
        await undelete(context, {account: address, window})
        assert.deepEqual((await serverState(client)).map(m => keyOf(m)), expected, `the account after the undelete of ${what}`)
        const again = await undelete(context, {account: address, window})
        assert.equal(again.restored, 0, `the same undelete again, ${what}`)
        await scanInProcess(bed, address)
        await sleep(1100)
      }

      await bed.closeClients()
    })
  }
})

/** What the account should hold after undeleting the window: see the describe block. */
function expectedAfter(now: LiveMessage[], moments: RoundMoment[], window: {from: number; to: number}, boxes: readonly string[]): string[] {
  const expected = [...now]
  const present = new Set(now.map(m => `${m.folder} ${distinctIdentity(m)}`))
  for (let round = Math.max(window.from + 1, 1); round <= window.to; round++) {
    const after = new Set(moments[round].state.map(m => distinctIdentity(m)))
    for (const m of moments[round - 1].state) {
      if (after.has(distinctIdentity(m))) continue
      let origin = m.folder
      for (let earlier = round - 2; origin === '/Trash' && earlier >= 0; earlier--) {
        const there = moments[earlier].state.find(other => distinctIdentity(other) === distinctIdentity(m))
        if (!there) break
        if (there.folder !== '/Trash') origin = there.folder
      }

      const folder = folderNow(origin, boxes)
      if (present.has(`${folder} ${distinctIdentity(m)}`)) continue
      present.add(`${folder} ${distinctIdentity(m)}`)
      expected.push({...m, folder})
    }
  }

  return expected.map(m => keyOf(m)).sort()
}
