import {decodeModifiedUtf7} from './imap-utf7.js'

// Reading back what maildir-names.ts writes: doExternalRestore finds each folder and message of an exported Maildir++
// tree, including one that a mail program changed since (flags renamed into a file name, a folder added).

const LETTER_FLAGS: ReadonlyMap<string, string> = new Map([
  ['D', String.raw`\Draft`],
  ['F', String.raw`\Flagged`],
  ['R', String.raw`\Answered`],
  ['S', String.raw`\Seen`],
  ['T', String.raw`\Deleted`],
])

/** The folder path of a Maildir++ directory name: "" is "/INBOX", ".Archive.v1\2e2" is "/Archive/v1.2". */
export function folderPathOfMaildir(name: string): string {
  if (name === '' || name === '.') return '/INBOX'
  const segments = name.replace(/^\./, '').split('.').map(segment => decodeModifiedUtf7(segment
  .replaceAll(/\\([\da-fA-F]{2})/g, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))))
  return `/${segments.join('/')}`
}

export interface MaildirFileName {
  /** The item id of a file doExport named (`<time>.<item id>.carbonio-backup:2,<flags>`), else null. */
  item: null | string
  /** IMAP system flags from the info part (`:2,DFRST`); none for a message in new/. */
  flags: string[]
}

/** What a Maildir file name says: the exported item it is (if any) and its flags. */
export function parseMaildirFileName(name: string): MaildirFileName {
  const info = /:2,([^:]*)$/.exec(name)
  const flags = info ? [...new Set(info[1])].map(letter => LETTER_FLAGS.get(letter)).filter((flag): flag is string => flag !== undefined) : []
  const exported = /^\d+\.([^.]+)\.carbonio-backup(?:[,:]|$)/.exec(name)
  let item: null | string = null
  if (exported) {
    try {
      item = decodeURIComponent(exported[1])
    } catch {
      item = null
    }
  }

  return {item, flags: flags.sort()}
}
