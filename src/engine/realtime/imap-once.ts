import type {ImapSettings} from '../appserver/imap/imap-settings.js'
import type {Catalog} from '../catalog/catalog.js'
import type {ProgressSink} from '../progress.js'

import {runAccountsCommand} from '../appserver/imap/accounts-command.js'
import {ImapError} from '../appserver/imap/imap-errors.js'
import {OperationAborted, throwIfAborted} from '../errors.js'
import {scanAccount, writeQueue} from '../smartscan/account-scan.js'

export interface ImapOnceTotals {
  connector: 'imap'
  /** Accounts the accounts command lists. */
  accounts: number
  synchronised: number
  failed: Array<{account: string; error: string}>
  foldersRead: number
  revisions: number
}

export interface ImapOnceOptions {
  catalog: Catalog
  server: string
  settings: ImapSettings
  signal: AbortSignal
  progress?: ProgressSink
  /** Accounts synchronised at once (one IMAP connection each). */
  concurrency?: number
}

/**
 * `backup daemon once true` on an IMAP AppServer: the realtime capture's sync cycle once over every account the
 * accounts command lists (LIST-STATUS, then only the folders that changed), then exit: what the daemon would have
 * captured by now. Unlike a SmartScan it is no operation and does not record accounts gone from the directory. A
 * failure of one account is a warning and the others go on; a failure of the server stops at once, in one line.
 */
export async function imapCatchUpOnce(options: ImapOnceOptions): Promise<ImapOnceTotals> {
  const {catalog, server, settings, signal, progress} = options
  const accounts = await runAccountsCommand(settings.accountsCommand, signal)
  const totals: ImapOnceTotals = {
    connector: 'imap', accounts: accounts.length, synchronised: 0, failed: [], foldersRead: 0, revisions: 0,
  }
  const stopAll = new AbortController()
  const onStop = () => stopAll.abort()
  signal.addEventListener('abort', onStop, {once: true})
  const serialize = writeQueue()
  let serverFailure: ImapError | undefined
  let next = 0
  const worker = async () => {
    while (next < accounts.length && !stopAll.signal.aborted) {
      const account = accounts[next++]
      try {
        const result = await scanAccount({
          catalog, server, settings, account, signal: stopAll.signal, serialize,
        })
        totals.synchronised++
        totals.foldersRead += result.foldersRead
        totals.revisions += result.revisions
        for (const warning of result.warnings) progress?.({kind: 'warning', account, message: warning})
      } catch (error) {
        if (error instanceof OperationAborted || stopAll.signal.aborted) continue
        if (error instanceof ImapError && error.scope === 'server') {
          serverFailure ??= error
          stopAll.abort()
          continue
        }

        totals.failed.push({account, error: (error as Error).message})
        progress?.({kind: 'warning', account, message: (error as Error).message})
      }

      progress?.({kind: 'step', message: `${totals.synchronised + totals.failed.length} of ${accounts.length} accounts synchronised, ${totals.revisions} revisions`})
    }
  }

  try {
    await Promise.all(Array.from({length: Math.min(options.concurrency ?? 4, accounts.length)}, worker))
  } finally {
    signal.removeEventListener('abort', onStop)
  }

  if (serverFailure) throw serverFailure
  throwIfAborted(signal)
  return totals
}
