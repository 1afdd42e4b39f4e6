import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {textParam} from '../../cli/params.js'
import {setAttribute, type SetResult} from '../../engine/config/config-store.js'

export default class ConfigServerSet extends BaseCommand {
  static override summary = 'Set a server attribute (legacy Carbonio syntax).'
  static override examples = [
    '<%= config.bin %> config server set mail.example.com attribute ZxBackup_RealTimeScanner value FALSE',
  ]
  static override args = {
    host: Args.string({description: 'server name', required: true}),
  }
  static override flags = {
    attribute: textParam({description: 'attribute name', required: true}),
    value: textParam({description: 'new value', required: true}),
  }

  async run(): Promise<SetResult & {ok: true}> {
    const {args, flags} = await this.parse(ConfigServerSet)
    const scope = {level: 'server' as const, target: args.host}
    const result = await setAttribute(await this.catalog(), scope, flags.attribute, flags.value)
    if (result.notice) this.notice(`note: ${result.notice}`)
    this.log('ok')
    return {ok: true, ...result}
  }
}
