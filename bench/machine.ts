import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {cpus, totalmem} from 'node:os'

/** The machine a benchmark ran on, stored with its results so figures are never quoted without it. */
export function describeMachine(): Record<string, unknown> {
  let disk = ''
  try {
    disk = execFileSync('df', ['-h', '--output=source,size,avail', process.cwd()], {encoding: 'utf8'}).trim().split('\n').pop() ?? ''
  } catch {
    disk = 'unknown'
  }

  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / (2 ** 30)),
    node: process.version,
    disk,
    loadAverageAtStart: execFileSync('cat', ['/proc/loadavg'], {encoding: 'utf8'}).trim(),
    date: new Date().toISOString(),
  }
}

/** The 1, 5 and 15 minute load averages, noted next to every timing. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
}
