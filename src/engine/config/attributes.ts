import path from 'node:path'

import type {Level} from './levels.js'

import {UsageError} from '../errors.js'
import {closestName} from './closest-name.js'
import {
  absolutePathType, booleanType, cronType, daysType, existingDirectoryType, imapUrlType, integerType, InvalidValue, nonEmptyText,
  privateFileType, type ValueType,
} from './value-types.js'

export interface AttributeDefinition {
  readonly name: string
  readonly description: string
  /** The levels where a value may be set; reading at a lower level inherits from these. */
  readonly levels: readonly Level[]
  readonly type: ValueType
  /** Used when no level sets a value; undefined means "not configured". */
  readonly defaultValue?: string
  /** Something the administrator must know when setting this value (printed on stderr by `config set`). */
  notice?(value: string): string | undefined
  /** Why this value cannot be set on this backup (then `config set` stores nothing and fails with it). */
  refusal?(value: string, backup: {home: string}): string | undefined
}

const SERVER_WIDE: readonly Level[] = ['global', 'server']

/** How the IMAP connector logs in to each account with the admin credential (backupAppServerLoginMode). */
export const LOGIN_MODES = ['sasl-authzid', 'master-separator'] as const
export type LoginMode = (typeof LOGIN_MODES)[number]

/** One of a few words, in any case. */
function oneOfType(words: readonly string[]): ValueType {
  return {
    expected: words.join(' or '),
    normalize(raw) {
      const word = raw.trim().toLowerCase()
      if (!words.includes(word)) throw new InvalidValue(`'${raw}' is not ${words.join(' or ')}`)
      return word
    },
  }
}

export const BLOBLESS_PREREQUISITE
  = 'Blobless mode keeps no message content in the backup: restores read it from the AppServer, whose blobs must '
    + 'sit on local or centralised volumes, never on independent third-party volumes.'

