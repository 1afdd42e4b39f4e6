/**
 * Case-insensitive substring search in metadata, identical on SQLite and PostgreSQL. The catalog narrows with
 * `LOWER(metadata) LIKE ? ESCAPE '!'` (standard SQL on both; SQLite's LOWER folds only ASCII), then the engine
 * keeps the rows whose string values really contain the text, with full Unicode case folding. So the SQL pattern
 * must match a superset: every non-ASCII character of the text becomes `_` (any one character).
 */
export const LIKE_ESCAPE = '!'

/** The LIKE pattern for text as it appears inside the JSON of the metadata column. */
export function likePattern(text: string): string {
  // Inside the JSON text a quote is \" and a backslash \\: search for the encoded form.
  const encoded = JSON.stringify(text.toLowerCase()).slice(1, -1)
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
  const needle = text.toLowerCase()
  const visit = (value: unknown): boolean => {
    if (typeof value === 'string') return value.toLowerCase().includes(needle)
    if (Array.isArray(value)) return value.some(element => visit(element))
    if (value !== null && typeof value === 'object') return Object.values(value).some(element => visit(element))
    return false
  }

  return visit(metadata)
}
