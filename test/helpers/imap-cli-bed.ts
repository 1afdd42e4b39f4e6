// A test bed for CLI tests of the restores against the shared test Dovecot: a fresh catalog configured for it (master
// user, 0600 password file, an accounts command listing only this bed's domain), users made on demand with one
// password, separate imapflow clients logged in as the users themselves, and a provisioning script that creates a
// user the way an administrator's backupProvisioningCommand would (a passwd-file line and a reload).
import {ImapFlow} from 'imapflow'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {getTestDovecot, type TestDovecot, uniqueDomain} from '../setup/dovecot-server.js'
import {openTestCatalog, type TestCatalog} from './test-catalog.js'

export const GLOBAL = {level: 'global' as const, target: ''}
export const USER_PASSWORD = 'pw-7c1'

export interface ImapCliBed {
  dovecot: TestDovecot
  domain: string
  t: TestCatalog
  /** A script taking the address as $1 that adds the user (password USER_PASSWORD) and reloads Dovecot. */
  provisionScript: string
  user(name: string): Promise<string>
  client(address: string): Promise<ImapFlow>
  /** Logs every client out (before an account is removed from the server). */
  closeClients(): Promise<void>
  cleanup(): Promise<void>
}

export async function imapCliBed(): Promise<ImapCliBed> {
  const dovecot = await getTestDovecot()
  const domain = uniqueDomain()
  const t = await openTestCatalog('sqlite')
  const passwordFile = path.join(t.home, 'imap-password')
  writeFileSync(passwordFile, `${dovecot.masterPassword}\n`, {mode: 0o600})
  await setAttribute(t.catalog, GLOBAL, 'backupAppServerUrl', dovecot.url)
  await setAttribute(t.catalog, GLOBAL, 'backupAppServerUser', dovecot.masterUser)
  await setAttribute(t.catalog, GLOBAL, 'backupAppServerPasswordFile', passwordFile)
  await setAttribute(t.catalog, GLOBAL, 'backupAccountsCommand', dovecot.directoryCommand(domain))
  const provisionScript = path.join(t.home, 'provision.sh')
  writeFileSync(provisionScript, [
    '#!/bin/sh',
    'set -e',
    `printf '%s:{PLAIN}%s::::::\\n' "$1" '${USER_PASSWORD}' >> '${path.join(dovecot.dir, 'users')}'`,
    `doveadm -c '${dovecot.configFile}' reload`,
    '',
  ].join('\n'), {mode: 0o700})
  const clients: ImapFlow[] = []
  const closeClients = async () => {
    await Promise.all(clients.splice(0).map(client => client.logout().catch(() => client.close())))
  }

  return {
    dovecot,
    domain,
    t,
    provisionScript,
    async user(name) {
      const address = `${name}@${domain}`
      await dovecot.addUser(address, USER_PASSWORD)
      return address
    },
    async client(address) {
      const client = new ImapFlow({
        host: dovecot.host, port: dovecot.port, secure: false, auth: {user: address, pass: USER_PASSWORD}, logger: false, disableAutoIdle: true,
      })
      client.on('error', () => {})
      await client.connect()
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
