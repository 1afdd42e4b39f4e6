import type {OperationView} from '../../cli/operation-view.js'

import {OperationCommand} from '../../cli/operation-command.js'
import {integerParam} from '../../cli/params.js'
import {purge} from '../../engine/purge/purge.js'

export default class DoPurge extends OperationCommand {
  static override summary = 'Remove from the backup what fell out of retention, keeping blobs still referenced.'
  static override description
    = 'Items deleted longer ago than ZxBackup_DataRetentionDays (or purgeDays for this run) and accounts deleted '
      + 'longer ago than backupAccountsRetentionDays are removed, except accounts under legal hold. A retention of 0 '
      + 'means infinite: the purge ends at once. Prints the operation UUID first; exit codes: 0 Successful, '
      + '1 Failed, 2 Stopped, 3 Removed, 4 Interrupted.'
  static override examples = ['<%= config.bin %> backup doPurge', '<%= config.bin %> backup doPurge purgeDays 30']
  static override flags = {
    purgeDays: integerParam({description: 'retention in days for this run, overriding ZxBackup_DataRetentionDays'}),
  }

  async run(): Promise<OperationView> {
    const {flags} = await this.parse(DoPurge)
    const view = await this.runAsOperation('doPurge', {purgeDays: flags.purgeDays ?? null}, context =>
      purge(context, {purgeDays: flags.purgeDays}))
    if (view.result) {
      const r = view.result
      this.log(r.skipped
        ? String(r.skipped)
        : `purged ${r.items} items, ${r.revisions} revisions, ${r.accounts} accounts, ${r.blobs} blobs, ${r.bytesFreed} bytes`)
    }

    return view
  }
}
