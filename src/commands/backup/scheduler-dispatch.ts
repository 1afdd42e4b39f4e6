import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {UsageError} from '../../engine/errors.js'
import {findScheduledJob, JOB_NAMES} from '../../engine/schedule/scheduled-jobs.js'

const VERBS = ['get', 'set'] as const

/**
 * `backup scheduler <job> <verb> ...` when the words do not spell a command id exactly: job and verb in any case
 * (SMARTSCAN, Purge, GET), or an unknown job, which is refused naming the jobs instead of "command not found".
 * Hidden: help lists the per-job commands under the `backup scheduler` topic.
 */
export default class SchedulerDispatch extends BaseCommand {
  static override hidden = true
  static override summary = 'Read or set when the daemon runs a job (job and action in any case); see the commands below.'
  // Declared for the usage line of its errors; the command it forwards to parses them.
  static override args = {
    job: Args.string({description: JOB_NAMES.join(', '), required: true}),
    action: Args.string({description: 'get or set', required: true}),
    level: Args.string({description: 'global or server', required: true}),
    host: Args.string({description: 'server name (server level; default: this server)'}),
  }

  async run(): Promise<void> {
    // The command it forwards to parses the arguments; oclif would otherwise warn that this one did not.
    this.parsed = true
    const [jobWord, verbWord, ...rest] = this.argv
    const usage = `${this.config.bin} backup scheduler ${JOB_NAMES.join('|')} get|set global|server [<host>]`
    if (jobWord === undefined || jobWord.startsWith('-')) throw new UsageError(`name a scheduled job: ${usage}`)
    const job = findScheduledJob(jobWord)
    const verb = VERBS.find(v => v === verbWord?.toLowerCase())
    if (!verb) throw new UsageError(`${verbWord === undefined ? 'missing get or set' : `unknown action '${verbWord}': use get or set`} after ${job.name}: ${usage}`)
    // Its own result (and --json output) is the forwarded command's; returning nothing prints nothing twice.
    await this.config.runCommand(`backup:scheduler:${job.name}:${verb}`, rest)
  }
}
