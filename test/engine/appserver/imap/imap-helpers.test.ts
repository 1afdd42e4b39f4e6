import assert from 'node:assert/strict'
import {
  existsSync, mkdtempSync, readFileSync, rmSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {domainsOf, runAccountsCommand} from '../../../../src/engine/appserver/imap/accounts-command.js'
import {
  folderPathOf, itemIdOf, locatorOf, newFolderId, normalizeFlags, parseLocator,
} from '../../../../src/engine/appserver/imap/imap-identity.js'
import {uidSet} from '../../../../src/engine/appserver/imap/imap-session.js'
import {decodeWords, parseHeaders} from '../../../../src/engine/appserver/imap/message-headers.js'
import {eventually} from '../../../helpers/run-cli.js'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('IMAP connector helpers', () => {
  describe('accounts command', () => {
    it('takes the first word of each line, in lower case, once', async () => {
      const accounts = await runAccountsCommand(String.raw`printf 'Alice@Example.com\n\nbob@example.com extra\nalice@example.com\ncarol@other.test\n'`)
      assert.deepEqual(accounts, ['alice@example.com', 'bob@example.com', 'carol@other.test'])
      assert.deepEqual(domainsOf(accounts), ['example.com', 'other.test'])
    })

    it('skips what a directory command that exits 0 prints besides the accounts: warnings, errors, stray bytes', async () => {
      const accounts = await runAccountsCommand(String.raw`printf 'Warning: slow LDAP
alice@example.com
ERROR: account.SERVICE_FAILURE (system failure)
;;rm -rf

jdoe
bo.b+tag@example.com
'`)
      assert.deepEqual(accounts, ['alice@example.com', 'jdoe', 'bo.b+tag@example.com'])
    })

    it('reports a failing command in one line with its status and first error line', async () => {
      await assert.rejects(runAccountsCommand("echo 'zmprov: cannot connect' >&2; echo more >&2; exit 3"), {
        message: 'backupAccountsCommand failed (exit 3): zmprov: cannot connect',
      })
      await assert.rejects(runAccountsCommand(null), /backupAccountsCommand is not set/)
    })

    it('stopped while it hangs (SIGTERM of the daemon), leaves none of its processes running', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'cb-accounts-'))
      const pidFile = path.join(dir, 'pid')
      const controller = new AbortController()
      // A shell that waits for its child, as `su - zextras -c 'zmprov -l gaa'` does for a zmprov stuck on its LDAP.
      const running = runAccountsCommand(`sleep 30 & echo $! > ${pidFile}; wait`, controller.signal)
      await eventually('the command started', async () => (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() ? true : undefined), 5000)
      const pid = Number(readFileSync(pidFile, 'utf8'))
      controller.abort()
      await assert.rejects(running, {name: 'AbortError'})
      await eventually('its child gone', async () => (alive(pid) ? undefined : true), 5000)
      rmSync(dir, {recursive: true, force: true})
    })
  })

  describe('uidSet', () => {
    it('packs runs of UIDs', () => {
      assert.equal(uidSet([7, 1, 2, 3, 5, 9, 8, 2]), '1:3,5,7:9')
      assert.equal(uidSet([4]), '4')
    })
  })

  describe('identity', () => {
    it('names folders, items and locators so that a move or a new UIDVALIDITY keeps an item', () => {
      assert.equal(newFolderId(1_795_690_648, new Set()), 'f1795690648')
      assert.equal(newFolderId(7, new Set(['f7', 'f7.2'])), 'f7.3')
      assert.equal(itemIdOf('f7', 9, 12), 'f7/9/12')
      assert.deepEqual(parseLocator(locatorOf(9, 12)), {uidvalidity: 9, uid: 12})
      assert.equal(parseLocator('/opt/zextras/store/1-1.msg'), undefined)
      assert.equal(folderPathOf('Archive.2024', '.'), '/Archive/2024')
      assert.deepEqual(normalizeFlags([String.raw`\Seen`, String.raw`\Recent`, '$Label1', String.raw`\Seen`]), ['$Label1', String.raw`\Seen`])
    })
  })

  describe('headers', () => {
    it('keeps Message-ID, Subject, From, To and Date, unfolded and decoded', () => {
      const block = Buffer.from('Message-ID:\r\n <a@b>\r\nSubject: =?utf-8?B?R3LDvMOfZQ==?= =?iso-8859-1?Q?_aus_M=FCnchen?=\r\nFrom: Bob <bob@x>\r\n\r\n', 'latin1')
      assert.deepEqual(parseHeaders(block), {messageId: '<a@b>', subject: 'Grüße aus München', from: 'Bob <bob@x>'})
      assert.deepEqual(parseHeaders(), {messageId: null})
      assert.equal(decodeWords('=?x-unknown?B?AAAA?= plain'), '=?x-unknown?B?AAAA?= plain')
    })
  })
})
