import {describeSource, type ScheduleView} from '../engine/schedule/schedule-store.js'

/** A schedule in a few lines: pattern and switch with where each comes from, then when it runs next. */
export function describeSchedule(view: ScheduleView): string[] {
  const where = view.level === 'global' ? 'global' : `server ${view.target}`
  const lines = [
    `${view.job} schedule at ${where} (run by the daemon's ${view.service} as ${view.operationType})`,
    `  pattern: ${view.pattern.value} (${origin(view.pattern)})`,
    `  enabled: ${view.enabled.value} (${origin(view.enabled)})`,
    `  next run: ${view.nextRun ? localAndUtc(view.nextRun) : 'none (switched off)'}`,
  ]
  if (view.daemon === null) lines.push(`  daemon: has never run on ${view.target}; nothing is scheduled until it runs (carbonio backup daemon)`)
  else if (view.daemon && !view.daemon.alive) lines.push(`  daemon: not running on ${view.target}; nothing runs until it starts again`)
  else if (view.daemon) lines.push(`  daemon: ${view.service} ${view.daemon.state}${view.daemon.nextRun ? `, next run ${localAndUtc(view.daemon.nextRun)}` : ''}`)
  return lines
}

function origin(setting: ScheduleView['pattern'] | ScheduleView['enabled']): string {
  const source = describeSource(setting.source)
  if (setting.source === 'default') return 'default'
  return setting.inherited ? `inherited from ${source}` : `set at ${source}`
}

/** Cron patterns are in the server's local time: show that first, with the UTC instant for scripts and logs. */
function localAndUtc(iso: string): string {
  const date = new Date(iso)
  const local = `${two(date.getDate())}/${two(date.getMonth() + 1)}/${date.getFullYear()} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
  const day = date.toLocaleDateString('en-GB', {weekday: 'short'})
  return `${day} ${local} local time (${iso})`
}

function two(n: number): string {
  return String(n).padStart(2, '0')
}
