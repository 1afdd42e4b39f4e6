import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {parseServiceName, switchService} from '../../engine/daemon/service-control.js'

export default class DoStopService extends BaseCommand {
  static override summary = 'Stop a service of the backup module on this server (the daemon follows within 2 s).'
  static override examples = ['<%= config.bin %> backup doStopService backup-realtime']
  static override args = {
    service: Args.string({description: 'backup-realtime, smartscan-cron, purge-cron or coherency-cron', required: true}),
  }

  async run(): Promise<{service: string; attribute: string; value: string}> {
    const {args} = await this.parse(DoStopService)
    const service = parseServiceName(args.service)
    const result = await switchService(await this.catalog(), this.server, service, false)
    this.log(`${service}: stopped (${result.attribute} = ${result.value} on ${this.server})`)
    return {service, ...result}
  }
}
