import type {Knex} from 'knex'

import type {Catalog} from './catalog.js'

export type ColumnType = 'bigint' | 'boolean' | 'integer' | 'text'

export interface BulkColumn {
  name: string
  type: ColumnType
}

const ROWS_PER_STATEMENT = 2000

// jsonb_each hands each row over as binary JSON: every `->>N` then finds its column without parsing the row's
// text again, which json_each makes SQLite do once per column (measured: 16 -> 6 us per 14-column row).
const SQLITE_ROWS = 'jsonb_each'

const PG_TYPES: Record<ColumnType, string> = {
  bigint: 'bigint', boolean: 'boolean', integer: 'integer', text: 'text',
}

/**
 * Many rows in one statement with ONE bound parameter: a JSON array of row arrays, unpacked by the database
 * (json_each on SQLite, jsonb_array_elements on PostgreSQL). Binding thousands of separate parameters costs more
 * than the insert itself in both drivers; this keeps the scanner's per-transaction cost low. The only
 * dialect-specific SQL of the catalog lives here, and the scanner tests run it on both.
 */
export async function bulkInsert(
  db: Knex | Knex.Transaction,
  dialect: Catalog['dialect'],
  table: string,
  columns: readonly BulkColumn[],
  rows: readonly unknown[][],
  returning: readonly string[] = [],
  ignoreConflictsOn: readonly string[] = [],
): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = []
  const names = columns.map(c => `"${c.name}"`).join(', ')
  const values = columns.map((c, index) => element(dialect, 'j', index, c.type)).join(', ')
  const source = dialect === 'sqlite' ? `${SQLITE_ROWS}(?) AS j` : 'jsonb_array_elements(?::jsonb) AS j'
  // "WHERE true" keeps SQLite from reading ON CONFLICT as a join constraint of the SELECT.
  const conflict = ignoreConflictsOn.length > 0 ? ` WHERE true ON CONFLICT (${ignoreConflictsOn.map(c => `"${c}"`).join(', ')}) DO NOTHING` : ''
  const tail = `${conflict}${returning.length > 0 ? ` RETURNING ${returning.map(r => `"${r}"`).join(', ')}` : ''}`
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT)
    const sql = `INSERT INTO "${table}" (${names}) SELECT ${values} FROM ${source}${tail}`
    const result = await db.raw(sql, [JSON.stringify(chunk)])
    if (returning.length > 0) out.push(...(dialect === 'sqlite' ? result : result.rows))
  }

  return out
}

/**
 * Sets `column` of the rows whose `key` matches and whose `column` IS NULL, to a value per key: how the scanner
 * closes the open revisions of many items at once.
 */
export async function bulkCloseOpen(
  db: Knex | Knex.Transaction,
  dialect: Catalog['dialect'],
  table: string,
  key: string,
  column: string,
  pairs: ReadonlyArray<readonly [number, number]>,
): Promise<number> {
  let updated = 0
  for (let i = 0; i < pairs.length; i += ROWS_PER_STATEMENT) {
    const chunk = JSON.stringify(pairs.slice(i, i + ROWS_PER_STATEMENT))
    const sql
      = dialect === 'sqlite'
        // The unary + keeps SQLite from choosing an index on `column` (folder_revisions has one on valid_to, which
        // would scan every open revision for each pair) over the one on `key`.
        ? `UPDATE "${table}" SET "${column}" = c.value->>1 FROM ${SQLITE_ROWS}(?) AS c WHERE "${table}"."${key}" = c.value->>0 AND +"${table}"."${column}" IS NULL`
        : `UPDATE "${table}" SET "${column}" = (c->>1)::bigint FROM jsonb_array_elements(?::jsonb) AS c WHERE "${table}"."${key}" = (c->>0)::bigint AND "${table}"."${column}" IS NULL`
    const result = await db.raw(sql, [chunk])
    updated += dialect === 'sqlite' ? 0 : Number(result.rowCount ?? 0)
  }

  return updated
}

/**
 * Sets `column` to `value` on the rows whose `key` is one of `keys`, and returns the `returning` columns of the rows
 * it touched: one statement that both marks rows (and, on PostgreSQL, locks them) and tells which exist.
 */
export async function bulkTouch(
  db: Knex | Knex.Transaction,
  dialect: Catalog['dialect'],
  table: string,
  key: string,
  keys: readonly string[],
  set: {column: string; value: number},
  returning: readonly string[],
): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = []
  const columns = returning.map(r => `"${table}"."${r}"`).join(', ')
  for (let i = 0; i < keys.length; i += ROWS_PER_STATEMENT) {
    const chunk = JSON.stringify(keys.slice(i, i + ROWS_PER_STATEMENT))
    const sql
      = dialect === 'sqlite'
        ? `UPDATE "${table}" SET "${set.column}" = ? WHERE "${key}" IN (SELECT value FROM json_each(?)) RETURNING ${columns}`
        : `UPDATE "${table}" SET "${set.column}" = ? WHERE "${key}" IN (SELECT jsonb_array_elements_text(?::jsonb)) RETURNING ${columns}`
    const result = await db.raw(sql, [set.value, chunk])
    out.push(...(dialect === 'sqlite' ? result : result.rows))
  }

  return out
}

/**
 * A JSON array of key rows as a table to join with, bound as ONE parameter: `source` is the FROM item, `column(i)`
 * the i-th value of a row, typed. Looking rows up by many composite keys costs one statement this way, where a
 * row-value IN list binds two parameters per key.
 */
export function jsonRowsSource(dialect: Catalog['dialect'], alias: string, types: readonly ColumnType[]): {column: (index: number) => string; source: string} {
  return {
    source: dialect === 'sqlite' ? `${SQLITE_ROWS}(?) AS ${alias}` : `jsonb_array_elements(?::jsonb) AS ${alias}`,
    column: index => element(dialect, alias, index, types[index]),
  }
}

/** The dialect of a knex instance or transaction, for the few statements that differ. */
export function dialectOf(db: Knex | Knex.Transaction): Catalog['dialect'] {
  return db.client.config.client === 'sqlite3' ? 'sqlite' : 'postgres'
}

function element(dialect: Catalog['dialect'], alias: string, index: number, type: ColumnType): string {
  return dialect === 'sqlite' ? `${alias}.value->>${index}` : `(${alias}->>${index})::${PG_TYPES[type]}`
}
