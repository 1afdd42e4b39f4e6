import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {readdirSync} from 'node:fs'
import path from 'node:path'

import {message} from '../engine/smartscan/imap-scenario.js'
import {type ImapCliBed, imapCliBed, scanInProcess} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'
import {mountSmallVolume, type SmallVolume} from '../helpers/small-volume.js'

/** Incompressible, so that the export cannot fit where the gzip blobs would. */
function big(n: number): Buffer {
  return message(`big ${n}`, randomBytes(120 * 1024).toString('base64'))
}

/**
 * doExport into a volume that fills up: the line must name the export target, where space is missing, not the backup
 * (whose volume is fine and which the administrator would otherwise go and clean). A small tmpfs is the full
 * target, so this needs root and a kernel that lets it mount one.
 */
describe('backup doExport into a full volume', function () {
  this.timeout(60_000)
  let bed: ImapCliBed
  let small: SmallVolume | undefined
  let volume: string

  before(async function () {
    small = mountSmallVolume(this, 'cb-export-full-', '256k')
    volume = small.volume
    bed = await imapCliBed()
  })

  after(async () => {
    await bed?.cleanup()
    small?.remove()
  })

  it('names the export target and its fix in one line, and leaves no half-exported account', async () => {
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {INBOX: [{raw: big(1)}, {raw: big(2)}, {raw: big(3)}]})
    await scanInProcess(bed, alice)

    const target = path.join(volume, 'export')
    const full = await runCli(['backup', 'doExport', target, 'accounts', alice], bed.t.env)
    assert.equal(full.code, 1, full.stderr)
    const error = full.stderr.trim().split('\n').at(-1)!
    assert.match(error, new RegExp(`^doExport Failed: the export target ${target} is out of space \\(ENOSPC[^)]*\\): free space on its volume, or export to a larger one`))
    assert.doesNotMatch(error, /the backup at/)
    assert.deepEqual(readdirSync(target), [], 'no staging directory and no half-exported account')
  })
})
