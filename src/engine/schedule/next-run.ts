import {Cron} from 'croner'

/** When a cron pattern next fires after `after`, computed by the same library that the daemon schedules with. */
export function nextRunOf(pattern: string, after: Date = new Date()): Date | null {
  const job = new Cron(pattern, {paused: true})
  try {
    return job.nextRun(after)
  } finally {
    job.stop()
  }
}
