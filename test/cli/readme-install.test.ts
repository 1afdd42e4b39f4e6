// The README's Install section is what an administrator types into a host `carbonio` CLI. plugin-plugins decides from
// the argument alone whether it names an npm package, a GitHub repository or a file, so the argument is checked here
// with the host's own parser: `./carbonio-backup-0.1.0.tgz` once sent npm to https://github.com/./carbonio-backup....
import {commands} from '@oclif/plugin-plugins'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {PROJECT_ROOT} from '../helpers/host-cli.js'

interface ParsedPlugin {
  name?: string
  type: string
  url?: string
}

/** The arguments of every `carbonio plugins install` in the README's Install section, as the shell hands them over. */
function readmeInstallArguments(cwd: string): string[] {
  const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8')
  const section = /^## Install\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? ''
  return [...section.matchAll(/^carbonio plugins install (\S+)/gm)].map(match => match[1].replaceAll('$PWD', cwd))
}

describe('the README install command', () => {
  it('names the packed tarball as a local file that plugin-plugins installs from, run where npm pack wrote it', async () => {
    const cwd = '/srv/carbonio-backup'
    const args = readmeInstallArguments(cwd)
    assert.ok(args.length > 0, 'no `carbonio plugins install` in the README Install section')
    const install = Object.create(commands['plugins:install'].prototype) as {parsePlugin(plugins: unknown, input: string): Promise<ParsedPlugin>}
    for (const arg of args) {
      const parsed = await install.parsePlugin(undefined, arg)
      // npm runs in the host's data directory: the tarball must be named by an absolute file: URL.
      assert.deepEqual(parsed, {type: 'repo', url: `file:${path.join(cwd, 'carbonio-backup-0.1.0.tgz')}`}, `README: carbonio plugins install ${arg}`)
    }
  })
})
