import {Cron} from 'croner'
import {type Stats, statSync} from 'node:fs'
import path from 'node:path'

import {foreignOwnerOf} from '../password-file-owner.js'

/**
 * A value type turns what the user typed into the canonical stored string, or explains in one phrase why it
 * cannot (the caller adds the attribute name and the fix).
 */
export interface ValueType {
  /** Shown in `config dump` and in error messages: what a valid value looks like. */
  readonly expected: string
  normalize(raw: string): string
}

export class InvalidValue extends Error {}

/** LDAP-style booleans (TRUE/FALSE) for the Zx attributes, lower case for the newer ones, as Carbonio prints them. */
export function booleanType(style: 'lower' | 'upper'): ValueType {
  return {
    expected: style === 'upper' ? 'TRUE or FALSE' : 'true or false',
    normalize(raw) {
      const word = raw.trim().toLowerCase()
      if (word !== 'true' && word !== 'false') throw new InvalidValue(`'${raw}' is not a boolean`)
      return style === 'upper' ? word.toUpperCase() : word
    },
  }
}

export function integerType(min: number, max: number, unit = ''): ValueType {
  return {
    expected: `an integer from ${min} to ${max}${unit}`,
    normalize(raw) {
      const text = raw.trim()
      if (!/^\d+$/.test(text)) throw new InvalidValue(`'${raw}' is not a whole number`)
      const value = Number(text)
      if (value < min || value > max) throw new InvalidValue(`${value} is outside ${min}..${max}`)
      return String(value)
    },
  }
}

/** The longest retention in days: about 100 years, to catch typos. */
export const MAX_RETENTION_DAYS = 36_500

/** Retention in days; 0 means keep for ever, as in Carbonio. Capped to catch typos. */
export const daysType: ValueType = integerType(0, MAX_RETENTION_DAYS, ' days (0 = infinite)')

export const absolutePathType: ValueType = {
  expected: 'an absolute path',
  normalize(raw) {
    const text = raw.trim()
    if (!path.isAbsolute(text)) throw new InvalidValue(`'${raw}' is not an absolute path`)
    return path.normalize(text)
  },
}

/**
 * A directory that another program fills (the redolog): a path that is not one now is a typo or a missing mount, which
 * the daemon would otherwise follow as an empty feed. `what` says which directory is meant, for the fix.
 */
export function existingDirectoryType(what: string): ValueType {
  return {
    expected: `the absolute path of an existing directory (${what})`,
    normalize(raw) {
      const dir = absolutePathType.normalize(raw)
      let isDirectory: boolean
      try {
        isDirectory = statSync(dir).isDirectory()
      } catch {
        throw new InvalidValue(`${dir} does not exist (create or mount it first)`)
      }

      if (!isDirectory) throw new InvalidValue(`${dir} is not a directory (for a file in it, give ${path.dirname(dir)})`)
      return dir
    },
  }
}

/**
 * A secret must not be readable by others: refuse a password file that group or world can read, or that belongs to
 * another user than the backup's (foreignOwnerOf).
 */
export const privateFileType: ValueType = {
  expected: 'an absolute path to a file readable only by its owner (chmod 600)',
  normalize(raw) {
    const file = absolutePathType.normalize(raw)
    let stat: Stats
    try {
      stat = statSync(file)
    } catch {
      throw new InvalidValue(`${file} does not exist`)
    }

    if (!stat.isFile()) throw new InvalidValue(`${file} is not a regular file`)
    if ((stat.mode & 0o077) !== 0) throw new InvalidValue(`${file} is readable by others (run chmod 600 ${file})`)
    const foreign = foreignOwnerOf(file, stat.uid)
    if (foreign) throw new InvalidValue(foreign)
    return file
  },
}

/**
 * Cron patterns in the server's local time: the five classic fields (minute hour day month weekday). A sixth,
 * leading seconds field is accepted too, so that tests and demonstrations can schedule every few seconds.
 * croner's `?` (replaced by the time the job is created) is refused: a schedule would shift at every daemon start.
 */
export const cronType: ValueType = {
  expected: 'a cron pattern of five fields (minute hour day month weekday), e.g. "0 4 * * *"',
  normalize(raw) {
    const text = raw.trim().replaceAll(/\s+/g, ' ')
    const fields = text.split(' ').length
    if (fields !== 5 && fields !== 6) {
      throw new InvalidValue(`'${raw}' does not have five fields (a sixth, leading seconds field is also accepted)`)
    }

    if (text.includes('?')) throw new InvalidValue(`'${raw}' uses '?', which would change the schedule at every daemon start`)
    try {
      // Constructing a paused job validates the pattern with the same library the daemon schedules with.
      new Cron(text, {paused: true}).stop()
    } catch (error) {
      throw new InvalidValue(`'${raw}' is not a valid cron pattern (${(error as Error).message})`)
    }

    return text
  },
}

export const imapUrlType: ValueType = {
  expected: 'imap://host:port or imaps://host:port',
  normalize(raw) {
    let url: URL
    try {
      url = new URL(raw.trim())
    } catch {
      throw new InvalidValue(`'${raw}' is not a URL`)
    }

    if (url.protocol !== 'imap:' && url.protocol !== 'imaps:') {
      throw new InvalidValue(`'${url.protocol}' is not imap: or imaps:`)
    }

    if (url.username || url.password) {
      throw new InvalidValue('credentials do not belong in the URL (use backupAppServerUser and backupAppServerPasswordFile)')
    }

    return `${url.protocol}//${url.host}`
  },
}

export const nonEmptyText: ValueType = {
  expected: 'a non-empty string',
  normalize(raw) {
    if (raw.trim() === '') throw new InvalidValue('the value is empty')
    return raw.trim()
  },
}
