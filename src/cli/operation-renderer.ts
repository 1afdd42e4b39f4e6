import {
  Listr, ListrLogger, ListrLogLevels, type LoggerFieldOptions, ProcessOutput,
} from 'listr2'

import type {OperationRecord} from '../engine/operations/operation-record.js'
import type {OperationObserver} from '../engine/operations/run-operation.js'
import type {ProgressEvent} from '../engine/progress.js'

import {outcomeName} from '../engine/operations/operation-state.js'

/** Progress goes to stderr only, so that stdout carries nothing but the UUID and the result. */
function stderrOutput(): ProcessOutput {
  return new ProcessOutput(process.stderr, process.stderr)
}

/** An operation that did not succeed ends its task with ✖ and its title, which already names the outcome. */
class OutcomeNotSuccessful extends Error {}

/** Prints a failed task as its title alone: listr2 would add `[FAILED: <the same words>]`. */
class OperationLogger extends ListrLogger {
  override log(level: ListrLogLevels, message: string | unknown[], options?: LoggerFieldOptions): void {
    super.log(level, message, level === ListrLogLevels.FAILED ? {...options, suffix: undefined} : options)
  }
}

/**
 * Runs an operation under a listr2 task list on stderr: the animated renderer on a terminal, plain lines (each
 * naming its account or step) when not a terminal, nothing under --json.
 */
export async function renderOperation(
  title: string,
  quiet: boolean,
  run: (observer: OperationObserver) => Promise<OperationRecord>,
): Promise<OperationRecord> {
  let record: OperationRecord | undefined
  const processOutput = stderrOutput()
  const logger = new OperationLogger({processOutput, toStderr: ['STARTED', 'COMPLETED', 'FAILED', 'SKIPPED', 'OUTPUT', 'TITLE', 'RETRY', 'ROLLBACK', 'PROMPT', 'PAUSED']})
  const tasks = new Listr(
    [
      {
        title: `${title}: starting`,
        async task(_context, task) {
          let uuid = ''
          record = await run({
            created(created) {
              uuid = created.uuid
              task.title = `${title} ${uuid}: queued`
              task.output = `operation ${uuid} created`
            },
            waiting(ahead) {
              task.title = `${title} ${uuid}: queued behind ${ahead} operation${ahead === 1 ? '' : 's'}`
              task.output = `waiting: ${ahead} operation${ahead === 1 ? '' : 's'} ahead in the queue`
            },
            started() {
              task.title = `${title} ${uuid}: running`
              task.output = 'running'
            },
            progress(event: ProgressEvent) {
              const line = describeEvent(event)
              if (line) task.output = line
            },
          })
          task.title = `${title} ${uuid}: ${outcomeName(record.state)}`
          if (record.state !== 'completed') throw new OutcomeNotSuccessful(task.title)
        },
        rendererOptions: {persistentOutput: true, outputBar: 3},
      },
    ],
    {
      renderer: quiet ? 'silent' : 'default',
      fallbackRenderer: 'simple',
      // The command owns SIGINT: it stops the operation cleanly instead of listr2 killing the process.
      registerSignalListeners: false,
      rendererOptions: {logger, processOutput} as never,
      fallbackRendererOptions: {logger} as never,
      exitOnError: true,
    },
  )
  try {
    await tasks.run()
  } catch (error) {
    // The outcome is the record's to report (exit code, error line): only the task's mark changed.
    if (!(error instanceof OutcomeNotSuccessful)) throw error
  }

  if (!record) throw new Error('the operation did not report an outcome')
  return record
}

function describeEvent(event: ProgressEvent): string | undefined {
  switch (event.kind) {
  case 'step': {
    return event.account ? `${event.account}: ${event.message}` : event.message
  }

  case 'warning': {
    return `warning: ${event.account ? `${event.account}: ` : ''}${event.message}`
  }

  default: {
    return undefined
  }
  }
}
