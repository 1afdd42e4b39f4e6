// Mocha root hooks (loaded through `require` in .mocharc.json). The test PostgreSQL starts lazily, on the first
// test that opens a postgres catalog (see postgres-server.ts), so a run that needs none never pays for it; this
// hook only makes sure it is stopped, and its directory removed, once every test has run.
import type {RootHookObject} from 'mocha'

import {stopTestDovecot} from './dovecot-server.js'
import {stopTestPostgres} from './postgres-server.js'

export const mochaHooks: RootHookObject = {
  async afterAll() {
    await stopTestPostgres()
    await stopTestDovecot()
  },
}
