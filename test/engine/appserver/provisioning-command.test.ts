import assert from 'node:assert/strict'
import {
  existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {provisioningScript, runProvisioningCommand} from '../../../src/engine/appserver/provisioning-command.js'

describe('backupProvisioningCommand', () => {
  let dir: string

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'carbonio-provision-'))
  })

  afterEach(() => {
    rmSync(dir, {force: true, recursive: true})
  })

  it('passes the address as an argument, never as shell text: {account} and {domain}, or appended', async () => {
    assert.equal(provisioningScript('zmprov ca {account} x'), 'zmprov ca "$1" x')
    assert.equal(provisioningScript('/usr/local/bin/mkuser'), '/usr/local/bin/mkuser "$1"')
    const out = path.join(dir, 'out')
    const pwned = path.join(dir, 'pwned')
    const hostile = `a;touch ${pwned};$(touch ${pwned})@x.test`
    await runProvisioningCommand(`printf '%s|%s' {account} {domain} > ${out}`, hostile)
    assert.equal(readFileSync(out, 'utf8'), `${hostile}|x.test`)
    assert.equal(existsSync(pwned), false)

    const script = path.join(dir, 'mkuser.sh')
    writeFileSync(script, `printf '%s' "$1" > ${out}\n`)
    await runProvisioningCommand(`sh ${script}`, 'bob@x.test')
    assert.equal(readFileSync(out, 'utf8'), 'bob@x.test')
  })

  it('says in one line that the command failed, with its status and first stderr line', async () => {
    await assert.rejects(
      runProvisioningCommand('sh -c \'echo "account exists" >&2; echo more >&2; exit 3\'', 'bob@x.test'),
      {message: 'backupProvisioningCommand failed for bob@x.test (exit 3): account exists'},
    )
  })
})
