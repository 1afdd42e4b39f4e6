// What the backup says an account held at a moment, in the form mailbox-state.ts gives the server's: the history tests
// compare the two.
import type {Catalog} from '../../src/engine/catalog/catalog.js'
import type {HistoryTime} from '../../src/engine/history/history-time.js'

import {stateAt} from '../../src/engine/history/state-at.js'
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
