import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {splitScope} from '../../cli/config-scope.js'
import {unsetAttribute} from '../../engine/config/config-store.js'

export default class ConfigUnset extends BaseCommand {
  static override summary = "Remove a level's own value so that it inherits again."
  static override usage = ['config unset global <attribute>', 'config unset <level> <target> <attribute>']
  static override examples = ['<%= config.bin %> config unset server mail.example.com ZxBackup_RealTimeScanner']
  static override args = {
    level: Args.string({description: 'global, server, domain, cos or account', required: true}),
    target: Args.string({description: 'server, domain, cos or account name (not for global)'}),
    attribute: Args.string({description: 'attribute name'}),
  }

  async run(): Promise<{ok: true; removed: boolean}> {
    const {args} = await this.parse(ConfigUnset)
    const {scope, rest} = splitScope([args.level, args.target, args.attribute], 1, ConfigUnset.usage)
    const removed = await unsetAttribute(await this.catalog(), scope, rest[0])
    this.log(removed ? 'ok' : 'ok (it was not set at that level)')
    return {ok: true, removed}
  }
}
