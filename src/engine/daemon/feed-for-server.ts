import type {TransactionFeed} from '../scanner/feed-entry.js'

import {imapConfigured, type ImapSettings, imapSettings} from '../appserver/imap/imap-settings.js'
import {RedologFeed, type RedologFeedOptions} from '../appserver/redolog/redolog-feed.js'

/**
 * The transaction feed the Realtime Scanner follows for a server, from its configuration; undefined with the
 * reason when none is configured. (The IMAP connector is followed by polling instead: see imapCaptureForServer.)
 */
export function feedForServer(
  config: Map<string, null | string>,
  server: string,
  follow: boolean,
  options: Omit<RedologFeedOptions, 'follow' | 'scope'> = {},
): {feed: TransactionFeed} | {reason: string} {
  const redolog = config.get('backupRedologPath')
  if (redolog) return {feed: new RedologFeed(redolog, {...options, follow, scope: server})}
  return {reason: 'no AppServer feed is configured: set backupRedologPath (or backupAppServerUrl) at global or server level'}
}

/**
 * The IMAP AppServer the realtime capture follows when no redolog is configured: its settings, the reason it cannot
 * (an incomplete configuration), or undefined when the server has a redolog or no backupAppServerUrl.
 */
export function imapCaptureForServer(config: Map<string, null | string>): undefined | {reason: string} | {settings: ImapSettings} {
  if (config.get('backupRedologPath') || !imapConfigured(config)) return undefined
  try {
    const settings = imapSettings(config)
    if (!settings.accountsCommand) return {reason: "backupAccountsCommand is not set: the realtime capture follows the accounts it lists (zmprov -l gaa, doveadm user '*')"}
    return {settings}
  } catch (error) {
    return {reason: (error as Error).message}
  }
}
