import {Args} from '@oclif/core'

import type {OperationView} from '../../cli/operation-view.js'
import type {RestoreReport} from '../../engine/restore/restore-on-new-account.js'

import {left} from '../../cli/left-count.js'
import {OperationCommand} from '../../cli/operation-command.js'
import {parsePointInTime} from '../../cli/param-values.js'
import {booleanParam} from '../../cli/params.js'
import {findAccount} from '../../engine/history/account-lookup.js'
import {describePointInTime} from '../../engine/point-in-time.js'
import {describeEmptied} from '../../engine/restore/emptied-account.js'
import {restoreOnNewAccount, restoreTime} from '../../engine/restore/restore-on-new-account.js'
import {describeRenamed} from '../../engine/restore/separator-in-name.js'
import {checkSmartScan} from '../../engine/smartscan/smart-scan.js'

export default class DoRestoreOnNewAccount extends OperationCommand {
  static override summary = 'Restore an account as it was at a time into another (new, empty) account on the mail server.'
  static override description
    = 'The destination must exist on the AppServer (or backupProvisioningCommand creates it) and hold no message '
      + '(force true merges into it). It gets the '
      + 'folders and messages the source had at that moment, with the exact bytes, flags, keywords and internal '
      + 'dates; a message already in a destination folder is skipped, so running the restore again adds nothing, and '
      + 'one that was stopped, killed or failed completes when run again, without force true. A message the '
      + 'destination refuses (over its size limit) is reported as not restored, with the reason (exit code 1); a '
      + 'destination over its quota fails the operation, which ends with its counts and how many messages are left: '
      + 'raise the quota and run the same command again. '
      + 'In blobless mode the content is read from the AppServer. An uncertain source gets an account SmartScan '
      + 'first. Prints the operation UUID first; exit codes: 0 Successful, 1 Failed, 2 Stopped, 3 Removed, 4 Interrupted.'
  static override examples = [
    '<%= config.bin %> backup doRestoreOnNewAccount alice@example.com alice.restored@example.com "26/11/2026 09:30:00"',
    '<%= config.bin %> backup doRestoreOnNewAccount alice@example.com alice.restored@example.com last',
  ]
  static override args = {
    source: Args.string({description: 'the account in the backup', required: true}),
    destination: Args.string({description: 'an existing, empty account on the mail server', required: true}),
    date: Args.string({description: '"dd/MM/yyyy HH:mm:ss", ISO 8601 or last', required: true}),
  }
  static override flags = {
    force: booleanParam({description: 'restore into a destination that already has messages (those already there are skipped)'}),
  }

  async run(): Promise<OperationView> {
    const {args, flags} = await this.parse(DoRestoreOnNewAccount)
    const point = parsePointInTime(args.date, 'date', {keywords: ['last']})
    const catalog = await this.catalog()
    // A source the backup does not know (or not yet at that time) is a typing mistake, not a failed operation.
    await findAccount(catalog, args.source, restoreTime(point))
    await checkSmartScan(catalog, this.server, {account: args.source})
    const request = {
      source: args.source, destination: args.destination, point, force: flags.force ?? false,
    }
    const view = await this.runAsOperation(
      'doRestoreOnNewAccount',
      {...request, point: undefined, date: describePointInTime(point)},
      context => restoreOnNewAccount(context, request),
    )
    const report = view.result as null | RestoreReport
    if (report) {
      if (report.created) this.log(`created ${report.destination} on the AppServer with backupProvisioningCommand`)
      if (report.smartScanFirst) this.log(`${report.source} was uncertain: an account SmartScan ran first`)
      else if (report.uncertain) this.log(`WARNING ${report.source} is uncertain and could not be scanned first: the restore may miss changes`)
      if (report.emptied) this.log(`WARNING ${describeEmptied(report.source, report.emptied)}`)
      for (const renamed of report.renamedFolders) this.log(`WARNING ${describeRenamed(renamed)}`)
      for (const u of report.unrestoredItems) this.log(`not restored: item ${u.item} in ${u.folderPath}: ${u.reason}`)
      this.log(`restored ${report.source} at ${report.pointInTime} into ${report.destination}: ${report.restored} restored, `
        + `${report.skipped} skipped (already there), ${report.unrestored} unrestored in ${report.folders} folders${left(report.left)}`)
      if (report.unrestored > 0 && view.exitCode === 0) {
        // The operation ran to its end, but a script must not read a restore with holes as a success.
        this.log(`PARTIAL: ${report.unrestored} item(s) could not be restored (listed above); exit code 1`)
        process.exitCode = 1
        return {...view, partial: true}
      }
    }

    return view
  }
}
