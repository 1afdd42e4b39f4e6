import {BaseCommand} from '../../cli/base-command.js'
import {textParam} from '../../cli/params.js'
import {setAttribute, type SetResult} from '../../engine/config/config-store.js'

export default class ConfigGlobalSet extends BaseCommand {
  static override summary = 'Set a global attribute (legacy Carbonio syntax).'
  static override examples = ['<%= config.bin %> config global set attribute backupBloblessMode value true']
  static override flags = {
    attribute: textParam({description: 'attribute name', required: true}),
    value: textParam({description: 'new value', required: true}),
  }

  async run(): Promise<SetResult & {ok: true}> {
    const {flags} = await this.parse(ConfigGlobalSet)
    const result = await setAttribute(await this.catalog(), {level: 'global', target: ''}, flags.attribute, flags.value)
    if (result.notice) this.notice(`note: ${result.notice}`)
    this.log('ok')
    return {ok: true, ...result}
  }
}
