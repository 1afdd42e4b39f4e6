import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {describeResolved} from '../../cli/config-output.js'
import {splitScope} from '../../cli/config-scope.js'
import {getAttribute, type ResolvedValue} from '../../engine/config/config-store.js'

export default class ConfigGet extends BaseCommand {
  static override summary = 'Show the effective value of an attribute, whether it is inherited and from where.'
  static override usage = ['config get global <attribute>', 'config get <level> <target> <attribute>']
  static override examples = [
    '<%= config.bin %> config get server mail.example.com ZxBackup_RealTimeScanner --json',
    '<%= config.bin %> config get global ZxBackup_DataRetentionDays',
  ]
  static override args = {
    level: Args.string({description: 'global, server, domain, cos or account', required: true}),
    target: Args.string({description: 'server, domain, cos or account name (not for global)'}),
    attribute: Args.string({description: 'attribute name'}),
  }

  async run(): Promise<ResolvedValue> {
    const {args} = await this.parse(ConfigGet)
    const {scope, rest} = splitScope([args.level, args.target, args.attribute], 1, ConfigGet.usage)
    const value = await getAttribute(await this.catalog(), scope, rest[0])
    this.log(describeResolved(value))
    return value
  }
}
