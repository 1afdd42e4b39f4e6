import {BaseCommand} from '../../cli/base-command.js'
import {operationView, type OperationView} from '../../cli/operation-view.js'
import {booleanParam} from '../../cli/params.js'
import {listOperations} from '../../engine/operations/operations-store.js'

export default class GetAllOperations extends BaseCommand {
  static override summary = 'List running and queued operations (with `all true`, recent finished ones too).'
  static override examples = ['<%= config.bin %> backup getAllOperations', '<%= config.bin %> backup getAllOperations all true --json']
  static override flags = {
    all: booleanParam({description: 'include the 50 most recent finished operations'}),
  }

  async run(): Promise<{operations: OperationView[]}> {
    const {flags} = await this.parse(GetAllOperations)
    const records = await listOperations(await this.catalog(), {includeFinished: flags.all ?? false})
    const operations = records.map(record => operationView(record))
    if (operations.length === 0) this.log('no operations running or queued')
    for (const op of operations) {
      const where = op.queuePosition === undefined ? '' : ` (${op.queuePosition} ahead)`
      const step = op.progress.step ? ` - ${op.progress.step}` : ''
      this.log(`${op.uuid}  ${op.type}  ${op.outcome}${where}  started ${op.started ?? '-'}${step}`)
    }

    return {operations}
  }
}
