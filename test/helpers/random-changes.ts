// A client changing a mailbox at random in rounds, with a capture after each round: the history tests compare what
// the backup gives back at each round's moment with what the server held then.
import type {ImapFlow} from 'imapflow'

import {sleep} from '../../src/engine/sleep.js'
import {inBox, type LiveMessage, serverState} from './mailbox-state.js'
import {randomMail} from './random-mail.js'

const FLAGGED = String.raw`\Flagged`
const SEEN = String.raw`\Seen`

export interface RoundMoment {
  /** A moment strictly after the round's capture committed and before the next round's changes. */
  at: number
  /** What the server held then. */
  state: LiveMessage[]
}

/**
 * Upper bounds of a random draw in [0, 1) for each change, in this order; above `empty` the fourth folder is renamed.
 * A bound equal to the one before it never happens.
 */
export interface ChangeOdds {
  append: number
  move: number
  copy: number
  expunge: number
  flag: number
  unflag: number
  empty: number
}

export interface RandomRounds {
  seed: number
  rounds: number
  /** How many changes a round makes, at least and at most. */
  changes: [number, number]
  odds: ChangeOdds
  /** INBOX and three folders to create; the fourth is renamed back and forth (Work, Projects), in place. */
  boxes: string[]
  /** The bytes of the next message a client appends, drawn from the same seeded sequence. */
  newMessage: (mail: ReturnType<typeof randomMail>) => Buffer
  /** The capture after each round. */
  capture: () => Promise<void>
}

/**
 * Appends (each with its own internal date, as a client uploading gets; a MOVE or COPY keeps it), moves, copies,
 * expunges, flags, empties folders and renames at random; the same seed makes the same changes.
 */
export async function changeInRounds(client: ImapFlow, options: RandomRounds): Promise<RoundMoment[]> {
  const mail = randomMail(options.seed, 'example.test')
  const {int, pick, random} = mail
  const {boxes, odds} = options
  for (const box of boxes.slice(1)) await client.mailboxCreate(box)
  const elsewhere = (box: string) => pick(boxes.filter(other => other !== box))
  const moments: RoundMoment[] = []
  for (let round = 0; round < options.rounds; round++) {
    for (let change = int(...options.changes); change > 0; change--) {
      const box = pick(boxes)
      const what = random()
      if (what < odds.append) {
        const bytes = options.newMessage(mail)
        const flags = random() < 0.3 ? [FLAGGED] : []
        await client.append(box, bytes, flags, new Date(Date.UTC(2026, 0, 1) + int(0, 1e9)))
      } else if (what < odds.unflag) {
        await inBox(client, box, async () => {
          const uids = await client.search({all: true}, {uid: true})
          if (!uids || uids.length === 0) return
          const uid = String(pick(uids))
          if (what < odds.move) await client.messageMove(uid, elsewhere(box), {uid: true})
          else if (what < odds.copy) await client.messageCopy(uid, elsewhere(box), {uid: true})
          else if (what < odds.expunge) await client.messageDelete(uid, {uid: true})
          else if (what < odds.flag) await client.messageFlagsAdd(uid, [SEEN], {uid: true})
          else await client.messageFlagsRemove(uid, [FLAGGED, SEEN], {uid: true})
        })
      } else if (what < odds.empty) {
        await inBox(client, box, async () => {
          if (typeof client.mailbox === 'object' && client.mailbox.exists > 0) await client.messageDelete('1:*')
        })
      } else {
        const renamed = boxes[3] === 'Work' ? 'Projects' : 'Work'
        await client.mailboxRename(boxes[3], renamed)
        boxes[3] = renamed
      }
    }

    await options.capture()
    const state = await serverState(client)
    await sleep(1100)
    moments.push({at: Date.now(), state})
    await sleep(1100)
  }

  return moments
}

/**
 * Where a message that was in `folder` is now: the fourth of `boxes` is renamed back and forth, and is the same folder
 * under either name.
 */
export function folderNow(folder: string, boxes: readonly string[]): string {
  return folder === '/Work' || folder === '/Projects' ? `/${boxes[3]}` : folder
}

/** A message of distinctMessageRounds: its bytes and internal date, which a MOVE keeps and no other message shares. */
export function distinctIdentity(message: {digest: null | string; internalDate: unknown}): string {
  return `${message.digest} ${String(message.internalDate)}`
}

/**
 * Rounds in which every message stays distinct by its bytes and internal date (each append its own text, no COPY):
 * states can then be compared message by message, as the restore tests of single messages need.
 */
export function distinctMessageRounds(options: Pick<RandomRounds, 'boxes' | 'capture' | 'rounds' | 'seed'>): RandomRounds {
  let appended = 0
  return {
    ...options,
    changes: [5, 10],
    odds: {
      append: 0.4, move: 0.55, copy: 0.55, expunge: 0.8, flag: 0.88, unflag: 0.95, empty: 0.97,
    },
    newMessage: ({int, mail}) => mail(`m${options.seed}-${appended++}`, int(300, 3000)),
  }
}

/**
 * Rounds of three messages appended again and again with the same bytes and Message-ID (each upload its own internal
 * date) and copied: the backup tells them apart only by place and internal date.
 */
export function identicalMessageRounds(options: Pick<RandomRounds, 'boxes' | 'capture' | 'rounds' | 'seed'>): RandomRounds {
  const bodies = [0, 1, 2].map(i => Buffer.from(`Message-ID: <same-${i}@example.test>\r\nFrom: a@example.test\r\nSubject: same ${i}\r\n\r\nbody ${i}\r\n`))
  return {
    ...options,
    changes: [4, 9],
    odds: {
      append: 0.35, move: 0.5, copy: 0.65, expunge: 0.8, flag: 0.9, unflag: 0.95, empty: 0.97,
    },
    newMessage: ({pick}) => pick(bodies),
  }
}
