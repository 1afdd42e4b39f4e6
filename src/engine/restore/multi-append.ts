import type {ImapFlow} from 'imapflow'
import type {ImapCompileNode} from 'imapflow/lib/handler/types.js'

import type {RestoreMessage} from './imap-restore-target.js'

import {loadImapflow} from '../appserver/imap/imapflow-modules.js'
import {type CommandPiece, execLiteralPlus, hasLiteralPlus} from '../appserver/imap/literal-plus-command.js'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** imapflow's command queue, which it keeps internal: MULTIAPPEND (RFC 3502) has no method of its own there. */
interface CommandQueue {
  exec(command: string, attributes: unknown[]): Promise<{next(): void}>
}

/**
 * Whether one APPEND may carry several messages to this mailbox: the server has MULTIAPPEND and the name, encoded as
 * imapflow encodes it for its own commands (modified UTF-7, where "Clients & Co" is "Clients &- Co" and accented
 * letters are base64), is plain ASCII. Only a server that takes UTF-8 names (UTF8=ACCEPT) leaves a name this does not
 * cover; such a folder's messages go one APPEND each through imapflow.
 */
export async function canMultiAppend(client: ImapFlow, mailbox: string): Promise<boolean> {
  const {encodePath} = await loadImapflow()
  return client.capabilities.has('MULTIAPPEND') && /^[\u0020-\u007E]+$/.test(encodePath(client, mailbox))
}

/**
 * Appends several messages in one APPEND command (MULTIAPPEND, RFC 3502), each with its exact bytes, flags and
 * internal date: one round trip and one mailbox commit for the lot instead of one per message. The server stores
 * all of them or none (RFC 3502: a failure appends nothing), so a failed batch never leaves half of it behind for an
 * exactly-once restore to trip on. With LITERAL+ the whole command streams out without waiting for the server's "+"
 * before each message.
 */
export async function multiAppend(client: ImapFlow, mailbox: string, messages: readonly RestoreMessage[]): Promise<void> {
  const {encodePath} = await loadImapflow()
  if (hasLiteralPlus(client)) {
    const pieces: CommandPiece[] = [{tokens: [{type: 'STRING', value: encodePath(client, mailbox)}]}]
    for (const message of messages) {
      pieces.push({tokens: messageTokens(message)}, {literal: message.bytes})
    }

    await execLiteralPlus(client, 'APPEND', pieces)
    return
  }

  const attributes: unknown[] = [{type: 'STRING', value: encodePath(client, mailbox)}]
  for (const message of messages) attributes.push(...messageTokens(message), {type: 'LITERAL', value: message.bytes})

  const response = await (client as unknown as CommandQueue).exec('APPEND', attributes)
  // imapflow holds its queue until the answer is taken.
  response.next()
}

/** What precedes a message's literal in an APPEND: its flag list and, when known, its internal date. */
function messageTokens(message: RestoreMessage): ImapCompileNode[] {
  const tokens: ImapCompileNode[] = [message.flags.map(flag => ({type: 'ATOM', value: flag}))]
  if (message.internalDate) tokens.push({type: 'STRING', value: imapDateTime(message.internalDate)})
  return tokens
}

/** An IMAP date-time ("dd-Mon-yyyy hh:mm:ss +0000", day padded with a space) in UTC, to the second as IMAP keeps it. */
export function imapDateTime(date: Date): string {
  const day = String(date.getUTCDate()).padStart(2, ' ')
  return `${day}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${date.toISOString().slice(11, 19)} +0000`
}
