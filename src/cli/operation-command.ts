import type {OperationRecord} from '../engine/operations/operation-record.js'

import {exitCodeFor, outcomeName} from '../engine/operations/operation-state.js'
import {type OperationWork, runOperation} from '../engine/operations/run-operation.js'
import {BaseCommand} from './base-command.js'
import {renderOperation} from './operation-renderer.js'
import {operationView, type OperationView} from './operation-view.js'

/**
 * A command that runs engine work as an operation in the foreground: prints the UUID first, shows progress on
 * stderr, and exits with Carbonio's codes (0 Successful, 1 Failed, 2 Stopped, 3 Removed, 4 Interrupted).
 * Ctrl-C stops the operation cleanly; SIGTERM (a shutdown) marks it Interrupted.
 */
export abstract class OperationCommand extends BaseCommand {
  protected async runAsOperation(
    type: string,
    parameters: Record<string, unknown>,
    work: OperationWork,
  ): Promise<OperationView> {
    const catalog = await this.catalog()
    const controller = new AbortController()
    const onSigint = () => controller.abort('stop')
    const onSigterm = () => controller.abort('interrupt')
    process.on('SIGINT', onSigint)
    process.on('SIGTERM', onSigterm)
    let record: OperationRecord
    try {
      record = await renderOperation(type, this.jsonEnabled(), observer =>
        runOperation(catalog, {
          type,
          server: this.server,
          parameters,
          work,
          signal: controller.signal,
          observer: {
            ...observer,
            created: created => {
              // The UUID comes first so that a script can capture it, even before the operation starts.
              if (!this.jsonEnabled()) this.log(created.uuid)
              observer.created?.(created)
            },
          },
        }))
    } finally {
      process.off('SIGINT', onSigint)
      process.off('SIGTERM', onSigterm)
    }

    process.exitCode = exitCodeFor(record.state)
    if (record.state !== 'completed') {
      this.notice(`${type} ${outcomeName(record.state)}${record.error ? `: ${record.error}` : ''}`)
    }

    return operationView(record)
  }
}
