/**
 * Case-insensitive substring search in metadata, identical on SQLite and PostgreSQL. The catalog narrows with
 * `LOWER(metadata) LIKE ? ESCAPE '!'` (standard SQL on both; SQLite's LOWER folds only ASCII), then the engine
 * keeps the rows whose string values really contain the text, with full Unicode case folding. So the SQL pattern
 * must match a superset: every non-ASCII character of the text becomes `_` (any one character).
 */
export const LIKE_ESCAPE = '!'

/**
 * Lower case as a search compares it. "İ" (Turkish dotted capital I) lower-cases to "i" plus a combining dot, so
 * that neither "istanbul" nor "İstanbul" itself found "İstanbul toplantısı": the dot goes.
 */
export function foldCase(text: string): string {
  return text.toLowerCase().replaceAll('i\u0307', 'i')
}

/**
 * SQL for a column lower-cased for the LIKE, with its "İ" made "i" as foldCase does: SQLite's LOWER leaves "İ"
 * alone, and PostgreSQL's may give "i" plus the combining dot. Its bindings go before the pattern's.
 */
export function foldedColumn(column: string): {sql: string; bindings: string[]} {
  return {sql: `REPLACE(REPLACE(LOWER(${column}), ?, 'i'), ?, 'i')`, bindings: ['\u0130', 'i\u0307']}
}

/** The LIKE pattern for text as it appears inside the JSON of the metadata column. */
export function likePattern(text: string): string {
  // Inside the JSON text a quote is \" and a backslash \\: search for the encoded form.
  const encoded = JSON.stringify(foldCase(text)).slice(1, -1)
  let pattern = ''
  for (const char of encoded) {
    if (char === '%' || char === '_' || char === LIKE_ESCAPE) pattern += LIKE_ESCAPE + char
    else if (char.codePointAt(0)! > 0x7F) pattern += '_'
    else pattern += char
  }

  return `%${pattern}%`
}

/** Whether any string value of the metadata (at any depth) contains the text, ignoring case. */
export function metadataContains(metadata: unknown, text: string): boolean {
  const needle = foldCase(text)
  const visit = (value: unknown): boolean => {
    if (typeof value === 'string') return foldCase(value).includes(needle)
    if (Array.isArray(value)) return value.some(element => visit(element))
    if (value !== null && typeof value === 'object') return Object.values(value).some(element => visit(element))
    return false
  }

  return visit(metadata)
}
