import {Args, type Command} from '@oclif/core'

import type {SetResult} from '../../engine/config/config-store.js'
import type {ScheduledJob} from '../../engine/schedule/scheduled-jobs.js'

import {BaseCommand} from '../../cli/base-command.js'
import {booleanParam, textParam} from '../../cli/params.js'
import {describeSchedule} from '../../cli/schedule-view.js'
import {scheduleScope} from '../../engine/schedule/schedule-scope.js'
import {type ScheduleView, setSchedule} from '../../engine/schedule/schedule-store.js'

/** `backup scheduler <job> set global|server [<host>] [enabled true|false] [pattern "<cron>"]`, one per job. */
export function schedulerSetCommand(job: ScheduledJob): Command.Class {
  return class SchedulerSet extends BaseCommand {
    static override summary = `Set when the daemon runs ${job.name}, or switch it on or off, at global or server level.`
    static override description
      = 'The pattern has five cron fields (minute hour day month weekday) in the server\'s local time; a sixth, '
        + 'leading seconds field is accepted. A running daemon follows the change within a second; a run whose time '
        + `passed while the daemon was down is not run late. Stored as ${job.patternAttribute} and `
        + `${job.enabledAttribute} (config unset makes a server inherit the global value again).`
    static override examples = [
      `<%= config.bin %> backup scheduler ${job.name} set global enabled true pattern "0 4 * * 6"`,
      `<%= config.bin %> backup scheduler ${job.name} set server mail1.example.com enabled false`,
    ]
    static override args = {
      level: Args.string({description: 'global or server', required: true}),
      host: Args.string({description: 'server name (server level; default: this server)'}),
    }
    static override flags = {
      enabled: booleanParam({description: `whether the daemon runs ${job.name} on its schedule`}),
      pattern: textParam({description: 'cron pattern, e.g. "0 4 * * *"', helpValue: '"<min> <hour> <day> <month> <weekday>"'}),
    }

    async run(): Promise<{changed: SetResult[]; ok: true; schedule: ScheduleView}> {
      const {args, flags} = await this.parse(SchedulerSet)
      const scope = scheduleScope(args.level, args.host, this.server)
      const result = await setSchedule(await this.catalog(), scope, job, {enabled: flags.enabled, pattern: flags.pattern})
      this.log('ok')
      for (const line of describeSchedule(result.schedule)) this.log(line)
      return {ok: true, ...result}
    }
  }
}
