import type {OperationView} from '../../cli/operation-view.js'

import {humanBytes} from '../../cli/history-view.js'
import {OperationCommand} from '../../cli/operation-command.js'
import {retentionDaysParam, textParam} from '../../cli/params.js'
import {openOtherBackupPath} from '../../engine/purge/backup-path.js'
import {purge} from '../../engine/purge/purge.js'

export default class DoPurge extends OperationCommand {
  static override summary = 'Remove from the backup what fell out of retention, keeping blobs still referenced.'
  static override description
    = 'Items deleted longer ago than ZxBackup_DataRetentionDays (or purgeDays for this run) and accounts deleted '
      + 'longer ago than backupAccountsRetentionDays are removed, except accounts under legal hold (backup legalHold). '
      + 'A blob goes only when no remaining revision references it. A retention of 0 means infinite: the purge ends at '
      + 'once. backup_path purges another backup path (a directory holding catalog.sqlite and items/), with this '
      + "server's retention. Prints the operation UUID first; exit codes: 0 Successful, 1 Failed, 2 Stopped, "
      + '3 Removed, 4 Interrupted.'
  static override examples = [
    '<%= config.bin %> backup doPurge',
    '<%= config.bin %> backup doPurge purgeDays 30',
    '<%= config.bin %> backup doPurge backup_path /mnt/old-backup',
  ]
  static override flags = {
    purgeDays: retentionDaysParam({description: 'retention in days for this run, overriding ZxBackup_DataRetentionDays (0 = infinite, at most 36500)'}),

    backup_path: textParam({description: 'purge this backup path instead of the current one'}),
  }

  async run(): Promise<OperationView> {
    const {flags} = await this.parse(DoPurge)
    const parameters: Record<string, unknown> = {purgeDays: flags.purgeDays ?? null}
    // Checked before the operation exists: a wrong path is refused without leaving an operation behind.
    const target = flags.backup_path === undefined ? undefined : await openOtherBackupPath(flags.backup_path, await this.catalog())
    if (flags.backup_path !== undefined) parameters.backupPath = target?.home ?? (await this.catalog()).home
    try {
      const view = await this.runAsOperation('doPurge', parameters, context =>
        purge(context, {purgeDays: flags.purgeDays, target}))
      if (view.result) {
        const r = view.result
        this.log(r.skipped
          ? String(r.skipped)
          : `purged ${r.items} items, ${r.revisions} revisions, ${r.accounts} accounts, ${r.blobs} blobs, ${r.bytesFreed} bytes (${humanBytes(Number(r.bytesFreed))}) freed`)
        if (Number(r.itemsHeld) > 0 || Number(r.accountsHeld) > 0) {
          this.log(`kept under legal hold: ${r.itemsHeld} deleted items, ${r.accountsHeld} deleted accounts`)
        }

        if (Number(r.blobsDeferred) > 0) this.log(`${r.blobsDeferred} blobs referenced too recently are left for the next purge`)
      }

      return view
    } finally {
      await target?.close()
    }
  }
}
