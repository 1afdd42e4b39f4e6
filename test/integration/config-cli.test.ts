import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {RUN_JS, runCli} from '../helpers/run-cli.js'

/** The "done when", through the real CLI: both config syntaxes, inheritance, errors and exit codes. */
describe('config from the command line', function () {
  this.timeout(60_000)
  let home: string
  let env: NodeJS.ProcessEnv

  beforeEach(() => {
    home = path.join(mkdtempSync(path.join(tmpdir(), 'cb-cfg-')), 'backup')
    env = {CARBONIO_BACKUP_HOME: home, CARBONIO_BACKUP_SERVER: 'mail1.example.com'}
  })

  afterEach(() => rmSync(path.dirname(home), {recursive: true, force: true}))

  it('sets a server attribute, prints ok, and reads it back as not inherited', async () => {
    const set = await runCli(['config', 'set', 'server', 'mail1.example.com', 'ZxBackup_RealTimeScanner', 'FALSE'], env)
    assert.equal(set.code, 0, set.stderr)
    assert.equal(set.stdout, 'ok\n')
    const get = await runCli(['config', 'get', 'server', 'mail1.example.com', 'ZxBackup_RealTimeScanner', '--json'], env)
    assert.equal(get.code, 0, get.stderr)
    const value = JSON.parse(get.stdout)
    assert.equal(value.value, 'FALSE')
    assert.equal(value.inherited, false)
    assert.deepEqual(value.source, {level: 'server', target: 'mail1.example.com'})
    // The backup home was created private on first use.
    assert.equal(statSync(home).mode & 0o777, 0o700)
    assert.equal(statSync(path.join(home, 'catalog.sqlite')).mode & 0o777, 0o600)
  })

  // The catalog that would hold the value is in the backup path: storing it moved nothing, and said nothing.
  it('refuses a ZxBackup_DestPath other than where the backup is, saying how to move it; accepts where it is', async () => {
    const elsewhere = path.join(path.dirname(home), 'bigger-volume')
    const refused = await runCli(['config', 'set', 'global', 'ZxBackup_DestPath', elsewhere], env)
    assert.equal(refused.code, 2)
    assert.equal(refused.stderr.split('\n')[0], `Error: ZxBackup_DestPath cannot move the backup, which is at ${home}: stop the daemon, move that `
      + `directory to ${elsewhere}, and set CARBONIO_BACKUP_HOME=${elsewhere} for the daemon (Environment= in its unit) and for the carbonio commands`)
    const stored = JSON.parse((await runCli(['config', 'get', 'global', 'ZxBackup_DestPath', '--json'], env)).stdout)
    assert.equal(stored.value, null)
    assert.equal((await runCli(['config', 'set', 'global', 'ZxBackup_DestPath', home], env)).code, 0)
  })

  it('takes the legacy syntax and says where an inherited value comes from', async () => {
    const set = await runCli(['config', 'global', 'set', 'attribute', 'backupBloblessMode', 'value', 'true'], env)
    assert.equal(set.code, 0, set.stderr)
    assert.equal(set.stdout, 'ok\n')
    assert.match(set.stderr, /local or centralised volumes/)
    const get = await runCli(['config', 'get', 'server', 'mail1.example.com', 'backupBloblessMode'], env)
    assert.equal(get.stdout, 'backupBloblessMode: true (inherited from global)\n')
    const legacy = await runCli(['config', 'server', 'set', 'mail1.example.com', 'attribute', 'backupBloblessMode', 'value', 'false'], env)
    assert.equal(legacy.code, 0, legacy.stderr)
    const own = await runCli(['config', 'server', 'get', 'mail1.example.com', 'attribute', 'backupBloblessMode'], env)
    assert.equal(own.stdout, 'backupBloblessMode: false (set at server mail1.example.com)\n')
    const unset = await runCli(['config', 'unset', 'server', 'mail1.example.com', 'backupBloblessMode'], env)
    assert.equal(unset.code, 0)
    const dump = await runCli(['config', 'dump', 'server', 'mail1.example.com', '--json'], env)
    const blobless = JSON.parse(dump.stdout).attributes.find((a: any) => a.attribute === 'backupBloblessMode')
    assert.deepEqual([blobless.value, blobless.inherited], ['true', true])
  })

  const refusals: Array<[string, string[], RegExp]> = [
    ['an unknown attribute', ['config', 'set', 'global', 'backupBlobless', 'true'], /unknown attribute 'backupBlobless': did you mean backupBloblessMode\?/],
    ['a bad value', ['config', 'set', 'global', 'ZxBackup_DataRetentionDays', 'forever'], /invalid value for ZxBackup_DataRetentionDays: 'forever' is not a whole number/],
    ['a wrong level', ['config', 'set', 'server', 'mail1', 'backupEnabled', 'false'], /backupEnabled cannot be set at server level/],
    ['a missing target', ['config', 'get', 'server', 'ZxBackup_RealTimeScanner'], /missing parameters for the server level/],
    // The global level takes no target: its error shows the global form, not the one with a target.
    ['a missing global value', ['config', 'set', 'global', 'backupCompressionLevel'], /missing parameters for the global level: config set global <attribute> <value>\n/],
    ['an unknown level', ['config', 'get', 'planet', 'x', 'y'], /unknown level 'planet'/],
    ['a leftover word', ['backup', 'doPurge', 'purgeDays', '3', 'now'], /unexpected parameter 'now'/],
    ['a bad number', ['backup', 'doPurge', 'purgeDays', 'x'], /purgeDays must be a whole number/],
    // oclif's table of missing arguments, on one line, read "destination an existing, empty account...: date ...".
    [
      'missing arguments',
      ['backup', 'doRestoreOnNewAccount', 'alice@example.com'],
      /^Error: missing <destination> \(an existing, empty account on the mail server\) and <date> \("dd\/MM\/yyyy HH:mm:ss", ISO 8601 or last\)\n/,
    ],
    ['a missing legacy value', ['config', 'global', 'set', 'attribute', 'backupBloblessMode'], /Missing required flag value/],
    [
      'a redolog path that does not exist',
      ['config', 'set', 'server', 'mail1', 'backupRedologPath', '/nonexistent/redolog'],
      new RegExp(String.raw`invalid value for backupRedologPath: /nonexistent/redolog does not exist \(create or mount it first\); `
        + String.raw`expected the absolute path of an existing directory \(the one the mailbox-server extension writes the redolog files to\)`),
    ],
    [
      'a redolog path that is a file',
      ['config', 'set', 'server', 'mail1', 'backupRedologPath', RUN_JS],
      new RegExp(`invalid value for backupRedologPath: ${RUN_JS} is not a directory \\(for a file in it, give ${path.dirname(RUN_JS)}\\)`),
    ],
  ]
  for (const [what, args, message] of refusals) {
    it(`refuses ${what} with one error line, the usage and exit 2, storing nothing`, async () => {
      const result = await runCli(args, env)
      assert.equal(result.code, 2, result.stderr)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, message)
      assert.match(result.stderr, /Usage: carbonio /)
      assert.doesNotMatch(result.stderr, /at .*\.js:\d+/, 'no stack trace')
      const dump = await runCli(['config', 'dump', 'global', '--json'], env)
      assert.ok(JSON.parse(dump.stdout).attributes.every((a: any) => a.source === 'default' || a.source === null))
    })
  }

  it('keeps the exit code under --json and prints the error as JSON on stdout', async () => {
    const result = await runCli(['config', 'set', 'global', 'nope', '1', '--json'], env)
    assert.equal(result.code, 2)
    const parsed = JSON.parse(result.stdout)
    assert.equal(parsed.error.exitCode, 2)
    assert.match(parsed.error.message, /^unknown attribute 'nope'/)
  })

  it('answers verbs in lower case and in any case, and suggests the verb on a typo', async () => {
    assert.equal((await runCli(['backup', 'getalloperations', '--json'], env)).code, 0)
    const mixed = await runCli(['backup', 'GetAllOperations', 'all', 'true', '--json'], env)
    assert.equal(mixed.code, 0, mixed.stderr)
    assert.deepEqual(JSON.parse(mixed.stdout).operations, [])
    const typo = await runCli(['backup', 'doPurj'], env)
    assert.equal(typo.code, 2)
    assert.match(typo.stderr, /command backup doPurj not found: did you mean 'backup doPurge'\?/)
  })

  it('lists both topics in --help', async () => {
    const help = await runCli(['--help'], env)
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^\s+backup\s+Back up mailboxes/m)
    assert.match(help.stdout, /^\s+config\s+Read and set backup attributes/m)
  })
})
