import type {ImapSession} from '../appserver/imap/imap-session.js'

import {sha256} from '../blobstore/blob-store.js'

/**
 * Finds a message by its exact content anywhere in an account on the AppServer, for blobless content whose recorded
 * locators no longer lead to it: moved to another folder (a new UID there) since the last scan. The message is still
 * on the server, and a restore that said it was gone lost it. Candidates are the messages of the recorded size (every
 * folder's sizes are listed once, on the first need); only bytes that hash to the recorded digest are returned.
 */
export class MovedContent {
  private bySize: null | Promise<Map<number, Array<{mailbox: string; uid: number}>>> = null

  constructor(private readonly session: ImapSession, private readonly mailboxes: readonly string[]) {}

  async lookUp(digest: string, size: number): Promise<Buffer | undefined> {
    const candidates = (await this.index()).get(size) ?? []
    for (const {mailbox, uid} of candidates) {
      const bytes = (await this.session.bodies(mailbox, [uid])).get(uid)
      if (bytes && sha256(bytes) === digest) return bytes
    }

    return undefined
  }

  private index(): Promise<Map<number, Array<{mailbox: string; uid: number}>>> {
    this.bySize ??= this.listSizes()
    return this.bySize
  }

  private async listSizes(): Promise<Map<number, Array<{mailbox: string; uid: number}>>> {
    const map = new Map<number, Array<{mailbox: string; uid: number}>>()
    for (const mailbox of this.mailboxes) {
      for (const {size, uid} of await this.session.sizes(mailbox)) {
        const list = map.get(size)
        if (list) list.push({mailbox, uid})
        else map.set(size, [{mailbox, uid}])
      }
    }

    return map
  }
}
