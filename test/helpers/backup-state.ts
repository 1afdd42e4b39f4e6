// What the backup says an account held at a moment, in the form mailbox-state.ts gives the server's: the history tests
// compare the two.
import assert from 'node:assert/strict'
import {isDeepStrictEqual} from 'node:util'

import type {Catalog} from '../../src/engine/catalog/catalog.js'
import type {HistoryTime} from '../../src/engine/history/history-time.js'

import {stateAt} from '../../src/engine/history/state-at.js'
import {sleep} from '../../src/engine/sleep.js'
import {keyOf} from './mailbox-state.js'

/** The account's live messages at `at` as keyOf lines, sorted, and its live folders' paths; undefined while unknown. */
export async function backupStateAt(catalog: Catalog, address: string, at: HistoryTime): Promise<undefined | {folders: string[]; messages: string[]}> {
  // An account the capture has not recorded yet is not found.
  const state = await stateAt(catalog, address, at).catch(() => null)
  if (!state) return
  const messages: string[] = []
  for await (const item of state.items()) {
    messages.push(keyOf({
      folder: item.folderPath, flags: [...item.flags].sort(), digest: item.blobDigest!, internalDate: String(item.metadata.internalDate), messageId: null,
    }))
  }

  return {folders: state.folders.map(f => f.path).sort(), messages: messages.sort()}
}

/**
 * Waits until the backup's current state of the account is `wanted` (its folders too when `wanted` names them): a
 * capture running beside the test has taken in the changes. Past `withinMs` it fails, saying `why()`.
 */
export async function untilBackupHolds(
  catalog: Catalog,
  address: string,
  wanted: {folders?: string[]; messages: string[]},
  {why, withinMs}: {why: () => string; withinMs: number},
): Promise<void> {
  const deadline = Date.now() + withinMs
  for (;;) {
    const held = await backupStateAt(catalog, address, 'last')
    const compared = held && (wanted.folders ? held : {messages: held.messages})
    if (isDeepStrictEqual(compared, wanted)) return
    if (Date.now() > deadline) assert.deepEqual(compared, wanted, why())
    await sleep(100)
  }
}
