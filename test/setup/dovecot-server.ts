// A throwaway Dovecot (Debian's dovecot-imapd 2.3) for the IMAP tests: its own config, state, logs and Maildirs in a
// temporary directory, IMAP without TLS on 127.0.0.1 and a free port, passwd-file users and a master user. Started
// at most once per test process, on the first test that asks for it, and stopped by the root hooks
// (test/setup/root-hooks.ts); a watchdog stops it if mocha is killed.
//
// Tests share the server: each one makes its own users in its own domain (uniqueDomain()), and lists them with
// directoryCommand(domain), so a SmartScan of "every account" sees only that test's accounts.
import {execFile, spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {
  chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, utimesSync, writeFileSync,
} from 'node:fs'
import {connect, createServer} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'

import {sharedServer} from './shared-server.js'
import {watchOver} from './watchdog.js'

const run = promisify(execFile)

const INSTALL_HINT = 'Dovecot is needed by the IMAP tests and is not installed: apt-get install dovecot-imapd'
const DOVECOT = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'].find(file => existsSync(file))
const DOVEADM = ['/usr/bin/doveadm', '/usr/local/bin/doveadm'].find(file => existsSync(file))

export interface TestMessage {
  /** The exact bytes of the message (CRLF line ends, as IMAP delivers them). */
  raw: Buffer | string
  /** IMAP system flags (\Seen, \Flagged, \Answered, \Draft, \Deleted); keywords need IMAP (STORE). */
  flags?: string[]
  /** INTERNALDATE: the file's mtime in a Maildir. */
  internalDate?: Date
}

export interface TestDovecot {
  readonly host: string
  readonly port: number
  /** imap://127.0.0.1:<port>, what backupAppServerUrl gets. */
  readonly url: string
  readonly dir: string
  readonly configFile: string
  readonly masterUser: string
  readonly masterPassword: string
  /** With the tls option: the imaps port (the imap one then offers STARTTLS with the same certificate). */
  readonly tlsPort?: number
  /** Milliseconds it took to have the server ready. */
  readonly startMs: number
  /** The accounts command for backupAccountsCommand: `doveadm -c <conf> user '*@<domain>'` (every user without a domain). */
  directoryCommand(domain?: string): string
  /**
   * Adds (or changes the password of) a user. Dovecot looks at a changed passwd-file at most once a second, so this
   * reloads it (`doveadm reload`, which keeps open sessions) and returns once the user can be looked up.
   */
  addUser(name: string, password?: string): Promise<void>
  removeUser(name: string): Promise<void>
  /** Runs doveadm against this server and returns its stdout. */
  doveadm(args: string[]): Promise<string>
  /** The user's Maildir (INBOX); other folders are `.<path with dots>` inside it (Maildir++). */
  maildirOf(user: string): string
  /**
   * Writes messages as Maildir files and runs `doveadm force-resync` (about 4x faster than IMAP APPEND): folder
   * paths use "/" as the separator ("INBOX", "Archive/2024").
   */
  loadMessages(user: string, folders: Record<string, TestMessage[]>): Promise<void>
  /**
   * Switches Dovecot's login processes (and reloads; open sessions stay): 'high-security', Debian's default, forks an
   * imap-login and an imap process per connection; 'high-performance' serves many logins from each imap-login
   * (service_count = 0, as Dovecot recommends for servers with many logins) and up to 100 sessions one after another
   * from each imap process (service_count = 100: every user here has the same system UID, as virtual users usually
   * do). The benchmark's sweep of 100 accounts measures both.
   */
  setLoginProcesses(mode: LoginProcesses): Promise<void>
  /** Stops the server (every connection drops), runs `during` while it is down, then starts it again on the same port. */
  restart(during?: () => Promise<void>): Promise<void>
  stop(): Promise<void>
}

export type LoginProcesses = 'high-performance' | 'high-security'

export interface TestDovecotOptions {
  /**
   * False: `mailbox_list_index = no`, so that the server offers no NOTIFY (only IDLE), as a production Carbonio
   * (Zimbra's IMAP) does; the realtime capture then pushes INBOX only and polls the other folders. Default true.
   */
  notify?: boolean
  /**
   * True: what a real server shows beyond the user's own folders (namespacesConfig): other users' folders shared by
   * ACL under `shared/<user>/`, public folders under `Public/`, the ACL plugins with `acl_user = %u` (ACLs checked
   * against the account, not the master user that opens it). Default false.
   */
  namespaces?: boolean
  /**
   * The account's special-use mailboxes by name, each created at the first login (`auto = subscribe`), as a server
   * in another language has them: {Gesendet: '\\Sent', ...}. Default: Drafts, Sent, Trash and Junk, not created.
   */
  specialUse?: Record<string, string>
  /** With namespaces: no `acl_user`, so Dovecot checks the master user's own rights (its default), which are none. */
  masterUserAcl?: boolean
  /**
   * The folder layout: 'fs' keeps folders as directories (LAYOUT=fs), whose names may hold "."; default Maildir++,
   * whose names may not. Default separator "/"; "." is Dovecot's own default for Maildir++.
   */
  layout?: 'fs' | 'maildir++'
  separator?: '.' | '/'
  /**
   * False: the master passdb without `pass = yes`, as Dovecot's own master-user example has it. Dovecot then answers
   * a master login to an account it does not know with `NO [UNAVAILABLE] Internal error` (its userdb lookup fails),
   * or closes the connection, instead of `NO [AUTHORIZATIONFAILED]`. Default true.
   */
  masterPassCheck?: boolean
  /**
   * PEM files of a certificate and its key: `ssl = yes` (STARTTLS offered on the imap port, as Dovecot's packaged
   * configuration has it) and an imaps listener on a port of its own (tlsPort). Default: no TLS at all.
   */
  tls?: {cert: string; key: string}
  /** Configuration appended at the end: Dovecot takes the last value of a setting, so this overrides the above. */
  extraConfig?: string
}

const shared = sharedServer('carbonio-backup.test-dovecot', () => startTestDovecot())

/** The test Dovecot, started on first use. */
export function getTestDovecot(): Promise<TestDovecot> {
  return shared.get()
}

/** Stops the test Dovecot if one was started (no-op otherwise). */
export function stopTestDovecot(): Promise<void> {
  return shared.stop()
}

/** A domain no other test uses, so that directoryCommand(domain) lists this test's users only. */
export function uniqueDomain(): string {
  return `t${randomBytes(5).toString('hex')}.test`
}

/** Who the Dovecot processes run as: system users when root, else everything as ourselves. */
function runAs(): {gid: number; internal: string; login: string; mail: string; uid: number} {
  if (process.getuid?.() !== 0) {
    const me = userInfo()
    return {
      internal: me.username, login: me.username, mail: me.username, uid: me.uid, gid: me.gid,
    }
  }

  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map(line => line.split(':'))
  const find = (name: string) => passwd.find(fields => fields[0] === name)
  for (const name of ['dovecot', 'dovenull']) {
    if (!find(name)) throw new Error(`the ${name} system user is missing: ${INSTALL_HINT}`)
  }

  const mail = find('mail') ?? find('nobody')
  if (!mail) throw new Error('neither the mail nor the nobody system user exists: the test Dovecot needs one to own the Maildirs')
  return {
    internal: 'dovecot', login: 'dovenull', mail: mail[0], uid: Number(mail[2]), gid: Number(mail[3]),
  }
}

/**
 * The shared and public namespaces a production Dovecot commonly has, with the ACL plugins that make the shared one
 * work: a user sees another's folder as shared/<owner>/<folder> once the owner grants it (SETACL), and every user
 * sees the public folders (a Maildir++ of their own under public/, readable by anyone) as Public/<folder>.
 */
function namespacesConfig(dir: string, masterUserAcl: boolean): string {
  return `mail_plugins = $mail_plugins acl
protocol imap {
  mail_plugins = $mail_plugins imap_acl
}
plugin {
  acl = vfile
${masterUserAcl ? '' : '  acl_user = %u\n'}  acl_shared_dict = file:${dir}/acl/shared-mailboxes.db
}
namespace shared {
  type = shared
  separator = /
  prefix = shared/%%u/
  location = maildir:${dir}/mail/%%u:INDEXPVT=${dir}/mail/%u/shared/%%u
  subscriptions = no
  list = children
}
namespace public {
  type = public
  separator = /
  prefix = Public/
  location = maildir:${dir}/public
  subscriptions = no
  list = children
}
`
}

const DEFAULT_SPECIAL_USE = `  mailbox Drafts {
    special_use = \\Drafts
  }
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
  mailbox Junk {
    special_use = \\Junk
  }
`

function specialUseConfig(names: Record<string, string>): string {
  return Object.entries(names).map(([name, use]) => `  mailbox "${name}" {\n    special_use = ${use}\n    auto = subscribe\n  }\n`).join('')
}

interface ConfigOptions {
  extraConfig?: string
  tls?: {cert: string; key: string; port: number}
  specialUse?: Record<string, string>
  loginProcesses: LoginProcesses
  masterPassCheck: boolean
  masterUserAcl: boolean
  namespaces: boolean
  layout: 'fs' | 'maildir++'
  separator: '.' | '/'
  notify: boolean
}

function configText(dir: string, port: number, users: ReturnType<typeof runAs>, {
  extraConfig, layout, loginProcesses, masterPassCheck, masterUserAcl, namespaces, notify, separator, specialUse, tls,
}: ConfigOptions): string {
  return `# The test Dovecot of carbonio-backup: loopback only, no TLS, everything under ${dir}.
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
${tls ? `ssl = yes\nssl_cert = <${tls.cert}\nssl_key = <${tls.key}` : 'ssl = no'}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_master_user_separator = *
# Without this, one failed login makes later logins from loopback wait for seconds.
login_trusted_networks = 127.0.0.0/8
auth_failure_delay = 0
default_internal_user = ${users.internal}
default_internal_group = ${users.internal === 'dovecot' ? 'dovecot' : users.mail}
default_login_user = ${users.login}
mail_uid = ${users.uid}
mail_gid = ${users.gid}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:${dir}/mail/%u${layout === 'fs' ? ':LAYOUT=fs' : ''}
# The mailbox list index gives NOTIFY and answers LIST-STATUS without opening every mailbox; without it, no NOTIFY.
mailbox_list_index = ${notify ? 'yes' : 'no'}
mail_fsync = never
${namespaces ? namespacesConfig(dir, masterUserAcl) : ''}namespace inbox {
  inbox = yes
  separator = ${separator}
${specialUse ? specialUseConfig(specialUse) : DEFAULT_SPECIAL_USE}}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/master-users
  master = yes
${masterPassCheck ? '  pass = yes\n' : ''}}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = passwd-file
  args = username_format=%u ${dir}/users
  default_fields = uid=${users.uid} gid=${users.gid} home=${dir}/mail/%u
}
service imap {${loginProcesses === 'high-performance' ? '\n  service_count = 100\n  process_min_avail = 4' : ''}
}
service imap-login {${loginProcesses === 'high-performance' ? '\n  service_count = 0\n  process_min_avail = 2' : ''}
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {${tls ? `\n    address = 127.0.0.1\n    port = ${tls.port}` : '\n    port = 0'}
  }
}
# No auth penalty: the tests log in with wrong passwords on purpose.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
${extraConfig ?? ''}`
}

/**
 * Starts a new Dovecot. Prefer getTestDovecot(), which starts it only once; a test that needs another configuration
 * (no NOTIFY) starts its own and stops it itself.
 */
export async function startTestDovecot(options: TestDovecotOptions = {}): Promise<TestDovecot> {
  const fixed = {
    notify: options.notify ?? true,
    namespaces: options.namespaces ?? false,
    masterUserAcl: options.masterUserAcl ?? false,
    masterPassCheck: options.masterPassCheck ?? true,
    specialUse: options.specialUse,
    layout: options.layout ?? 'maildir++',
    separator: options.separator ?? '/',
    tls: undefined as ConfigOptions['tls'],
    extraConfig: options.extraConfig,
  }
  if (!DOVECOT || !DOVEADM) throw new Error(INSTALL_HINT)
  const started = Date.now()
  const users = runAs()
  const dir = mkdtempSync(path.join(tmpdir(), 'carbonio-test-dovecot-'))
  // The mail user must reach its Maildirs under the temporary directory.
  chmodSync(dir, 0o755)
  const mailRoot = path.join(dir, 'mail')
  mkdirSync(mailRoot)
  chownSync(mailRoot, users.uid, users.gid)
  if (fixed.namespaces) {
    // Written by the mail processes: the dictionary of who shares with whom, and the public folders (whose root ACL,
    // the default of each public folder, lets every user read and add).
    for (const sub of ['acl', 'public']) {
      mkdirSync(path.join(dir, sub))
      chownSync(path.join(dir, sub), users.uid, users.gid)
    }

    writeFileSync(path.join(dir, 'public', 'dovecot-acl'), 'anyone lrwstipekxa\n', {mode: 0o644})
  }

  const configFile = path.join(dir, 'dovecot.conf')
  const pidFile = path.join(dir, 'run', 'master.pid')
  const masterUser = 'backup-admin'
  const masterPassword = randomBytes(12).toString('hex')
  // Readable by Dovecot's auth process, which does not run as root; these are throwaway test passwords.
  writeFileSync(path.join(dir, 'master-users'), `${masterUser}:{PLAIN}${masterPassword}\n`, {mode: 0o644})
  writeFileSync(path.join(dir, 'users'), '', {mode: 0o644})

  const watchdog = watchOver({
    name: 'carbonio-test-dovecot-watchdog',
    dir,
    // $3: the master's pid file.
    stopScript: 'if [ -f "$3" ]; then kill "$(cat "$3")" 2>/dev/null; sleep 1; fi',
    args: [pidFile],
    stopNow() {
      if (existsSync(pidFile)) spawnSync('kill', [readFileSync(pidFile, 'utf8').trim()])
    },
  })
  const doveadm = async (args: string[]) => (await run(DOVEADM, ['-c', configFile, ...args], {maxBuffer: 256 * 1024 * 1024})).stdout
  try {
    let lastError: unknown
    // A free port found by binding port 0 may be taken again before dovecot binds it: retry a few times.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort()
      fixed.tls = await tlsListener(options.tls)
      const tlsPort = fixed.tls?.port
      writeFileSync(configFile, configText(dir, port, users, {...fixed, loginProcesses: 'high-security'}))
      try {
        await startDaemon(DOVECOT, configFile, path.join(dir, 'startup.log'))
        await waitForGreeting(port, 10_000)
      } catch (error) {
        lastError = error
        if (existsSync(pidFile)) spawnSync('kill', [readFileSync(pidFile, 'utf8').trim()])
        continue
      }

      const startMs = Date.now() - started
      process.stderr.write(`test Dovecot (${DOVECOT}) on 127.0.0.1:${port}, ready in ${startMs} ms\n`)
      const usersFile = path.join(dir, 'users')
      const server: TestDovecot = {
        host: '127.0.0.1',
        port,
        url: `imap://127.0.0.1:${port}`,
        tlsPort,
        dir,
        configFile,
        masterUser,
        masterPassword,
        startMs,
        async setLoginProcesses(mode) {
          writeFileSync(configFile, configText(dir, port, users, {...fixed, loginProcesses: mode}))
          await doveadm(['reload'])
          await waitForGreeting(port, 10_000)
        },
        directoryCommand: domain => `${DOVEADM} -c ${configFile} user '${domain ? `*@${domain}` : '*'}'`,
        async addUser(name, password = 'secret') {
          const others = readFileSync(usersFile, 'utf8').split('\n').filter(line => line !== '' && !line.startsWith(`${name}:`))
          writeFileSync(usersFile, [...others, `${name}:{PLAIN}${password}::::::`, ''].join('\n'))
          await doveadm(['reload'])
          await retry(() => doveadm(['user', name]), 5000)
        },
        async removeUser(name) {
          const others = readFileSync(usersFile, 'utf8').split('\n').filter(line => line !== '' && !line.startsWith(`${name}:`))
          writeFileSync(usersFile, [...others, ''].join('\n'))
          await doveadm(['reload'])
          await retry(async () => {
            if ((await doveadm(['user', '*'])).split('\n').includes(name)) throw new Error(`${name} is still listed`)
          }, 5000)
        },
        doveadm,
        maildirOf: user => path.join(mailRoot, user),
        async loadMessages(user, folders) {
          const root = path.join(mailRoot, user)
          for (const [folder, messages] of Object.entries(folders)) {
            const box = folder.toUpperCase() === 'INBOX' ? root : path.join(root, `.${folder.split('/').join('.')}`)
            for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(box, sub), {recursive: true})
            for (const [index, message] of messages.entries()) {
              const raw = Buffer.isBuffer(message.raw) ? message.raw : Buffer.from(message.raw)
              const when = message.internalDate ?? new Date()
              const name = `${Math.floor(when.getTime() / 1000)}.M${index}R${randomBytes(4).toString('hex')}.carbonio-test,S=${raw.length}:2,${maildirLetters(message.flags ?? [])}`
              const file = path.join(box, 'cur', name)
              writeFileSync(file, raw)
              utimesSync(file, when, when)
            }
          }

          if (process.getuid?.() === 0) spawnSync('chown', ['-R', `${users.uid}:${users.gid}`, root])
          await doveadm(['force-resync', '-u', user, '*'])
        },
        async restart(during) {
          if (existsSync(pidFile)) {
            const pid = Number(readFileSync(pidFile, 'utf8').trim())
            // The master going leaves the IMAP processes serving their connections (an IDLE would not notice the
            // restart): end them too, as a machine restart or `systemctl restart dovecot` does.
            const children = childrenOf(pid)
            for (const target of [pid, ...children]) {
              try {
                process.kill(target)
              } catch {
                // already gone
              }
            }

            // The master takes a few seconds to go when it had many connections, more on a loaded machine.
            await waitForExit(pid, 15_000)
            for (const child of children) await waitForExit(child, 5000)
          }

          await during?.()
          await startDaemon(DOVECOT, configFile, path.join(dir, 'startup.log'))
          await waitForGreeting(port, 10_000)
        },
        async stop() {
          await watchdog.stop(async () => {
            if (existsSync(pidFile)) {
              const pid = Number(readFileSync(pidFile, 'utf8').trim())
              // Killed outright, its processes with it: the server's state goes with its directory, and Dovecot's
              // orderly shutdown (SIGTERM) keeps its log process about a second, which every test file that used a
              // Dovecot paid (the suite starts some sixty).
              const targets = [...childrenOf(pid), pid]
              for (const target of targets) {
                try {
                  process.kill(target, 'SIGKILL')
                } catch {
                  // already gone
                }
              }

              for (const target of targets) await waitForExit(target, 5000)
            }
          })
        },
      }
      return server
    }

    throw lastError
  } catch (error) {
    const logFile = path.join(dir, 'dovecot.log')
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join(' | ') : ''
    watchdog.stopSync()
    const message = ((error as {stderr?: string}).stderr || (error as Error).message).trim()
    throw new Error(`cannot start the test Dovecot: ${message}${log ? ` (log: ${log})` : ''}`)
  }
}

