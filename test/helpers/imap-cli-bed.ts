// Test beds against the shared test Dovecot. imapTestBed: a fresh catalog configured for it (master user, 0600
// password file, an accounts command listing only this bed's domain), users made on demand with one password, and
// separate imapflow clients logged in as the users themselves (not through the plugin). imapCliBed, for CLI tests of
// the restores, adds a provisioning script that creates a user the way an administrator's backupProvisioningCommand
// would (a passwd-file line and a reload). The SmartScan scenario (test/engine/smartscan/imap-scenario.ts) is built
// on imapTestBed too.
import {ImapFlow} from 'imapflow'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import type {OperationContext} from '../../src/engine/operations/run-operation.js'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {smartScan} from '../../src/engine/smartscan/smart-scan.js'
import {getTestDovecot, type TestDovecot, uniqueDomain} from '../setup/dovecot-server.js'
import {runCli} from './run-cli.js'
import {type Dialect, openTestCatalog, type TestCatalog} from './test-catalog.js'

export const GLOBAL = {level: 'global' as const, target: ''}
export const USER_PASSWORD = 'pw-7c1'

export interface ImapTestBed {
  dovecot: TestDovecot
  domain: string
  t: TestCatalog
  /** The master user's password file (0600) that backupAppServerPasswordFile names. */
  passwordFile: string
  /** A new user of this bed's domain: `<name>@<domain>`. */
  user(name: string): Promise<string>
  /** A separate IMAP client logged in as the user itself (not through the plugin), logged out by cleanup(). */
  client(address: string): Promise<ImapFlow>
  /** Logs every client out (before an account is removed from the server). */
  closeClients(): Promise<void>
  cleanup(): Promise<void>
}

export interface ImapCliBed extends ImapTestBed {
  /** A script taking the address as $1 that adds the user (password USER_PASSWORD) and reloads Dovecot. */
  provisionScript: string
}

/** A mail client of the user's own on the test Dovecot, connected (the caller logs it out). */
export async function userClient(dovecot: TestDovecot, user: string, password: string): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: dovecot.host, port: dovecot.port, secure: false, auth: {user, pass: password}, logger: false, disableAutoIdle: true,
  })
  client.on('error', () => {})
  await client.connect()
  return client
}

/** `dovecotOfTest`: a server of the test's own (startTestDovecot with other options) instead of the shared one. */
export async function imapTestBed(dialect: Dialect = 'sqlite', password = USER_PASSWORD, dovecotOfTest?: TestDovecot): Promise<ImapTestBed> {
  const dovecot = dovecotOfTest ?? await getTestDovecot()
  const domain = uniqueDomain()
  const t = await openTestCatalog(dialect)
  const passwordFile = path.join(t.home, 'imap-password')
  writeFileSync(passwordFile, `${dovecot.masterPassword}\n`, {mode: 0o600})
  await setAttribute(t.catalog, GLOBAL, 'backupAppServerUrl', dovecot.url)
  await setAttribute(t.catalog, GLOBAL, 'backupAppServerUser', dovecot.masterUser)
  await setAttribute(t.catalog, GLOBAL, 'backupAppServerPasswordFile', passwordFile)
  await setAttribute(t.catalog, GLOBAL, 'backupAccountsCommand', dovecot.directoryCommand(domain))
  const clients: ImapFlow[] = []
  const closeClients = async () => {
    await Promise.all(clients.splice(0).map(client => client.logout().catch(() => client.close())))
  }

  return {
    dovecot,
    domain,
    t,
    passwordFile,
    async user(name) {
      const address = `${name}@${domain}`
      await dovecot.addUser(address, password)
      return address
    },
    async client(address) {
      const client = await userClient(dovecot, address, password)
      clients.push(client)
      return client
    },
    closeClients,
    async cleanup() {
      await closeClients()
      await t.cleanup()
    },
  }
}

/**
 * `dovecotOfTest`: a server of the test's own (startTestDovecot with other options) instead of the shared one.
 * `userdbFields`: extra fields of the passwd-file line the provisioning script writes (userdb_quota_rule=...).
 */
export async function imapCliBed(dovecotOfTest?: TestDovecot, userdbFields = ''): Promise<ImapCliBed> {
  const bed = await imapTestBed('sqlite', USER_PASSWORD, dovecotOfTest)
  const provisionScript = path.join(bed.t.home, 'provision.sh')
  writeFileSync(provisionScript, [
    '#!/bin/sh',
    'set -e',
    `printf '%s:{PLAIN}%s::::::${userdbFields}\\n' "$1" '${USER_PASSWORD}' >> '${path.join(bed.dovecot.dir, 'users')}'`,
    `doveadm -c '${bed.dovecot.configFile}' reload`,
    '',
  ].join('\n'), {mode: 0o700})
  return {...bed, provisionScript}
}

/**
 * A SmartScan of one account in this process, which must not fail: the capture that CLI tests of the restores need
 * before the CLI runs they are about (each of those costs a node start).
 */
export async function scanInProcess(bed: ImapTestBed, account: string): Promise<void> {
  const report = await smartScan({
    catalog: bed.t.catalog, uuid: 'test', server: 'mail1', signal: new AbortController().signal, progress() {},
  }, {account})
  assert.deepEqual(report.failed, [])
}

/**
 * Points a backup home at the test Dovecot the way an administrator would, with `carbonio config set global`: the
 * master user, its password in a 0600 file in `dir`, and the accounts command.
 */
export async function configureAppServerByCli(env: NodeJS.ProcessEnv, dir: string, dovecot: TestDovecot, accountsCommand: string): Promise<void> {
  const passwordFile = path.join(dir, 'imap-password')
  writeFileSync(passwordFile, `${dovecot.masterPassword}\n`, {mode: 0o600})
  for (const [name, value] of [
    ['backupAppServerUrl', dovecot.url],
    ['backupAppServerUser', dovecot.masterUser],
    ['backupAppServerPasswordFile', passwordFile],
    ['backupAccountsCommand', accountsCommand],
  ]) {
    const set = await runCli(['config', 'set', 'global', name, value], env)
    assert.equal(set.code, 0, set.stderr)
  }
}

/** An operation's context for an engine call a test makes in its own process, on the bed's catalog. */
export function testOperation(bed: ImapTestBed, uuid: string): OperationContext {
  return {
    catalog: bed.t.catalog, uuid, server: 'mail1', signal: new AbortController().signal, progress() {},
  }
}
