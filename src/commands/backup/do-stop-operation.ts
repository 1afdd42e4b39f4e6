import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {operationView, type OperationView} from '../../cli/operation-view.js'
import {stopOperationAndWait} from '../../engine/operations/stop-operations.js'

export default class DoStopOperation extends BaseCommand {
  static override summary = 'Stop an operation: a queued one is removed, a running one stops cleanly.'
  static override examples = ['<%= config.bin %> backup doStopOperation 3f2c9e1a-0d7b-4a39-9d7e-5b1f2f0c9a11']
  static override args = {
    uuid: Args.string({description: 'operation UUID', required: true}),
  }

  async run(): Promise<OperationView> {
    const {args} = await this.parse(DoStopOperation)
    const view = operationView(await stopOperationAndWait(await this.catalog(), args.uuid))
    this.log(`${view.uuid}  ${view.type}  ${view.outcome}`)
    return view
  }
}
