import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {describeResolved} from '../../cli/config-output.js'
import {splitScope} from '../../cli/config-scope.js'
import {dumpScope, type ResolvedValue} from '../../engine/config/config-store.js'

export default class ConfigDump extends BaseCommand {
  static override summary = 'Show every attribute as seen from one level, with where each value comes from.'
  static override usage = ['config dump global', 'config dump <level> <target>']
  static override examples = ['<%= config.bin %> config dump server mail.example.com']
  static override args = {
    level: Args.string({description: 'global, server, domain, cos or account', required: true}),
    target: Args.string({description: 'server, domain, cos or account name (not for global)'}),
  }

  async run(): Promise<{attributes: ResolvedValue[]}> {
    const {args} = await this.parse(ConfigDump)
    const {scope} = splitScope([args.level, args.target], 0, ConfigDump.usage)
    const attributes = await dumpScope(await this.catalog(), scope)
    for (const value of attributes) this.log(describeResolved(value))
    return {attributes}
  }
}
