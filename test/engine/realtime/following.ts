import type {ImapTestBed} from '../../helpers/imap-cli-bed.js'

import {imapSettings} from '../../../src/engine/appserver/imap/imap-settings.js'
import {serverConfig} from '../../../src/engine/config/config-store.js'
import {ImapRealtime, type ImapRealtimeOptions} from '../../../src/engine/realtime/imap-realtime.js'
import {SERVER} from '../smartscan/imap-scenario.js'

/**
 * Runs an ImapRealtime on the bed's catalog (with the server's settings, unless the options give others) while `during`
 * runs, then stops it and waits for the cycles in flight; its log lines are added to `lines`.
 */
export async function following(
  bed: Pick<ImapTestBed, 't'>,
  lines: string[],
  options: Partial<ImapRealtimeOptions>,
  during: (realtime: ImapRealtime) => Promise<void>,
): Promise<void> {
  const controller = new AbortController()
  const realtime = new ImapRealtime({
    catalog: bed.t.catalog, server: SERVER, settings: imapSettings(await serverConfig(bed.t.catalog, SERVER)), log: line => lines.push(line), ...options,
  })
  const running = realtime.run(controller.signal)
  try {
    await during(realtime)
  } finally {
    controller.abort()
    await running
  }
}
