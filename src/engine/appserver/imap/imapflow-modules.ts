/**
 * imapflow, with the MIME and logging packages it pulls in, takes about a quarter of a second to load: every command
 * of the CLI would pay it (the command index imports every command), where only those that reach the AppServer need
 * it. It is loaded when first needed (the first connection opened, as a rule), once.
 */
export interface ImapflowModules {
  ImapFlow: typeof import('imapflow').ImapFlow
  /** imapflow's command compiler (internal): IMAP tokens to the bytes of a command. */
  compile: typeof import('imapflow/lib/handler/imap-compiler.js').default
  /** A mailbox name as imapflow encodes it in its own commands (modified UTF-7 unless the server takes UTF-8). */
  encodePath: typeof import('imapflow/lib/tools.js').encodePath
}

let loading: Promise<ImapflowModules> | undefined

export async function loadImapflow(): Promise<ImapflowModules> {
  loading ??= Promise.all([
    import('imapflow'),
    import('imapflow/lib/handler/imap-compiler.js'),
    import('imapflow/lib/tools.js'),
  ]).then(([main, compiler, tools]) => ({ImapFlow: main.ImapFlow, compile: compiler.default, encodePath: tools.encodePath}))
  return loading
}
