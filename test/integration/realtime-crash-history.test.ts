import type {ImapFlow} from 'imapflow'
import type {ChildProcess} from 'node:child_process'

import assert from 'node:assert/strict'

import {sleep} from '../../src/engine/sleep.js'
import {backupStateAt, untilBackupHolds} from '../helpers/backup-state.js'
import {type ImapCliBed, imapCliBed} from '../helpers/imap-cli-bed.js'
import {keyOf, serverState} from '../helpers/mailbox-state.js'
import {changeInRounds, distinctIdentity, distinctMessageRounds} from '../helpers/random-changes.js'
import {randomMail} from '../helpers/random-mail.js'
import {outputOf, startCli, waitFor} from '../helpers/run-cli.js'

// Another list (REALTIME_CRASH_SEEDS=2,3,4) tries other histories and other moments to kill at.
const SEEDS = (process.env.REALTIME_CRASH_SEEDS ?? '1').split(',').map(Number)
const ROUNDS = 8
/** Each round's capture may be interrupted this many times, each time with this chance. */
const INTERRUPTIONS = 3
const INTERRUPTION_ODDS = 0.7

/**
 * The daemon's realtime capture (NOTIFY) interrupted at random moments, as a host crash or an upgrade would: a client
 * makes rounds of random changes (appends up to 6 MB, so that large messages are streamed; moves, expunges, flags,
 * emptied folders, renames); while the daemon captures them it is killed with -9 or the IMAP server is restarted
 * under it, up to three times a round, and sometimes left down while the next round's changes are made. Once each
 * round is captured, the history must hold at that round's moment exactly what the server held, keep one item per
 * message (a MOVE cut in two by a kill is still a move), and give each item one open revision: nothing lost, nothing
 * applied twice.
 */
describe('realtime capture killed and its server restarted at random moments, against the states the server held', function () {
  this.timeout(600_000)
  let bed: ImapCliBed
  let daemon: ChildProcess | undefined

  before(async () => {
    bed = await imapCliBed()
  })

  after(async () => {
    daemon?.kill('SIGKILL')
    await bed.cleanup()
  })

  for (const seed of SEEDS) {
    it(`seed ${seed}: every round's state, one item per message`, async () => {
      const address = await bed.user(`rtcrash${seed}`)
      const {client, reconnect} = reconnectingClient(await bed.client(address), () => bed.client(address))
      const {int, random} = randomMail(seed + 500, 'example.test')
      const events: string[] = []
      const start = () => {
        daemon = startCli(['backup', 'daemon'], bed.t.env)
      }

      const kill = async () => {
        const child = daemon!
        daemon = undefined
        child.kill('SIGKILL')
        await waitFor(child).catch(() => {})
      }

      /** Until the backup's current state is the server's: the capture has taken in the round. */
      const captured = async (round: number) => untilBackupHolds(
        bed.t.catalog,
        address,
        {messages: (await serverState(client)).map(m => keyOf(m))},
        {withinMs: 60_000, why: () => `round ${round} not captured; ${events.join('; ')}\n${outputOf(daemon!).stderr.slice(-3000)}`},
      )

      const rounds = distinctMessageRounds({
        seed, rounds: ROUNDS, boxes: ['INBOX', 'Archive', 'Trash', 'Work'], async capture() {},
      })
      let appended = 0
      let round = 0
      start()
      const moments = await changeInRounds(client, {
        ...rounds,
        changes: [15, 30],
        newMessage: ({int: size, mail}) => mail(`rt${seed}-${appended++}`, size(0, 7) === 0 ? size(4_200_000, 6_000_000) : size(300, 400_000)),
        async capture() {
          round++
          if (!daemon) {
            start()
            events.push(`round ${round}: started after the changes`)
          }

          for (let interruption = 0; interruption < INTERRUPTIONS; interruption++) {
            const what = random()
            if (what >= INTERRUPTION_ODDS) continue
            // A moment of the capture: the daemon's start takes most of a second, its cycles a few hundred ms.
            const delay = int(0, 900)
            const waitingSince = Date.now()
            while (!outputOf(daemon!).stderr.includes('following the accounts') && Date.now() - waitingSince < 10_000) await sleep(5)
            await sleep(delay)
            if (what < 0.3 * INTERRUPTION_ODDS) {
              await bed.dovecot.restart()
              await reconnect()
              events.push(`round ${round}: server restarted ${delay} ms after the daemon followed`)
            } else {
              await kill()
              events.push(`round ${round}: killed ${delay} ms after it followed`)
              start()
            }
          }

          await captured(round)
          if (random() < 0.3) {
            await kill()
            events.push(`round ${round}: killed, down during the next changes`)
          }
        },
      })
      if (daemon) {
        daemon.kill('SIGTERM')
        assert.equal((await waitFor(daemon)).code, 0)
        daemon = undefined
      }

      const story = events.join('; ')
      for (const [index, {at, state}] of moments.entries()) {
        const held = await backupStateAt(bed.t.catalog, address, at)
        assert.deepEqual(held?.messages, state.map(m => keyOf(m)), `round ${index} (${new Date(at).toISOString()}, seed ${seed}); ${story}`)
      }

      const {db} = bed.t.catalog
      const account = await db('accounts').where({name: address}).first('id')
      const revisions: Array<{blob_digest: string; id: number; metadata: string; valid_to: null | number}> = await db('items as i')
      .join('item_revisions as r', 'r.item_id', 'i.id')
      .where('i.account_id', account.id)
      .select('i.id', 'r.blob_digest', 'r.metadata', 'r.valid_to')
      const itemsOf = new Map<string, Set<number>>()
      const open = new Map<number, number>()
      for (const r of revisions) {
        const identity = distinctIdentity({digest: r.blob_digest, internalDate: JSON.parse(r.metadata).internalDate})
        itemsOf.set(identity, (itemsOf.get(identity) ?? new Set()).add(r.id))
        if (r.valid_to === null) open.set(r.id, (open.get(r.id) ?? 0) + 1)
      }

      const split = [...itemsOf].filter(([, ids]) => ids.size > 1).map(([identity, ids]) => `${identity}: items ${[...ids].join(', ')}`)
      assert.deepEqual(split, [], `messages recorded as several items; ${story}`)
      assert.deepEqual([...open].filter(([, count]) => count !== 1), [], `items without exactly one open revision; ${story}`)
      await bed.closeClients()
    })
  }
})

/**
 * A client whose connection can be replaced (the server restarted under it) while the code using it holds the same
 * object: changeInRounds keeps the one it was given.
 */
function reconnectingClient(first: ImapFlow, connect: () => Promise<ImapFlow>): {client: ImapFlow; reconnect: () => Promise<void>} {
  let current = first
  const client = new Proxy(first, {
    get(_, property) {
      const value = Reflect.get(current, property, current)
      return typeof value === 'function' ? value.bind(current) : value
    },
  })
  return {
    client,
    async reconnect() {
      current = await connect()
    },
  }
}
