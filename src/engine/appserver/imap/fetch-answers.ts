import type {FetchMessageObject, FetchQueryObject, ImapFlow} from 'imapflow'

/**
 * The messages that a metadata FETCH answers, one each. imapflow's fetch() yields every FETCH row that arrives while
 * the command runs: also the server's notices of other sessions' changes to the selected mailbox (Dovecot sends
 * `* n FETCH (UID u FLAGS (...) MODSEQ (m))` before its tagged OK), and a server may split one message's answer over
 * several rows (RFC 9051 7.5.2). Taken as answers, such notices made a message an item without its Message-ID,
 * internal date or size. Rows of one UID are merged, a later row's values over an earlier one's (it is newer); a UID
 * with no row carrying RFC822.SIZE, which the query must ask for, was not answered: its change is newer than the
 * status the read began with, so the next read finds it.
 */
export async function fetchAnswers(
  client: ImapFlow,
  range: string,
  query: FetchQueryObject & {size: true; uid: true},
  options: {changedSince?: bigint; uid: true},
): Promise<FetchMessageObject[]> {
  const byUid = new Map<number, FetchMessageObject>()
  for await (const row of client.fetch(range, query, options)) {
    const earlier = byUid.get(row.uid)
    byUid.set(row.uid, earlier ? mergeRows(earlier, row) : row)
  }

  return [...byUid.values()].filter(message => message.size !== undefined)
}

function mergeRows(earlier: FetchMessageObject, later: FetchMessageObject): FetchMessageObject {
  const merged = {...earlier}
  for (const [key, value] of Object.entries(later)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value
  }

  return merged
}
