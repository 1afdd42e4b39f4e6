import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {parseServiceName, switchService} from '../../engine/daemon/service-control.js'

export default class DoStartService extends BaseCommand {
  static override summary = 'Start a service of the backup module on this server (the daemon follows within 2 s).'
  static override examples = ['<%= config.bin %> backup doStartService backup-realtime']
  static override args = {
    service: Args.string({description: 'backup-realtime, smartscan-cron, purge-cron or coherency-cron', required: true}),
  }

  async run(): Promise<{service: string; attribute: string; value: string}> {
    const {args} = await this.parse(DoStartService)
    const service = parseServiceName(args.service)
    const result = await switchService(await this.catalog(), this.server, service, true)
    this.log(`${service}: started (${result.attribute} = ${result.value} on ${this.server})`)
    if (service === 'backup-realtime') this.notice('transactions made while it was stopped were not followed: a SmartScan is required')
    return {service, ...result}
  }
}
