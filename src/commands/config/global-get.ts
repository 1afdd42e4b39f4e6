import {BaseCommand} from '../../cli/base-command.js'
import {describeResolved} from '../../cli/config-output.js'
import {textParam} from '../../cli/params.js'
import {getAttribute, type ResolvedValue} from '../../engine/config/config-store.js'

export default class ConfigGlobalGet extends BaseCommand {
  static override summary = 'Show a global attribute (legacy Carbonio syntax).'
  static override examples = ['<%= config.bin %> config global get attribute backupBloblessMode']
  static override flags = {
    attribute: textParam({description: 'attribute name', required: true}),
  }

  async run(): Promise<ResolvedValue> {
    const {flags} = await this.parse(ConfigGlobalGet)
    const value = await getAttribute(await this.catalog(), {level: 'global', target: ''}, flags.attribute)
    this.log(describeResolved(value))
    return value
  }
}
