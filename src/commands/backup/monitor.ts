import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {describeOperation, operationView, type OperationView} from '../../cli/operation-view.js'
import {booleanParam} from '../../cli/params.js'
import {isFinal} from '../../engine/operations/operation-state.js'
import {requireOperation} from '../../engine/operations/operations-store.js'

export default class Monitor extends BaseCommand {
  static override summary = 'Show an operation: state, progress counters, start, end and error.'
  static override description
    = 'With `follow true` it waits until the operation ends and exits with its code '
      + '(0 Successful, 1 Failed, 2 Stopped, 3 Removed, 4 Interrupted).'
  static override examples = [
    '<%= config.bin %> backup monitor 3f2c9e1a-0d7b-4a39-9d7e-5b1f2f0c9a11 --json',
    '<%= config.bin %> backup monitor 3f2c9e1a-0d7b-4a39-9d7e-5b1f2f0c9a11 follow true',
  ]
  static override args = {
    uuid: Args.string({description: 'operation UUID', required: true}),
  }
  static override flags = {
    follow: booleanParam({description: 'wait for the operation to end and exit with its code'}),
  }

  async run(): Promise<OperationView> {
    const {args, flags} = await this.parse(Monitor)
    const catalog = await this.catalog()
    let record = await requireOperation(catalog, args.uuid)
    let lastStep = record.progress.step
    while (flags.follow && !isFinal(record.state)) {
      await new Promise(resolve => {
        setTimeout(resolve, 500)
      })
      record = await requireOperation(catalog, args.uuid)
      if (record.progress.step && record.progress.step !== lastStep) this.notice(record.progress.step)
      lastStep = record.progress.step
    }

    const view = operationView(record)
    if (flags.follow && view.exitCode !== null) process.exitCode = view.exitCode
    for (const line of describeOperation(view)) this.log(line)
    return view
  }
}
