import {Cron} from 'croner'

import type {Catalog} from '../catalog/catalog.js'
import {runOperation, type OperationWork} from '../operations/run-operation.js'
import type {DaemonLog} from './realtime-service.js'
import type {ServiceName, ServiceReport} from './services.js'

export interface CronJobSpec {
  name: ServiceName
  /** The attribute holding the cron pattern (backupPurgeScheduler, backupSmartScanScheduler). */
  patternAttribute: string
  operationType: string
  /** The work, or the reason it cannot run on this server's configuration. */
  work(config: Map<string, null | string>): OperationWork | {unavailable: string}
}

/**
 * A scheduled service of the daemon (purge-cron, smartscan-cron): runs its job as an ordinary operation, so a
 * run waits in the queue behind a running one and shows in getAllOperations. A run missed while the daemon was
 * down is not run late; a run due while the previous one is still going is skipped.
 */
export class CronService {
  private job?: Cron
  private pattern?: string
  private report: ServiceReport
  private running = false
  private config = new Map<string, null | string>()

  constructor(
    private readonly catalog: Catalog,
    private readonly server: string,
    private readonly spec: CronJobSpec,
    private readonly log: DaemonLog,
  ) {
    this.report = {name: spec.name, state: 'idle', detail: {}}
  }

  get status(): ServiceReport {
    const next = this.job?.nextRun()
    return {...this.report, detail: {...this.report.detail, pattern: this.pattern ?? null, nextRun: next ? next.toISOString() : null}}
  }

  reconcile(config: Map<string, null | string>): void {
    this.config = config
    const pattern = config.get(this.spec.patternAttribute) ?? undefined
    if (pattern === this.pattern) return
    this.job?.stop()
    this.pattern = pattern
    if (!pattern) {
      this.job = undefined
      this.report = {name: this.spec.name, state: 'disabled', detail: {message: `${this.spec.patternAttribute} is not set`}}
      return
    }

    this.job = new Cron(pattern, () => this.fire())
    this.report = {name: this.spec.name, state: 'idle', detail: {}}
    this.log(`${this.spec.name}: scheduled "${pattern}", next run ${this.job.nextRun()?.toISOString()}`)
  }

  stop(): void {
    this.job?.stop()
    this.job = undefined
    this.pattern = undefined
  }

  private async fire(): Promise<void> {
    if (this.running) {
      this.log(`${this.spec.name}: the previous run is still going; this one is skipped`)
      return
    }

    const work = this.spec.work(this.config)
    if ('unavailable' in work) {
      this.report = {name: this.spec.name, state: 'idle', detail: {message: work.unavailable}}
      this.log(`${this.spec.name}: ${work.unavailable}`)
      return
    }

    this.running = true
    this.report = {name: this.spec.name, state: 'running', detail: {}}
    try {
      const record = await runOperation(this.catalog, {
        type: this.spec.operationType,
        server: this.server,
        parameters: {scheduled: true},
        work,
        observer: {created: (r) => this.log(`${this.spec.name}: started ${this.spec.operationType} ${r.uuid}`)},
      })
      this.log(`${this.spec.name}: ${this.spec.operationType} ${record.uuid} ended ${record.state}${record.error ? `: ${record.error}` : ''}`)
      this.report = {name: this.spec.name, state: 'idle', detail: {lastRun: record.uuid, lastOutcome: record.state}}
    } catch (error) {
      this.report = {name: this.spec.name, state: 'failing', detail: {error: (error as Error).message}}
      this.log(`${this.spec.name}: ${(error as Error).message}`)
    } finally {
      this.running = false
    }
  }
}
