import type {ImapFlow} from 'imapflow'

import assert from 'node:assert/strict'

import type {OperationContext} from '../../src/engine/operations/run-operation.js'

import {undelete} from '../../src/engine/restore/undelete.js'
import {type ImapCliBed, imapCliBed, scanInProcess} from '../helpers/imap-cli-bed.js'
import {
  inBox, keyOf, type LiveMessage, serverState,
} from '../helpers/mailbox-state.js'
import {randomMail} from '../helpers/random-mail.js'

// Another list (UNDELETE_HISTORY_SEEDS=1,2,3) tries other histories; seed 14 deletes a message from the Trash.
const SEEDS = (process.env.UNDELETE_HISTORY_SEEDS ?? '14').split(',').map(Number)
const ROUNDS = 7
const WINDOWS = 3
const FLAGGED = String.raw`\Flagged`
const SEEN = String.raw`\Seen`
/** Every message of these histories has its own bytes and internal date: a MOVE keeps both. */
const identityOf = (m: LiveMessage) => `${m.digest} ${m.internalDate}`
const sleep = (ms: number) => new Promise(resolve => {
  setTimeout(resolve, ms)
})

interface Moment {
  at: number
  state: LiveMessage[]
}

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
      const moments = await changeInRounds(client, seed, boxes, () => scanInProcess(bed, address))
      const {int} = randomMail(seed + 1000, 'example.test')
      const context: OperationContext = {
        catalog: bed.t.catalog, uuid: 'undelete-history', server: 'mail1', signal: new AbortController().signal, progress() {},
      }
      for (let run = 0; run < WINDOWS; run++) {
        // From moment `from` (-1: first) to moment `to`: the deletions the scans of rounds from+1 to `to` recorded.
        const from = int(-1, ROUNDS - 2)
        const to = int(from + 1, ROUNDS - 1)
        const expected = expectedAfter(await serverState(client), moments, {from, to}, `/${boxes[3]}`)
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
function expectedAfter(now: LiveMessage[], moments: Moment[], window: {from: number; to: number}, renamed: string): string[] {
  const expected = [...now]
  const present = new Set(now.map(m => `${m.folder} ${identityOf(m)}`))
  for (let round = Math.max(window.from + 1, 1); round <= window.to; round++) {
    const after = new Set(moments[round].state.map(m => identityOf(m)))
    for (const m of moments[round - 1].state) {
      if (after.has(identityOf(m))) continue
      let origin = m.folder
      for (let earlier = round - 2; origin === '/Trash' && earlier >= 0; earlier--) {
        const there = moments[earlier].state.find(other => identityOf(other) === identityOf(m))
        if (!there) break
        if (there.folder !== '/Trash') origin = there.folder
      }

      const folder = origin === '/Work' || origin === '/Projects' ? renamed : origin
      if (present.has(`${folder} ${identityOf(m)}`)) continue
      present.add(`${folder} ${identityOf(m)}`)
      expected.push({...m, folder})
    }
  }

  return expected.map(m => keyOf(m)).sort()
}

/** ROUNDS rounds of random changes, `scan` after each; what the server held after each scan, and a moment then. */
async function changeInRounds(client: ImapFlow, seed: number, boxes: string[], scan: () => Promise<void>): Promise<Moment[]> {
  const {int, mail, pick, random} = randomMail(seed, 'example.test')
  for (const box of boxes.slice(1)) await client.mailboxCreate(box)
  let appended = 0
  const elsewhere = (box: string) => pick(boxes.filter(other => other !== box))
  const moments: Moment[] = []
  for (let round = 0; round < ROUNDS; round++) {
    for (let change = int(5, 10); change > 0; change--) {
      const box = pick(boxes)
      const what = random()
      if (what < 0.4) {
        const bytes = mail(`u${seed}-${appended++}`, int(300, 3000))
        await client.append(box, bytes, random() < 0.3 ? [FLAGGED] : [], new Date(Date.UTC(2026, 0, 1) + int(0, 1e9)))
      } else if (what < 0.95) {
        await inBox(client, box, async () => {
          const uids = await client.search({all: true}, {uid: true})
          if (!uids || uids.length === 0) return
          const uid = String(pick(uids))
          if (what < 0.55) await client.messageMove(uid, elsewhere(box), {uid: true})
          else if (what < 0.8) await client.messageDelete(uid, {uid: true})
          else if (what < 0.88) await client.messageFlagsAdd(uid, [SEEN], {uid: true})
          else await client.messageFlagsRemove(uid, [FLAGGED, SEEN], {uid: true})
        })
      } else if (what < 0.97) {
        await inBox(client, box, async () => {
          if (typeof client.mailbox === 'object' && client.mailbox.exists > 0) await client.messageDelete('1:*')
        })
      } else {
        const renamed = boxes[3] === 'Work' ? 'Projects' : 'Work'
        await client.mailboxRename(boxes[3], renamed)
        boxes[3] = renamed
      }
    }

    await scan()
    const state = await serverState(client)
    // A moment strictly after the scan's commits and before the next round's changes.
    await sleep(1100)
    moments.push({at: Date.now(), state})
    await sleep(1100)
  }

  return moments
}
