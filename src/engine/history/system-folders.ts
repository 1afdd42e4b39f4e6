/**
 * Carbonio's system folders have fixed ids in every mailbox and exist from its creation, so a redolog writer may
 * never send `folder.created` for them. A reader that meets one of these ids without a folder in the catalog uses
 * its well-known path instead of a bare number.
 */
const SYSTEM_FOLDERS: ReadonlyMap<string, {path: string; view: null | string}> = new Map([
  ['1', {path: '/', view: null}],
  ['2', {path: '/Inbox', view: 'message'}],
  ['3', {path: '/Trash', view: null}],
  ['4', {path: '/Junk', view: 'message'}],
  ['5', {path: '/Sent', view: 'message'}],
  ['6', {path: '/Drafts', view: 'message'}],
  ['7', {path: '/Contacts', view: 'contact'}],
  ['10', {path: '/Calendar', view: 'appointment'}],
  ['13', {path: '/Emailed Contacts', view: 'contact'}],
  ['14', {path: '/Chats', view: 'message'}],
  ['15', {path: '/Tasks', view: 'task'}],
  ['16', {path: '/Briefcase', view: 'document'}],
])

/** Carbonio's id of the user root: a parent that is no folder of its own. */
export const ROOT_FOLDER_ID = '1'

/** The well-known path of a Carbonio system folder that holds mail (the IMAP server shows it as a mailbox). */
export function systemMailFolderPath(id: string): string | undefined {
  const folder = SYSTEM_FOLDERS.get(id)
  if (!folder || id === ROOT_FOLDER_ID) return undefined
  return folder.view === null || folder.view === 'message' ? folder.path : undefined
}

/** Whether a mailbox path (in any case) is where a Carbonio system mail folder lives: "INBOX", "/Sent"... */
export function isSystemMailPath(path: string): boolean {
  const key = path.replace(/^\/?/, '/').toLowerCase()
  return [...SYSTEM_FOLDERS.keys()].some(id => systemMailFolderPath(id)?.toLowerCase() === key)
}

export function systemFolderPath(id: string): string | undefined {
  return SYSTEM_FOLDERS.get(id)?.path
}

/** The path a reader shows for a folder id the catalog has never seen. */
export function unknownFolderPath(id: string): string {
  return systemFolderPath(id) ?? `/${id}`
}
