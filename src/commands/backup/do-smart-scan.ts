import {Args} from '@oclif/core'

import type {OperationView} from '../../cli/operation-view.js'

import {OperationCommand} from '../../cli/operation-command.js'
import {booleanParam} from '../../cli/params.js'
import {checkSmartScan, smartScan} from '../../engine/smartscan/smart-scan.js'
import {scanOutcome} from './do-account-scan.js'

export default class DoSmartScan extends OperationCommand {
  static override summary = 'Bring the backup of every account to what the mail server has (SmartScan).'
  static override description
    = 'Lists the accounts with backupAccountsCommand and reads each one over IMAP with the admin credential '
      + '(backupAppServerUrl, backupAppServerUser, backupAppServerPasswordFile). Only folders whose UIDVALIDITY, UIDNEXT '
      + 'or HIGHESTMODSEQ changed since the last scan are read: new messages are stored with their exact bytes, '
      + 'changed flags become new revisions, and what the server no longer has is marked deleted; a moved message '
      + 'keeps its history. Accounts the directory no longer lists are recorded as deleted. deep true re-reads every '
      + 'message and verifies its digest. Each scanned account is certain again. Prints the operation UUID first; exit '
      + 'codes: 0 Successful, 1 Failed, 2 Stopped, 3 Removed, 4 Interrupted.'
  static override examples = ['<%= config.bin %> backup doSmartScan start', '<%= config.bin %> backup doSmartScan start deep true']
  static override args = {
    action: Args.string({description: 'start', options: ['start'], required: true}),
  }
  static override flags = {
    deep: booleanParam({description: 're-read every folder and message and verify every digest'}),
  }

  async run(): Promise<OperationView> {
    const {flags} = await this.parse(DoSmartScan)
    const deep = flags.deep ?? false
    // Refused before an operation exists: nothing to scan with, nothing recorded.
    await checkSmartScan(await this.catalog(), this.server)
    const view = await this.runAsOperation('doSmartScan', {deep}, context => smartScan(context, {deep}))
    for (const line of scanOutcome(view)) this.log(line)
    return view
  }
}
