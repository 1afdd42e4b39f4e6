import type {ImapFlow} from 'imapflow'
import type {ImapCompileNode} from 'imapflow/lib/handler/types.js'

import {loadImapflow} from './imapflow-modules.js'

/** A piece of a command: IMAP tokens (as imapflow's compiler takes them: strings, atoms, lists), or a literal. */
export type CommandPiece = {literal: Buffer} | {tokens: ImapCompileNode[]}

/** The parts of imapflow that it keeps internal and that sending a command of our own framing needs. */
interface Internals {
  send(request: QueuedRequest): Promise<void>
  socket?: {destroyed: boolean}
  writeSocket?: NodeJS.WritableStream & {cork(): void; destroyed: boolean; uncork(): void}
  commandParts: unknown[]
  currentRequest?: {sent?: boolean; tag: string}
  lastClientWrite: number
  state: unknown
  states: {LOGOUT: unknown}
  exec(command: string, attributes: unknown[], options: Record<PropertyKey, unknown>): Promise<{next(): void}>
}

interface QueuedRequest {
  command: string
  options?: Record<PropertyKey, unknown>
  tag: string
}

const FRAMES = Symbol('literal-plus frames')
const patched = new WeakSet<ImapFlow>()
const CRLF = Buffer.from('\r\n')

/** Whether the server takes non-synchronizing literals of any size (RFC 7888 LITERAL+). */
export function hasLiteralPlus(client: ImapFlow): boolean {
  return client.capabilities.has('LITERAL+')
}

/**
 * Runs a command whose literals are non-synchronizing (`{n+}`, LITERAL+) through imapflow's command queue, and waits
 * for its tagged OK. imapflow sends any literal above 4 KiB as a synchronizing one even where the server has
 * LITERAL+: one wait for the server's "+" per message, so a MULTIAPPEND of 100 messages was 100 round trips, and it
 * copied every message into the next command part. Here the command goes out in one corked write of frames: each
 * literal's bytes are written as they are, never concatenated. Only for a server with LITERAL+ (hasLiteralPlus).
 */
export async function execLiteralPlus(client: ImapFlow, command: string, pieces: readonly CommandPiece[]): Promise<void> {
  installSend(client)
  const {compile} = await loadImapflow()
  const frames: Buffer[] = []
  for (const piece of pieces) {
    if ('literal' in piece) {
      frames.push(Buffer.from(` {${piece.literal.length}+}\r\n`), piece.literal)
    } else if (piece.tokens.length > 0) {
      frames.push(Buffer.concat([Buffer.from(' '), compile({attributes: piece.tokens})]))
    }
  }

  frames.push(CRLF)
  const response = await (client as unknown as Internals).exec(command, [], {[FRAMES]: frames})
  // imapflow holds its queue until the answer is taken.
  response.next()
}

/**
 * Wraps the connection's send() once: a request carrying frames is written as they are; any other goes through
 * imapflow's own send(). What it does besides writing (marking the request sent, so that its tagged answer is
 * matched to it) is what imapflow's send() does for every command.
 */
function installSend(client: ImapFlow): void {
  if (patched.has(client)) return
  patched.add(client)
  const internals = client as unknown as Internals
  const send = internals.send.bind(client)
  internals.send = async function (this: Internals, request: QueuedRequest): Promise<void> {
    const frames = request.options?.[FRAMES] as Buffer[] | undefined
    if (!frames) return send(request)
    const out = this.writeSocket
    if (this.state === this.states.LOGOUT || !this.socket || this.socket.destroyed || !out || out.destroyed) {
      throw new Error('the IMAP connection is closed')
    }

    this.commandParts = []
    out.cork()
    out.write(Buffer.from(`${request.tag} ${request.command}`))
    for (const frame of frames) out.write(frame)
    out.uncork()
    this.lastClientWrite = Date.now()
    if (this.currentRequest?.tag === request.tag) this.currentRequest.sent = true
  }
}
