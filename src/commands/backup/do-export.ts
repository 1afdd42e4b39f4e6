import {Args} from '@oclif/core'

import type {OperationView} from '../../cli/operation-view.js'
import type {ExportReport} from '../../engine/export/export-accounts.js'

import {humanBytes} from '../../cli/history-view.js'
import {OperationCommand} from '../../cli/operation-command.js'
import {booleanParam, dateParam, listParam} from '../../cli/params.js'
import {exportAccounts} from '../../engine/export/export-accounts.js'
import {planExport} from '../../engine/export/export-plan.js'
import {describePointInTime} from '../../engine/point-in-time.js'

export default class DoExport extends OperationCommand {
  static override summary = 'Export accounts as they were at a time: a Maildir++ tree of their mail plus every item and folder as JSON.'
  static override description
    = 'For each account, <path>/<account>/ gets Maildir/ (the Inbox is the Maildir root, "/Inbox/Sub" is .Inbox.Sub; '
      + 'each message with its exact original bytes in cur/, named <time>.<item id>.carbonio-backup:2,<flags>), '
      + 'folders.json, items.ndjson (every item of every type with metadata, flags, tags and digest), content/ (the '
      + 'raw content of items other than messages) and manifest.json (format version, point in time, counts, items '
      + 'whose content is not in the backup). date defaults to last (now). The target must be new or empty unless '
      + 'force true, which replaces the exported accounts\' directories. An uncertain account gets an account SmartScan '
      + 'first when the IMAP AppServer is configured, else it is exported with a warning: a SmartScan is required. Prints the operation UUID first; exit codes: 0 Successful, 1 Failed, '
      + '2 Stopped, 3 Removed, 4 Interrupted.'
  static override examples = [
    '<%= config.bin %> backup doExport /srv/export accounts alice@example.com date "26/11/2026 09:30:00"',
    '<%= config.bin %> backup doExport /srv/export-all force true',
  ]
  static override args = {
    path: Args.string({description: 'directory to export into (new or empty)', required: true}),
  }
  static override flags = {
    accounts: listParam({description: 'accounts to export (default: every account that existed at that time)'}),
    date: dateParam({description: 'the moment to export (default last)'}),
    force: booleanParam({description: 'export into a non-empty directory, replacing the exported accounts there'}),
  }

  async run(): Promise<OperationView> {
    const {args, flags} = await this.parse(DoExport)
    const point = flags.date ?? {kind: 'last'}
    // Checked before the operation is queued: a wrong path or account is a usage mistake, not a failed operation.
    const plan = await planExport(await this.catalog(), {
      path: args.path, accounts: flags.accounts, point, force: flags.force,
    })
    const view = await this.runAsOperation(
      'doExport',
      {
        path: plan.target, accounts: plan.accounts.map(a => a.label), date: describePointInTime(point), force: plan.force,
      },
      context => exportAccounts(context, plan),
    )
    const report = view.result as ExportReport | null
    if (report) {
      for (const a of report.accounts) {
        const written = `${plural(a.messages, 'message')} in ${plural(a.maildirFolders, 'Maildir folder')}, ${plural(a.contentFiles, 'other content')}, ${humanBytes(a.bytes)}`
        this.log(`${a.account}: ${plural(a.items, 'item')} (${written}), ${a.missingContent} without content in the backup -> ${a.directory}`)
      }

      for (const account of report.scannedFirst) this.log(`${account} was uncertain: an account SmartScan ran first`)
      for (const u of report.uncertainAccounts) this.log(`WARNING ${u.warning}`)
      this.log(`exported ${plural(report.totals.accounts, 'account')} at ${report.pointInTime} to ${report.target}`)
    }

    return view
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
