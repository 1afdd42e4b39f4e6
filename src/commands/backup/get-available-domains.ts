import {BaseCommand} from '../../cli/base-command.js'
import {availableDomains} from '../../engine/history/available-accounts.js'
import {isoOrNull, isoTime} from '../../engine/history/history-time.js'

export interface GetAvailableDomainsResult {
  domains: Array<{domain: string; firstSeen: string; deletedAt: null | string; accounts: number; deletedAccounts: number}>
}

export default class GetAvailableDomains extends BaseCommand {
  static override summary = 'List the domains of the accounts in the backup, with how many live and deleted accounts each holds.'
  static override examples = ['<%= config.bin %> backup getAvailableDomains', '<%= config.bin %> backup getAvailableDomains --json']

  async run(): Promise<GetAvailableDomainsResult> {
    await this.parse(GetAvailableDomains)
    const domains = await availableDomains(await this.catalog())
    const result: GetAvailableDomainsResult = {
      domains: domains.map(d => ({
        domain: d.name, firstSeen: isoTime(d.firstSeen), deletedAt: isoOrNull(d.deletedAt), accounts: d.accounts, deletedAccounts: d.deletedAccounts,
      })),
    }
    for (const d of result.domains) this.log(`${d.domain}  ${d.accounts} account${d.accounts === 1 ? '' : 's'}${d.deletedAccounts > 0 ? `, ${d.deletedAccounts} deleted` : ''}`)
    if (result.domains.length === 0) this.log('the backup holds no domain yet')
    return result
  }
}
