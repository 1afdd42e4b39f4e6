import {Args} from '@oclif/core'

import type {OperationView} from '../../cli/operation-view.js'
import type {UndeleteReport} from '../../engine/restore/undelete.js'

import {left} from '../../cli/left-count.js'
import {OperationCommand} from '../../cli/operation-command.js'
import {parsePointInTime} from '../../cli/param-values.js'
import {booleanParam} from '../../cli/params.js'
import {describePointInTime} from '../../engine/point-in-time.js'
import {describeRenamed} from '../../engine/restore/separator-in-name.js'
import {checkDeletionWindow, undelete} from '../../engine/restore/undelete.js'
import {checkSmartScan} from '../../engine/smartscan/smart-scan.js'

export default class DoUndelete extends OperationCommand {
  static override summary = 'Bring back into an account on the mail server the messages deleted between two moments.'
  static override description
    = 'Every message whose deletion (by a client, an expunge, an emptied or deleted folder) falls between start and '
      + 'end comes back with its exact bytes, flags, keywords and internal date: into its original folder (created '
      + 'again when it is gone; a message deleted from the Trash goes back where it was before the Trash), or with '
      + 'target_original_folder false under one "Undeleted <yyyy-MM-dd>" folder that keeps the folder structure. A '
      + 'message the mailbox still (or again) has is skipped, so running it again adds nothing. A message the server '
      + 'refuses (over its size limit) is reported as not restored, with the reason (exit code 1); an account over its '
      + 'quota fails the operation, which ends with its counts and how many messages are left: raise the quota and run '
      + 'the same command again. An uncertain account '
      + 'gets an account SmartScan first. Prints the operation UUID first; exit codes: 0 Successful, 1 Failed, 2 '
      + 'Stopped, 3 Removed, 4 Interrupted.'
  static override examples = [
    '<%= config.bin %> backup doUndelete alice@example.com "26/11/2026 09:00:00" last',
    '<%= config.bin %> backup doUndelete alice@example.com first "26/11/2026 18:00:00" target_original_folder false',
  ]
  static override args = {
    account: Args.string({description: 'account address', required: true}),
    start: Args.string({description: '"dd/MM/yyyy HH:mm:ss", ISO 8601 or first: the oldest deletion to undo', required: true}),
    end: Args.string({description: '"dd/MM/yyyy HH:mm:ss", ISO 8601 or last: the newest deletion to undo', required: true}),
  }
  static override flags = {
    target_original_folder: booleanParam({description: 'into the original folders (default true); false: under an "Undeleted <date>" folder'}),
  }

  async run(): Promise<OperationView> {
    const {args, flags} = await this.parse(DoUndelete)
    const start = parsePointInTime(args.start, 'start', {keywords: ['first']})
    const end = parsePointInTime(args.end, 'end', {keywords: ['last']})
    const window = {from: start.kind === 'at' ? start.at : null, to: end.kind === 'at' ? end.at : null}
    checkDeletionWindow(window)
    const targetOriginalFolder = flags.target_original_folder ?? true
    await checkSmartScan(await this.catalog(), this.server, {account: args.account})
    const view = await this.runAsOperation(
      'doUndelete',
      {
        account: args.account, start: describePointInTime(start), end: describePointInTime(end), targetOriginalFolder,
      },
      context => undelete(context, {account: args.account, window, targetOriginalFolder}),
    )
    const report = view.result as null | UndeleteReport
    if (report) {
      if (report.smartScanFirst) this.log(`${report.account} was uncertain: an account SmartScan ran first`)
      else if (report.uncertain) this.log(`WARNING ${report.account} is uncertain and could not be scanned first: deletions may be missing`)
      for (const renamed of report.renamedFolders) this.log(`WARNING ${describeRenamed(renamed)}`)
      for (const u of report.unrestoredItems) this.log(`not restored: item ${u.item} in ${u.folderPath}: ${u.reason}`)
      const where = report.undeletedFolder === null ? 'their original folders' : report.undeletedFolder
      this.log(`undeleted ${report.account} from ${report.start} to ${report.end} into ${where}: ${report.deleted} deleted, `
        + `${report.restored} restored, ${report.skipped} skipped (still there), ${report.unrestored} unrestored in ${report.folders} folders${left(report.left)}`)
      if (report.unrestored > 0 && view.exitCode === 0) {
        // The operation ran to its end, but a script must not read an undelete with holes as a success.
        this.log(`PARTIAL: ${report.unrestored} item(s) could not be restored (listed above); exit code 1`)
        process.exitCode = 1
        return {...view, partial: true}
      }
    }

    return view
  }
}
