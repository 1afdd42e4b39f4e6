import {Args} from '@oclif/core'

import type {OperationView} from '../../cli/operation-view.js'
import type {ExternalRestoreReport} from '../../engine/restore/external-restore.js'

import {left} from '../../cli/left-count.js'
import {OperationCommand} from '../../cli/operation-command.js'
import {listParam} from '../../cli/params.js'
import {planExternalRestore} from '../../engine/restore/external-restore-plan.js'
import {restoreExternal} from '../../engine/restore/external-restore.js'
import {describeRenamed} from '../../engine/restore/separator-in-name.js'

/** Unrestored items printed per account; --json lists them all (up to the report's own bound). */
const SHOWN = 20

export default class DoExternalRestore extends OperationCommand {
  static override summary = 'Import a doExport tree into the mail server: accounts, folders and messages.'
  static override description
    = 'Each exported account missing on the AppServer is created with backupProvisioningCommand, then gets the '
      + 'folders of its Maildir tree and its messages with the exact bytes of the files, the flags of their names, '
      + 'and the keywords and internal dates that items.ndjson recorded. A file whose bytes are not the digest '
      + 'items.ndjson recorded for its item (a copy gone bad) is not imported: it is reported as not restored, naming the '
      + 'file. A message the server refuses (over its size limit) is reported as not restored, with the reason; an '
      + 'account over its quota is not imported further, in one line, and counted with the messages it has left: raise the '
      + 'quota and import again. Messages '
      + 'already in a folder are skipped, so importing again adds nothing. Contacts, appointments, tasks and documents cannot go over IMAP: they are '
      + 'reported as not restored, with the reason. accounts and domains select accounts of the export (both add up). '
      + 'With the Realtime Scanner on, it warns that the scanner should be off during a multi-domain import and that '
      + 'a SmartScan is due afterwards. Prints the operation UUID first; exit codes: 0 Successful (1 when messages '
      + 'or accounts could not be imported), 1 Failed, 2 Stopped, 3 Removed, 4 Interrupted.'
  static override examples = [
    '<%= config.bin %> backup doExternalRestore /srv/export',
    '<%= config.bin %> backup doExternalRestore /srv/export accounts alice@example.com,bob@example.com',
    '<%= config.bin %> backup doExternalRestore /srv/export domains example.com',
  ]
  static override args = {
    path: Args.string({description: 'the directory doExport wrote (or one account\'s directory in it)', required: true}),
  }
  static override flags = {
    accounts: listParam({description: 'only these accounts of the export'}),
    domains: listParam({description: 'only the accounts of these domains'}),
  }

  async run(): Promise<OperationView> {
    const {args, flags} = await this.parse(DoExternalRestore)
    // Checked before the operation is queued: a wrong path or account is a usage mistake, and nothing is written.
    const plan = await planExternalRestore({path: args.path, accounts: flags.accounts, domains: flags.domains})
    const view = await this.runAsOperation(
      'doExternalRestore',
      {path: plan.path, accounts: plan.accounts.map(a => a.account)},
      context => restoreExternal(context, plan),
    )
    const report = view.result as ExternalRestoreReport | null
    if (!report) return view
    for (const warning of report.warnings) this.log(`WARNING ${warning}`)
    for (const a of report.accounts) {
      if (a.error) {
        this.log(`${a.account}: not imported: ${a.error}`)
        // A full account got part of its mail: what it got and what is left are counted as for the others.
        if (!a.left) continue
      }

      for (const renamed of a.renamedFolders) this.log(`WARNING ${a.account}: ${describeRenamed(renamed)}`)
      for (const u of a.unrestoredItems.slice(0, SHOWN)) this.log(`not restored: ${a.account} ${u.type} ${u.item} in ${u.folderPath}: ${u.reason}`)
      if (a.unrestored > SHOWN) this.log(`not restored: ${a.account}: ${a.unrestored - SHOWN} more (--json lists them)`)
      this.log(`${a.account}: ${a.created ? 'created with backupProvisioningCommand, ' : ''}${a.restored} restored, `
        + `${a.skipped} skipped (already there), ${a.unrestored} unrestored in ${a.folders} folders${left(a.left)}`)
    }

    this.log(`imported ${report.accounts.length - report.failedAccounts} of ${report.accounts.length} accounts from ${report.path}: `
      + `${report.restored} restored, ${report.skipped} skipped (already there), ${report.unrestored} unrestored`)
    if ((report.unrestoredMessages > 0 || report.failedAccounts > 0) && view.exitCode === 0) {
      // Items IMAP cannot carry are a known limit and listed; mail that could not be imported is a hole.
      this.log(`PARTIAL: ${report.unrestoredMessages} message(s) and ${report.failedAccounts} account(s) could not be imported (listed above); exit code 1`)
      process.exitCode = 1
      return {...view, partial: true}
    }

    return view
  }
}
