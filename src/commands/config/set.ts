import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {splitScope} from '../../cli/config-scope.js'
import {setAttribute, type SetResult} from '../../engine/config/config-store.js'

export default class ConfigSet extends BaseCommand {
  static override summary = 'Set an attribute at global, server, domain, cos or account level.'
  static override usage = ['config set global <attribute> <value>', 'config set <level> <target> <attribute> <value>']
  static override examples = [
    '<%= config.bin %> config set server mail.example.com ZxBackup_RealTimeScanner FALSE',
    '<%= config.bin %> config set global ZxBackup_DataRetentionDays 60',
    '<%= config.bin %> config set account alice@example.com backupEnabled false',
  ]
  static override args = {
    level: Args.string({description: 'global, server, domain, cos or account', required: true}),
    target: Args.string({description: 'server, domain, cos or account name (not for global)'}),
    attribute: Args.string({description: 'attribute name'}),
    value: Args.string({description: 'new value'}),
  }

  async run(): Promise<SetResult & {ok: true}> {
    const {args} = await this.parse(ConfigSet)
    const {scope, rest} = splitScope([args.level, args.target, args.attribute, args.value], 2, ConfigSet.usage)
    const result = await setAttribute(await this.catalog(), scope, rest[0], rest[1])
    if (result.notice) this.notice(`note: ${result.notice}`)
    this.log('ok')
    return {ok: true, ...result}
  }
}