/** Every attribute the plugin knows. Unknown names are refused with the closest of these. */
export const ATTRIBUTES: readonly AttributeDefinition[] = [
  {
    name: 'ZxBackup_RealTimeScanner',
    description: 'Run the Realtime Scanner, which records every mailbox transaction as it happens.',
    levels: SERVER_WIDE,
    type: booleanType('upper'),
    defaultValue: 'TRUE',
  },
  {
    name: 'backupBloblessMode',
    description: 'Keep metadata and the whole history but copy no item content into the backup.',
    levels: SERVER_WIDE,
    type: booleanType('lower'),
    defaultValue: 'false',
    notice: value => (value === 'true' ? BLOBLESS_PREREQUISITE : undefined),
  },
  {
    name: 'ZxBackup_DataRetentionDays',
    description: 'Days a deleted item stays in the backup before Purge removes it (0 = infinite).',
    levels: SERVER_WIDE,
    type: daysType,
    defaultValue: '30',
  },
  {
    name: 'backupAccountsRetentionDays',
    description: 'Days a deleted account stays in the backup before Purge removes it (0 = infinite).',
    levels: SERVER_WIDE,
    type: daysType,
    defaultValue: '30',
  },
  {
    name: 'ZxBackup_DestPath',
    description: 'The backup path: catalog and blob store, found through CARBONIO_BACKUP_HOME or the default path. '
      + 'Setting another path than where the backup is now is refused, with how to move it there.',
    levels: SERVER_WIDE,
    type: absolutePathType,
    // The catalog that would hold the value lives in the backup path: the value could never say where to find it, and
    // pointing the blob store elsewhere would leave every stored message behind.
    refusal: (value, {home}) => (path.resolve(value) === path.resolve(home)
      ? undefined
      : `ZxBackup_DestPath cannot move the backup, which is at ${home}: stop the daemon, move that directory to ${value}, `
        + `and set CARBONIO_BACKUP_HOME=${value} for the daemon (Environment= in its unit) and for the carbonio commands`),
  },
  {
    name: 'backupCompressionLevel',
    description: 'gzip level of blobs in the backup (0 = store, 9 = smallest).',
    levels: SERVER_WIDE,
    type: integerType(0, 9),
    defaultValue: '6',
  },
  {
    name: 'backupEnabled',
    description: 'Whether the accounts of this COS, or this account, are backed up. false: SmartScan and the realtime '
      + 'capture leave the account out (within a minute), the redolog scanner skips its changes and marks it uncertain; '
      + 'what the backup holds of it stays.',
    levels: ['cos', 'account'],
    type: booleanType('lower'),
    defaultValue: 'true',
  },
  // Schedules (carbonio backup scheduler <job> get|set): a pattern and a switch per job, so that switching a job
  // off keeps its pattern for when it is switched on again.
  {
    name: 'backupSmartScanScheduler',
    description: 'When the daemon runs SmartScan (cron pattern, local time).',
    levels: SERVER_WIDE,
    type: cronType,
    defaultValue: '0 4 * * *',
  },
  {
    name: 'backupSmartScanSchedulerEnabled',
    description: 'Whether the daemon runs SmartScan on its schedule.',
    levels: SERVER_WIDE,
    type: booleanType('lower'),
    defaultValue: 'true',
  },
  {
    name: 'backupPurgeScheduler',
    description: 'When the daemon runs Purge (cron pattern, local time).',
    levels: SERVER_WIDE,
    type: cronType,
    defaultValue: '0 4 * * 6',
  },
  {
    name: 'backupPurgeSchedulerEnabled',
    description: 'Whether the daemon runs Purge on its schedule.',
    levels: SERVER_WIDE,
    type: booleanType('lower'),
    defaultValue: 'true',
  },
  {
    name: 'backupCoherencyCheckScheduler',
    description: 'When the daemon runs the Coherency Check (cron pattern, local time): monthly, after the nightly SmartScan.',
    levels: SERVER_WIDE,
    type: cronType,
    defaultValue: '0 5 1 * *',
  },
  {
    name: 'backupCoherencyCheckSchedulerEnabled',
    description: 'Whether the daemon runs the Coherency Check on its schedule (off by default: it reads every blob).',
    levels: SERVER_WIDE,
    type: booleanType('lower'),
    defaultValue: 'false',
  },
  {
    name: 'backupAppServerUrl',
    description: 'The AppServer to back up, as imap://host:port or imaps://host:port.',
    levels: SERVER_WIDE,
    type: imapUrlType,
  },
  {
    name: 'backupAppServerUser',
    description: 'The admin or master user that opens every account on the AppServer.',
    levels: SERVER_WIDE,
    type: nonEmptyText,
  },
  {
    name: 'backupAppServerPasswordFile',
    description: "A file (mode 0600) holding that user's password; the password itself is never stored.",
    levels: SERVER_WIDE,
    type: privateFileType,
  },
  {
    name: 'backupAppServerLoginMode',
    description: 'How that user opens an account: SASL PLAIN with the account as authorization identity '
      + '(sasl-authzid: Carbonio admins, Dovecot master users), or the login name <account>*<user> '
      + '(master-separator: Dovecot with auth_master_user_separator = *).',
    levels: SERVER_WIDE,
    type: oneOfType(LOGIN_MODES),
    defaultValue: 'sasl-authzid',
  },
  {
    name: 'backupRedologPath',
    description: 'The directory of the redolog that a mailbox-server extension writes (docs/redolog.md).',
    levels: SERVER_WIDE,
    type: existingDirectoryType('the one the mailbox-server extension writes the redolog files to'),
  },
  {
    name: 'backupAccountsCommand',
    description: "A command printing one account per line (zmprov -l gaa, doveadm user '*').",
    levels: SERVER_WIDE,
    type: nonEmptyText,
  },
  {
    name: 'backupProvisioningCommand',
    description: 'A command that creates a missing account on the AppServer for a restore, run by /bin/sh with the '
      + 'address as an argument, never pasted into the command text: {account} (unquoted) stands for it, or it is '
      + 'appended; {domain} stands for its domain (zmprov ca {account} \'\' creates it without a password).',
    levels: SERVER_WIDE,
    type: nonEmptyText,
  },
]

const BY_LOWER_NAME = new Map(ATTRIBUTES.map(a => [a.name.toLowerCase(), a]))

/** Finds an attribute case-insensitively (LDAP attribute names are), or fails naming the closest one. */
export function findAttribute(name: string): AttributeDefinition {
  const attribute = BY_LOWER_NAME.get(name.toLowerCase())
  if (attribute) return attribute
  const suggestion = closestName(name, ATTRIBUTES.map(a => a.name))
  throw new UsageError(`unknown attribute '${name}'${suggestion ? `: did you mean ${suggestion}?` : ''}`)
}

export function requireLevel(attribute: AttributeDefinition, level: Level): void {
  if (!attribute.levels.includes(level)) {
    throw new UsageError(`${attribute.name} cannot be set at ${level} level: set it at ${attribute.levels.join(' or ')} level`)
  }
}
