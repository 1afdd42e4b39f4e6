import type {ImapFlow} from 'imapflow'

/** The parts of imapflow's connection that the session start goes through (internal API of imapflow 2). */
interface ImapFlowInternals {
  options: {auth?: PlainCredentials}
  capabilities: Map<string, unknown>
  authCapabilities: Map<string, unknown>
  run(command: string, ...args: unknown[]): Promise<unknown>
  exec(command: string, attributes: unknown[]): Promise<{next(): void}>
  autoEnable(): Promise<void>
}

interface PlainCredentials {
  password?: string
  loginMethod?: string
  authzid?: string
}

// What imapflow keeps as the server's answer to ID when none was asked: two keys, so that it does not ask again.
const ID_NOT_ASKED = {name: 'not asked', reason: 'ID skipped by carbonio-backup'}

/**
 * The server offers no SASL PLAIN, and the login must carry an authorization identity (the account the admin user
 * opens), which only PLAIN can. Nothing was sent: imapflow would have tried PLAIN anyway (and the server's
 * "unsupported mechanism" read as a wrong password), or, on a server offering no mechanism at all, a bare LOGIN of
 * the admin user, which opens the admin's own mailbox in place of the account's.
 */
export class NoSaslPlain extends Error {
  constructor() {
    super('the server offers no AUTH=PLAIN, which a login with an authorization identity needs')
    this.name = 'NoSaslPlain'
  }
}

/**
 * Trims the commands imapflow sends before the first useful one. It opens every session with ID, authenticates,
 * and sends ID again whenever the server's answer had fewer than two fields (Dovecot answers with its name only);
 * and it sends AUTHENTICATE PLAIN without its initial response, waiting for an empty "+" first. A SmartScan opens
 * one session per account, often for a single LIST-STATUS: those three round trips were half of it, on both sides.
 * ID only labels the session in the server's logs (RFC 2971), where the master user's login already names the
 * backup. With SASL-IR (RFC 4959) the credentials ride on the AUTHENTICATE line, as RFC 4616 allows; without it
 * imapflow's own exchange runs unchanged.
 */
export function trimSessionStart(client: ImapFlow): void {
  const internals = client as unknown as ImapFlowInternals
  const run = internals.run.bind(client)
  internals.run = async (command: string, ...args: unknown[]) => {
    if (command === 'ID') return ID_NOT_ASKED
    if ((command === 'AUTHENTICATE' || command === 'LOGIN') && internals.options.auth?.authzid && !internals.capabilities.has('AUTH=PLAIN')) {
      throw new NoSaslPlain()
    }

    const [user, credentials] = args as [string, PlainCredentials | undefined]
    if (command === 'AUTHENTICATE' && credentials?.password !== undefined && choosesPlain(internals, credentials.loginMethod)
      && internals.capabilities.has('SASL-IR')) {
      return authenticatePlainWithInitialResponse(internals, user, credentials)
    }

    return run(command, ...args)
  }
}

/** imapflow's choice of PLAIN for a password: asked for, or offered by the server when nothing was asked for. */
function choosesPlain(internals: ImapFlowInternals, loginMethod: string | undefined): boolean {
  return loginMethod === 'AUTH=PLAIN' || (!loginMethod && internals.capabilities.has('AUTH=PLAIN'))
}

/** AUTHENTICATE PLAIN with the response on the command line; fails as imapflow's own PLAIN exchange does. */
async function authenticatePlainWithInitialResponse(internals: ImapFlowInternals, user: string, {authzid, password}: PlainCredentials): Promise<string> {
  const response = Buffer.from([authzid ?? '', user, password].join('\0')).toString('base64')
  try {
    // `sensitive` keeps the credentials out of imapflow's command log.
    const result = await internals.exec('AUTHENTICATE', [{type: 'ATOM', value: 'PLAIN'}, {type: 'ATOM', value: response, sensitive: true}])
    result.next()
  } catch (error) {
    const failure = error as {authenticationFailed?: boolean; responseStatus?: string}
    // A tagged NO or BAD is the server refusing the credentials: what explainImapError words as a refused login.
    if (failure.responseStatus === 'NO' || failure.responseStatus === 'BAD') failure.authenticationFailed = true
    throw error
  }

  internals.authCapabilities.set('AUTH=PLAIN', true)
  return authzid || user
}

/**
 * Whether ENABLE may wait until a mailbox is opened: only when it would enable nothing but CONDSTORE and QRESYNC,
 * which change no answer a LIST-STATUS gives. UTF8=ACCEPT and IMAP4rev2 change how mailbox names travel, so a
 * server offering either gets its ENABLE before the first LIST, as imapflow sends it.
 */
export function mayDeferEnable(client: ImapFlow): boolean {
  const {capabilities} = client as unknown as ImapFlowInternals
  return !capabilities.has('UTF8=ACCEPT') && !capabilities.has('IMAP4rev2')
}

/** Sends the ENABLE that imapflow would have sent at connect (CONDSTORE, QRESYNC when asked for, ...). */
export function enableNow(client: ImapFlow): Promise<void> {
  return (client as unknown as ImapFlowInternals).autoEnable()
}
