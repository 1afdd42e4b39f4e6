/**
 * Text that came from a message (a sender's name, a subject), made safe to print as part of one line of a listing:
 * every control character (C0, DEL, C1) is written as an escape (\r, \n, \u001b...). Anyone who sends mail chooses
 * these bytes (an encoded word may hold any), and printed raw, a line break forged extra lines in the list the
 * administrator reads and the scripts that parse it, and an ESC rewrote their terminal.
 */
export function visibleText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replaceAll(/[\u0000-\u001F\u007F-\u009F]/g, char => ESCAPES[char] ?? `\\u${char.codePointAt(0)!.toString(16).padStart(4, '0')}`)
}

const ESCAPES: Record<string, string> = {'\t': String.raw`\t`, '\n': String.raw`\n`, '\r': String.raw`\r`}
