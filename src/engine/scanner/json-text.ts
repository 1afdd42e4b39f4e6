/**
 * JSON text of the objects a revision row holds (metadata, flags, tags), remembered per object: a flags change
 * copies the previous version's metadata object as it is, and serialising it again for every new revision was a
 * noticeable share of the scanner's main-thread time. Objects read from the catalog remember the text they came
 * from. Versions are never mutated after they are made, so an object's text cannot go stale.
 */
const texts = new WeakMap<object, string>()

export function jsonText(value: object): string {
  let text = texts.get(value)
  if (text === undefined) {
    text = JSON.stringify(value)
    texts.set(value, text)
  }

  return text
}

export function parseJsonText<T extends object>(text: string): T {
  const value = JSON.parse(text) as T
  texts.set(value, text)
  return value
}
