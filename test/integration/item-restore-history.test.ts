import assert from 'node:assert/strict'

import {type ItemAt, stateAt} from '../../src/engine/history/state-at.js'
import {restoreItem} from '../../src/engine/restore/item-restore.js'
import {
  type ImapCliBed, imapCliBed, scanInProcess, testOperation,
} from '../helpers/imap-cli-bed.js'
import {keyOf, type LiveMessage, serverState} from '../helpers/mailbox-state.js'
import {
  changeInRounds, distinctIdentity, distinctMessageRounds, folderNow,
} from '../helpers/random-changes.js'
import {randomMail} from '../helpers/random-mail.js'

// Another list (ITEM_RESTORE_HISTORY_SEEDS=2,3,4) tries other histories; seed 1 renames a folder after a message left it.
const SEEDS = (process.env.ITEM_RESTORE_HISTORY_SEEDS ?? '1').split(',').map(Number)
const RESTORES = 8

/**
 * doItemRestore against what the server held: after random changes with a SmartScan each round, random items are
 * restored as they were at random rounds' moments, one after another. Each must add exactly that message, with its
 * flags and internal date then, into its folder (under the folder's name now), unless that folder already has it.
 */
describe('doItemRestore of random items at random moments against the states the server held', function () {
  this.timeout(300_000)
  let bed: ImapCliBed

  before(async () => {
    bed = await imapCliBed()
  })

  after(async () => {
    await bed.cleanup()
  })

  for (const seed of SEEDS) {
    it(`seed ${seed}: each restore adds the message as it was then, once`, async () => {
      const address = await bed.user(`itemrestore${seed}`)
      const client = await bed.client(address)
      const boxes = ['INBOX', 'Archive', 'Trash', 'Work']
      const moments = await changeInRounds(client, distinctMessageRounds({
        seed, rounds: 6, boxes, capture: () => scanInProcess(bed, address),
      }))
      const {int, pick, random} = randomMail(seed + 99, 'example.test')
      const context = testOperation(bed, 'item-restore-history')
      let restored = 0
      for (let run = 0; run < RESTORES; run++) {
        const round = int(0, moments.length - 1)
        const items: ItemAt[] = []
        for await (const item of (await stateAt(bed.t.catalog, address, moments[round].at)).items()) items.push(item)
        if (items.length === 0) continue
        const before = await serverState(client)
        const {state} = moments[round]
        // Half the time one the account no longer has where it was, so that every seed restores something.
        const gone = items.filter(candidate => !stillThere(candidate, state, before, boxes))
        const item = gone.length > 0 && random() < 0.5 ? pick(gone) : pick(items)
        const then = messageOf(item, state)
        assert.ok(then, `item ${item.id} of round ${round} is a message the server had then`)
        const home = folderNow(then.folder, boxes)
        const expected: LiveMessage[] = before.some(m => m.folder === home && distinctIdentity(m) === distinctIdentity(then)) ? before : [...before, {...then, folder: home}]
        const report = await restoreItem(context, {account: address, item: item.id, point: {kind: 'at', at: moments[round].at}})
        if (report.restored) restored++
        assert.deepEqual(
          (await serverState(client)).map(m => keyOf(m)),
          expected.map(m => keyOf(m)).sort(),
          `the account after restoring ${item.id} as it was at round ${round} (run ${run}, seed ${seed})`,
        )
        await scanInProcess(bed, address)
      }

      assert.ok(restored > 0, 'some restore added a message')
      await bed.closeClients()
    })
  }
})

/** The message the server held that the item was at that moment. */
function messageOf(item: ItemAt, state: readonly LiveMessage[]): LiveMessage | undefined {
  return state.find(m => distinctIdentity(m) === distinctIdentity({digest: item.blobDigest, internalDate: item.metadata.internalDate}))
}

/** Whether the account still has that message in its folder (under the folder's name now). */
function stillThere(item: ItemAt, state: readonly LiveMessage[], now: readonly LiveMessage[], boxes: readonly string[]): boolean {
  const then = messageOf(item, state)
  return then !== undefined && now.some(m => m.folder === folderNow(then.folder, boxes) && distinctIdentity(m) === distinctIdentity(then))
}
