import type {Catalog} from '../catalog/catalog.js'

/**
 * When an item came into its mailbox (ms), as SQL over `items as i` and its revision `r`: a message's internal date
 * where its metadata records one (the IMAP capture records the server's INTERNALDATE, and a redolog line may give
 * `internalDate`), otherwise when the backup recorded the item's creation (the redolog transaction's time, or the
 * scan that first saw it). An IMAP backup started in November otherwise dated all of January's mail November, and a
 * search for January found none of it.
 *
 * Only an ISO 8601 UTC string counts, on both dialects alike: SQLite's julianday() would also take a bare number as
 * a Julian day, and PostgreSQL's cast would fail the whole search on a value it cannot read.
 */
export function arrivalSql(dialect: Catalog['dialect']): string {
  const iso = dialect === 'sqlite'
    ? `CASE WHEN json_type(r.metadata, '$.${FIELD}') = 'text' AND ${SQLITE_VALUE} GLOB '${SQLITE_ISO_GLOB}' `
      + `THEN CAST(ROUND((julianday(${SQLITE_VALUE}) - 2440587.5) * 86400000.0) AS INTEGER) END`
    : `CASE WHEN ${PG_VALUE} ~ '${PG_ISO_PATTERN}' THEN ROUND(EXTRACT(EPOCH FROM ${PG_VALUE}::timestamptz) * 1000)::bigint END`
  return `COALESCE(${iso}, i.first_seen)`
}

const FIELD = 'internalDate'
const SQLITE_VALUE = `json_extract(r.metadata, '$.${FIELD}')`
const PG_VALUE = `(r.metadata::jsonb->>'${FIELD}')`
const SQLITE_ISO_GLOB = '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]*Z'
const PG_ISO_PATTERN = String.raw`^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d(\.\d+){0,1}Z$`
