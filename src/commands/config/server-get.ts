import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {describeResolved} from '../../cli/config-output.js'
import {textParam} from '../../cli/params.js'
import {getAttribute, type ResolvedValue} from '../../engine/config/config-store.js'

export default class ConfigServerGet extends BaseCommand {
  static override summary = 'Show a server attribute (legacy Carbonio syntax).'
  static override examples = ['<%= config.bin %> config server get mail.example.com attribute ZxBackup_RealTimeScanner']
  static override args = {
    host: Args.string({description: 'server name', required: true}),
  }
  static override flags = {
    attribute: textParam({description: 'attribute name', required: true}),
  }

  async run(): Promise<ResolvedValue> {
    const {args, flags} = await this.parse(ConfigServerGet)
    const value = await getAttribute(await this.catalog(), {level: 'server', target: args.host}, flags.attribute)
    this.log(describeResolved(value))
    return value
  }
}