/**
 * Runs `dovecot -c <conf>`, which forks its master into the background and exits. Its output goes to a file, not
 * to pipes: the background master keeps them open, and waiting for them to close would wait for ever.
 */
async function startDaemon(binary: string, configFile: string, logFile: string): Promise<void> {
  const log = openSync(logFile, 'a')
  try {
    const child = spawn(binary, ['-c', configFile], {stdio: ['ignore', log, log]})
    const code = await new Promise<null | number>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', resolve)
    })
    if (code !== 0) throw new Error(`${binary} exited with ${code}: ${readFileSync(logFile, 'utf8').trim().split('\n').at(-1)}`)
  } finally {
    closeSync(log)
  }
}

const LETTERS: Record<string, string> = {
  '\\answered': 'R', '\\deleted': 'T', '\\draft': 'D', '\\flagged': 'F', '\\seen': 'S',
}

function maildirLetters(flags: string[]): string {
  return [...new Set(flags.map(flag => LETTERS[flag.toLowerCase()]).filter(Boolean))].sort().join('')
}

/** Runs `work` until it succeeds (the auth process restarting after a reload), or rethrows after the deadline. */
async function retry(work: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await work()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise(resolve => {
        setTimeout(resolve, 20)
      })
    }
  }
}

/** The certificate of the tls option with a port of its own for the imaps listener. */
async function tlsListener(tls: TestDovecotOptions['tls']): Promise<ConfigOptions['tls']> {
  return tls && {...tls, port: await freePort()}
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Resolves once the server greets on the port ("* OK"), polling until the deadline. */
async function waitForGreeting(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const greeted = await new Promise<boolean>(resolve => {
      const socket = connect(port, '127.0.0.1')
      socket.setTimeout(1000)
      socket.once('data', chunk => {
        socket.destroy()
        resolve(chunk.toString().startsWith('* OK'))
      })
      socket.once('error', () => resolve(false))
      socket.once('timeout', () => {
        socket.destroy()
        resolve(false)
      })
    })
    if (greeted) return
    if (Date.now() > deadline) throw new Error(`no IMAP greeting on 127.0.0.1:${port} after ${timeoutMs} ms`)
    await new Promise(resolve => {
      setTimeout(resolve, 50)
    })
  }
}

/** A process's state letter and parent from /proc/<pid>/stat; undefined once it is gone. */
function procStat(pid: number | string): undefined | {ppid: number; state: string} {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }

  // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
  const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return {state, ppid: Number(ppid)}
}

/**
 * Whether the process has ended: gone, or a zombie. Dovecot daemonizes, so its processes end as children of PID 1,
 * which here (a container's process manager) reaps them a second or two later; until then kill(pid, 0) still
 * succeeds, and every stop of a test Dovecot waited that long for a process that had already let go of its port.
 */
function exited(pid: number): boolean {
  const stat = procStat(pid)
  return stat === undefined || stat.state === 'Z'
}

/** The processes whose parent is pid (Linux /proc): the Dovecot master's services. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter(entry => /^\d+$/.test(entry) && procStat(entry)?.ppid === pid).map(Number)
}

async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (exited(pid)) return

    await new Promise(resolve => {
      setTimeout(resolve, 50)
    })
  }
}

