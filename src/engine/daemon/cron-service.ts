import {Cron} from 'croner'

import type {Catalog} from '../catalog/catalog.js'
import type {ScheduledJob} from '../schedule/scheduled-jobs.js'
import type {DaemonLog} from './realtime-service.js'
import type {ServiceName, ServiceReport} from './services.js'

import {outcomeName} from '../operations/operation-state.js'
import {type OperationWork, runOperation} from '../operations/run-operation.js'
import {failureMessage} from '../storage-errors.js'

export interface CronJobSpec {
  name: ServiceName
  /** The job and the attributes of its schedule (pattern and switch). */
  job: ScheduledJob
  /** The work, or the reason it cannot run on this server's configuration. */
  work(config: Map<string, null | string>): OperationWork | {unavailable: string}
  /**
   * A run that fires later than this after its time is a missed run (the machine was suspended, the process
   * stalled) and is not run late. Croner's timers run on the monotonic clock and fire once on waking.
   */
  lateToleranceMs?: number
}

const LATE_TOLERANCE_MS = 60_000

/**
 * A scheduled service of the daemon (smartscan-cron, purge-cron, coherency-cron): follows its pattern and switch
 * attributes live, runs its job as an ordinary operation, so a run waits in the queue behind a running one and shows
 * in getAllOperations. A run missed while the daemon was down (or asleep) is not run late; a run due while the
 * previous one is still queued or running is skipped.
 */
export class CronService {
  private cron?: Cron
  private pattern?: string
  private enabled = false
  private configured = false
  /** When the current schedule fires next, as seen before it fires: tells a late firing from a due one. */
  private due: Date | null = null
  private config = new Map<string, null | string>()
  private active?: Promise<void>
  private controller?: AbortController
  private message?: string
  private lastRun: Record<string, unknown> = {}
  private failure?: string
  private readonly lateToleranceMs: number

  constructor(
    private readonly catalog: Catalog,
    private readonly server: string,
    private readonly spec: CronJobSpec,
    private readonly log: DaemonLog,
  ) {
    this.lateToleranceMs = spec.lateToleranceMs ?? LATE_TOLERANCE_MS
  }

  get status(): ServiceReport {
    const next = this.cron?.nextRun()
    let state: ServiceReport['state'] = 'idle'
    if (this.active) state = 'running'
    else if (!this.cron) state = 'disabled'
    else if (this.failure) state = 'failing'
    return {
      name: this.spec.name,
      state,
      detail: {
        pattern: this.pattern ?? null,
        enabled: this.enabled,
        nextRun: next ? next.toISOString() : null,
        ...(this.message ? {message: this.message} : {}),
        ...(this.failure ? {error: this.failure} : {}),
        ...this.lastRun,
      },
    }
  }

  /** Called at every reconcile: (re)schedules when the pattern or the switch changed, never runs anything late. */
  reconcile(config: Map<string, null | string>): void {
    this.config = config
    const {enabledAttribute, patternAttribute} = this.spec.job
    const pattern = config.get(patternAttribute) ?? undefined
    const enabled = config.get(enabledAttribute) === 'true'
    if (this.configured && pattern === this.pattern && enabled === this.enabled) return
    this.configured = true
    this.cron?.stop()
    this.cron = undefined
    this.due = null
    this.pattern = pattern
    this.enabled = enabled
    if (!pattern || !enabled) {
      this.message = pattern ? `${enabledAttribute} is false` : `${patternAttribute} is not set`
      this.log(`${this.spec.name}: disabled (${this.message})${this.active ? '; the run in progress goes on' : ''}`)
      return
    }

    // A new job computes its first run from now: a time that passed while the daemon was down is not run.
    this.cron = new Cron(pattern, () => this.fire())
    this.due = this.cron.nextRun()
    this.message = undefined
    this.log(`${this.spec.name}: scheduled "${pattern}", next run ${this.due?.toISOString() ?? 'never'}`)
  }

  /** Stops scheduling and interrupts a run in progress (or removes it from the queue), waiting for it to end. */
  async stop(): Promise<void> {
    this.cron?.stop()
    this.cron = undefined
    this.configured = false
    this.controller?.abort('interrupt')
    await this.active
  }

  private fire(): void {
    const {due} = this
    // Croner has just recorded this firing, so its next run is the one after now.
    this.due = this.cron?.nextRun() ?? null
    const lateMs = due ? Date.now() - due.getTime() : 0
    if (lateMs > this.lateToleranceMs) {
      this.log(`${this.spec.name}: the run due at ${due?.toISOString()} was missed (${Math.round(lateMs / 1000)} s late); it is not run late, next run ${this.due?.toISOString() ?? 'never'}`)
      return
    }

    if (this.active) {
      this.log(`${this.spec.name}: the previous run is still queued or running; the run due at ${due?.toISOString() ?? 'now'} is skipped`)
      return
    }

    const work = this.spec.work(this.config)
    if ('unavailable' in work) {
      this.message = work.unavailable
      this.log(`${this.spec.name}: ${work.unavailable}`)
      return
    }

    this.message = undefined
    this.active = this.runJob(work, due).finally(() => {
      this.active = undefined
    })
  }

  private async runJob(work: OperationWork, due: Date | null): Promise<void> {
    const {name} = this.spec
    const {operationType} = this.spec.job
    const controller = new AbortController()
    this.controller = controller
    try {
      const record = await runOperation(this.catalog, {
        type: operationType,
        server: this.server,
        parameters: {scheduled: true, pattern: this.pattern, due: due?.toISOString() ?? null},
        work,
        signal: controller.signal,
        observer: {
          created: r => this.log(`${name}: ${operationType} ${r.uuid} created`),
          waiting: ahead => this.log(`${name}: waiting behind ${ahead} operation(s)`),
        },
      })
      // In Carbonio's words for outcomes (Successful, Failed...), as every other place that reports an operation.
      const outcome = outcomeName(record.state)
      this.log(`${name}: ${operationType} ${record.uuid} ended ${outcome}${record.error ? `: ${record.error}` : ''}`)
      this.lastRun = {lastRun: record.uuid, lastOutcome: outcome, lastRunEnded: new Date(record.endedAt ?? Date.now()).toISOString()}
      this.failure = undefined
    } catch (error) {
      this.failure = failureMessage(error, this.catalog.home)
      this.log(`${name}: ${this.failure}`)
    } finally {
      this.controller = undefined
    }
  }
}
