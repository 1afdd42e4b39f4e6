import {Args} from '@oclif/core'

import type {OperationView} from '../../cli/operation-view.js'

import {OperationCommand} from '../../cli/operation-command.js'
import {booleanParam} from '../../cli/params.js'
import {checkBackedUp} from '../../engine/config/backup-enabled.js'
import {checkSmartScan, smartScan} from '../../engine/smartscan/smart-scan.js'

export default class DoAccountScan extends OperationCommand {
  static override summary = 'Bring the backup of one account to what the mail server has (SmartScan of an account).'
  static override description
    = 'Reads the account over IMAP with the admin credential; only folders that changed since the last scan are '
      + 'read (deep true: every message, digests verified). The account is certain again afterwards. Prints the '
      + 'operation UUID first; exit codes: 0 Successful, 1 Failed, 2 Stopped, 3 Removed, 4 Interrupted.'
  static override examples = ['<%= config.bin %> backup doAccountScan alice@example.com', '<%= config.bin %> backup doAccountScan alice@example.com deep true']
  static override args = {
    account: Args.string({description: 'account address', required: true}),
  }
  static override flags = {
    deep: booleanParam({description: 're-read every folder and message and verify every digest'}),
  }

  async run(): Promise<OperationView> {
    const {args, flags} = await this.parse(DoAccountScan)
    const deep = flags.deep ?? false
    const account = args.account.toLowerCase()
    const catalog = await this.catalog()
    await checkSmartScan(catalog, this.server, {account})
    await checkBackedUp(catalog.db, account)
    const view = await this.runAsOperation('doAccountScan', {account, deep}, context => smartScan(context, {account, deep}))
    for (const line of scanOutcome(view)) this.log(line)
    return view
  }
}

/** The result lines of a SmartScan: accounts scanned and what changed, on stdout after the UUID. */
export function scanOutcome(view: OperationView): string[] {
  const r = view.result
  if (!r) return []
  const totals = r.totals as Record<string, number>
  const lines = [
    `scanned ${r.scanned} of ${r.accounts} account${r.accounts === 1 ? '' : 's'}: ${totals.created} new, ${totals.moved} moved, `
    + `${totals.flagsChanged} flag changes, ${totals.deleted} deleted messages; ${totals.foldersRead} folders read`,
  ]
  if (r.deep) lines.push(`${totals.verified} digests verified, ${totals.repaired} contents recorded again`)
  const deleted = r.deletedAccounts as string[]
  if (deleted.length > 0) lines.push(`recorded as deleted: ${deleted.join(', ')}`)
  return lines
}
