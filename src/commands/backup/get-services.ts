import {BaseCommand} from '../../cli/base-command.js'
import {type ServiceStatus, serviceStatuses} from '../../engine/daemon/services.js'
import {type AccountCertainty, uncertainAccounts} from '../../engine/scanner/account-certainty.js'

export default class GetServices extends BaseCommand {
  static override summary = "Show the backup module's services on this server, from the daemon's heartbeat."
  static override examples = ['<%= config.bin %> backup getServices --json']

  async run(): Promise<{server: string; services: ServiceStatus[]; smartScanRequired: AccountCertainty[]}> {
    await this.parse(GetServices)
    const catalog = await this.catalog()
    const services = await serviceStatuses(catalog, this.server)
    const smartScanRequired = await uncertainAccounts(catalog)
    for (const service of services) {
      const detail = Object.entries(service.detail)
      .filter(([, value]) => value !== null && value !== undefined)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ')
      this.log(`${service.name}: ${service.state}${detail ? `  ${detail}` : ''}`)
    }

    if (smartScanRequired.length > 0) {
      this.log(`SmartScan required for ${smartScanRequired.length} account(s): ${smartScanRequired[0].reason}`)
    }

    return {server: this.server, services, smartScanRequired}
  }
}
