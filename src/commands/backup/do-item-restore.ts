import {Args} from '@oclif/core'

import type {OperationView} from '../../cli/operation-view.js'
import type {ItemRestoreReport} from '../../engine/restore/item-restore.js'

import {OperationCommand} from '../../cli/operation-command.js'
import {restoreDateParam, textParam} from '../../cli/params.js'
import {describePointInTime} from '../../engine/point-in-time.js'
import {restoreFolderPath, restoreItem} from '../../engine/restore/item-restore.js'
import {describeRenamed} from '../../engine/restore/separator-in-name.js'
import {checkSmartScan} from '../../engine/smartscan/smart-scan.js'

export default class DoItemRestore extends OperationCommand {
  static override summary = 'Put one message back into its account on the mail server, as it was at a time.'
  static override description
    = 'date selects the state valid at that time (default: the last state before the message was deleted). The '
      + 'message goes back into its original folder (under its name now if it was renamed since; created again when '
      + 'it is gone), or into restore_folder, with its exact bytes, flags and internal '
      + 'date, unless that folder has it already. In blobless mode the content is read from the AppServer; a message '
      + 'whose content is gone both places fails the operation; so does an account over its quota, saying the message is '
      + 'left: raise the quota and run the same command again. Prints the operation UUID first; exit codes: 0 '
      + 'Successful, 1 Failed, 2 Stopped, 3 Removed, 4 Interrupted.'
  static override examples = [
    '<%= config.bin %> backup doItemRestore alice@example.com f1700000000/1700000000/42',
    '<%= config.bin %> backup doItemRestore alice@example.com f1700000000/1700000000/42 date "26/11/2026 09:30:00" restore_folder /Restored',
  ]
  static override args = {
    account: Args.string({description: 'account address', required: true}),
    item: Args.string({description: 'item id (doItemSearch lists them)', required: true}),
  }
  static override flags = {
    date: restoreDateParam({description: 'the state to restore (default: the last one before its deletion)'}),

    restore_folder: textParam({description: 'folder path to restore into instead of the original folder ("/Restored")'}),
  }

  async run(): Promise<OperationView> {
    const {args, flags} = await this.parse(DoItemRestore)
    await checkSmartScan(await this.catalog(), this.server, {account: args.account})
    const point = flags.date ?? {kind: 'last' as const}
    const restoreFolder = flags.restore_folder === undefined ? undefined : restoreFolderPath(flags.restore_folder)
    const view = await this.runAsOperation(
      'doItemRestore',
      {
        account: args.account, item: args.item, date: describePointInTime(point), restoreFolder: restoreFolder ?? null,
      },
      context => restoreItem(context, {
        account: args.account, item: args.item, point, restoreFolder,
      }),
    )
    const report = view.result as ItemRestoreReport | null
    if (report) {
      if (report.smartScanFirst) this.log(`${report.account} was uncertain: an account SmartScan ran first`)
      for (const renamed of report.renamedFolders) this.log(`WARNING ${describeRenamed(renamed)}`)
      if (report.left) this.log(`item ${report.item} (state of ${report.state}) not restored into ${report.folderPath}: 0 restored, 0 skipped, 1 left`)
      else if (report.restored) this.log(`restored item ${report.item} (state of ${report.state}) into ${report.folderPath}`)
      else this.log(`item ${report.item} is already in ${report.folderPath}: nothing restored`)
    }

    return view
  }
}
