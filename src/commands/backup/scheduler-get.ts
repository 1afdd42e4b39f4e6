import {Args, type Command} from '@oclif/core'

import type {ScheduledJob} from '../../engine/schedule/scheduled-jobs.js'

import {BaseCommand} from '../../cli/base-command.js'
import {describeSchedule} from '../../cli/schedule-view.js'
import {scheduleScope} from '../../engine/schedule/schedule-scope.js'
import {getSchedule, type ScheduleView} from '../../engine/schedule/schedule-store.js'

/** `backup scheduler <job> get global|server [<host>]`, one command per scheduled job. */
export function schedulerGetCommand(job: ScheduledJob): Command.Class {
  return class SchedulerGet extends BaseCommand {
    static override summary = `Show when the daemon runs ${job.name}: pattern, switch, where each comes from, next run.`
    static override description
      = 'A server without its own value inherits the global one, which falls back to the default. The pattern is '
        + "in the server's local time."
    static override examples = [
      `<%= config.bin %> backup scheduler ${job.name} get global`,
      `<%= config.bin %> backup scheduler ${job.name} get server mail1.example.com --json`,
    ]
    static override args = {
      level: Args.string({description: 'global or server', required: true}),
      host: Args.string({description: 'server name (server level; default: this server)'}),
    }

    async run(): Promise<ScheduleView> {
      const {args} = await this.parse(SchedulerGet)
      const scope = scheduleScope(args.level, args.host, this.server)
      const view = await getSchedule(await this.catalog(), scope, job)
      for (const line of describeSchedule(view)) this.log(line)
      return view
    }
  }
}
