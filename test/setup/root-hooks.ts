// Mocha root hooks (loaded through `require` in .mocharc.json). The test PostgreSQL and Dovecot start lazily, on the
// first test that needs them (see postgres-server.ts, dovecot-server.ts), so a run that needs none never pays for
// them; this hook stops them, and removes their directories, once every test has run.
import type {RootHookObject} from 'mocha'

import {stopTestDovecot} from './dovecot-server.js'
import {stopTestPostgres} from './postgres-server.js'

export const mochaHooks: RootHookObject = {
  async afterAll() {
    // In a parallel run a worker runs these hooks after each of its files, not once: stopping there made every file
    // start its own servers again (an initdb each time, some 25 of them). The servers of a worker go when the worker
    // does (its exit handler, else the watchdog: see watchdog.ts).
    if (process.env.MOCHA_WORKER_ID !== undefined) return
    await stopTestPostgres()
    await stopTestDovecot()
  },
}
