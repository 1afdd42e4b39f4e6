// Helpers of the restore tests: a source mailbox loaded like the SmartScan tests', what a separate client sees in a
// mailbox (folders, and per message its folder, BODY[] digest, flags and internal date), and the restore engine run
// with a test operation context.
import type {ImapFlow} from 'imapflow'

import {createHash} from 'node:crypto'

import type {ProgressEvent} from '../../../src/engine/progress.js'
import type {ImapTestBed} from '../../helpers/imap-cli-bed.js'

import {restoreOnNewAccount, type RestoreReport} from '../../../src/engine/restore/restore-on-new-account.js'
import {type Scenario, SERVER} from '../smartscan/imap-scenario.js'

export {JAN, loadAlice} from '../smartscan/imap-scenario.js'

export const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

export interface Snapshot {
  folders: string[]
  messages: string[]
}

/** What another client sees in a mailbox: its folders and every message as "path digest flags internal-date". */
export async function snapshot(client: ImapFlow): Promise<Snapshot> {
  const folders = (await client.list()).filter(f => !f.flags.has(String.raw`\Noselect`) && !f.flags.has(String.raw`\NonExistent`)).map(f => f.path).sort()
  const messages: string[] = []
  for (const folder of folders) {
    const lock = await client.getMailboxLock(folder, {readOnly: true})
    try {
      if ((client.mailbox as {exists: number}).exists === 0) continue
      for await (const m of client.fetch('1:*', {
        uid: true, source: true, flags: true, internalDate: true,
      }, {uid: true})) {
        const flags = [...(m.flags ?? [])].filter(f => f !== String.raw`\Recent`).sort().join(',')
        messages.push(`${folder} ${sha(m.source!)} [${flags}] ${new Date(m.internalDate!).toISOString()}`)
      }
    } finally {
      lock.release()
    }
  }

  return {folders, messages: messages.sort()}
}

/**
 * Every message of a mailbox as snapshot() lists them, read on a fresh connection (closed afterwards): a session that
 * still has a mailbox selected may not have been told of messages appended since.
 */
export async function messagesNow(bed: Pick<ImapTestBed, 'client' | 'closeClients'>, address: string): Promise<string[]> {
  try {
    return (await snapshot(await bed.client(address))).messages
  } finally {
    await bed.closeClients()
  }
}

export function restore(s: Scenario, events: ProgressEvent[], request: Parameters<typeof restoreOnNewAccount>[1]): Promise<RestoreReport> {
  return restoreOnNewAccount({
    catalog: s.t.catalog,
    uuid: 'test',
    server: SERVER,
    signal: new AbortController().signal,
    progress: event => events.push(event),
  }, request)
}

