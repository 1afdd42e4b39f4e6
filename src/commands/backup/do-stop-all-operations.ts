import {BaseCommand} from '../../cli/base-command.js'
import {operationView, type OperationView} from '../../cli/operation-view.js'
import {stopAllOperationsAndWait} from '../../engine/operations/stop-operations.js'

export default class DoStopAllOperations extends BaseCommand {
  static override summary = 'Stop every running operation of this server and remove its queued ones.'
  static override examples = ['<%= config.bin %> backup doStopAllOperations']

  async run(): Promise<{operations: OperationView[]}> {
    await this.parse(DoStopAllOperations)
    const operations = (await stopAllOperationsAndWait(await this.catalog(), this.server)).map(record => operationView(record))
    if (operations.length === 0) this.log('no operations running or queued')
    for (const view of operations) this.log(`${view.uuid}  ${view.type}  ${view.outcome}`)
    return {operations}
  }
}
