import type {TransactionFeed} from '../scanner/feed-entry.js'

import {RedologFeed} from '../appserver/redolog/redolog-feed.js'

/**
 * The transaction feed the Realtime Scanner follows for a server, from its configuration; undefined with the
 * reason when none is configured. (The IMAP connector joins here.)
 */
export function feedForServer(config: Map<string, null | string>, follow: boolean): {feed: TransactionFeed} | {reason: string} {
  const redolog = config.get('backupRedologPath')
  if (redolog) return {feed: new RedologFeed(redolog, {follow})}
  return {reason: 'no AppServer feed is configured: set backupRedologPath (or backupAppServerUrl) at global or server level'}
}
