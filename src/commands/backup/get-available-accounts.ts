import {BaseCommand} from '../../cli/base-command.js'
import {momentParam} from '../../cli/history-params.js'
import {availableAccounts} from '../../engine/history/available-accounts.js'
import {isoOrNull, isoTime} from '../../engine/history/history-time.js'

export interface AvailableAccountView {
  /** The address at the time asked about (the current one without a date). */
  account: string
  currentName: string
  id: null | string
  domain: null | string
  firstSeen: string
  deleted: boolean
  deletedAt: null | string
  legalHold: boolean
  uncertain: boolean
}

export interface GetAvailableAccountsResult {
  /** The time asked about, or null for every account the backup holds now. */
  date: null | string
  accounts: AvailableAccountView[]
}

export default class GetAvailableAccounts extends BaseCommand {
  static override summary = 'List the accounts in the backup, marking deleted ones; with date, those that existed then.'
  static override description
    = 'Without date (or with date last): every account the backup holds, deleted ones included and marked, since '
      + 'their history can still be restored. With date: the accounts that existed at that time, under the address '
      + 'they had then, marked deleted when they have been deleted since.'
  static override examples = [
    '<%= config.bin %> backup getAvailableAccounts',
    '<%= config.bin %> backup getAvailableAccounts date "01/11/2026 12:00:00" --json',
  ]
  static override flags = {
    date: momentParam({description: 'list the accounts that existed at this time'}),
  }

  async run(): Promise<GetAvailableAccountsResult> {
    const {flags} = await this.parse(GetAvailableAccounts)
    const at = flags.date === 'last' ? undefined : flags.date
    const accounts = await availableAccounts(await this.catalog(), at)
    const result: GetAvailableAccountsResult = {
      date: at === undefined ? null : isoTime(at),
      accounts: accounts.map(a => ({
        account: a.nameAt,
        currentName: a.name,
        id: a.remoteId,
        domain: a.domain,
        firstSeen: isoTime(a.firstSeen),
        deleted: a.deleted,
        deletedAt: isoOrNull(a.deletedAt),
        legalHold: a.legalHold,
        uncertain: a.uncertain,
      })),
    }
    for (const a of result.accounts) {
      const marks = [
        a.deleted ? `DELETED ${a.deletedAt}` : undefined,
        a.account === a.currentName ? undefined : `now ${a.currentName}`,
        a.legalHold ? 'legal hold' : undefined,
        a.uncertain ? 'SmartScan required' : undefined,
      ].filter(Boolean)
      this.log(`${a.account}${marks.length > 0 ? `  (${marks.join(', ')})` : ''}`)
    }

    if (result.accounts.length === 0) this.log(result.date ? `no account existed at ${result.date}` : 'the backup holds no account yet')
    return result
  }
}
