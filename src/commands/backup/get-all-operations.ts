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
      const about = lastWord(op)
      this.log(`${op.uuid}  ${op.type}  ${op.outcome}${where}  started ${op.started ?? '-'}${about ? ` - ${about}` : ''}`)
    }

    return {operations}
  }
}

/**
 * What a line says of an operation: while it is active, the step it is at; once it ended, why it failed or what it
 * did (the counts of its result), not the step it happened to report last.
 */
function lastWord(op: OperationView): string {
  if (op.exitCode === null) return op.progress.step ?? ''
  if (op.error) return op.error
  return op.result ? resultCounts(op.result) : ''
}

/** `restored=21 unrestored=0`: the numbers of a result, at its top level and in its `totals`. */
function resultCounts(result: Record<string, unknown>): string {
  const totals = typeof result.totals === 'object' && result.totals !== null ? result.totals as Record<string, unknown> : {}
  return Object.entries({...result, ...totals})
  .filter(([, value]) => typeof value === 'number')
  .map(([name, value]) => `${name}=${value}`)
  .join(' ')
}
