import path from 'node:path'

import {maildirFolderName} from './maildir-names.js'
import {mkdirPrivate, publish} from './private-files.js'

/**
 * A Maildir++ tree being written: folders get cur/, new/ and tmp/ on first use, and each message is delivered the
 * Maildir way, written in tmp/ and renamed into cur/ (its flags are in its name, so it is not "new").
 */
export class MaildirTree {
  private readonly ready = new Set<string>()

  constructor(readonly root: string) {}

  /** Creates the folder's Maildir (idempotent); returns its directory relative to the tree's parent. */
  async ensureFolder(folderPath: string): Promise<string> {
    const name = maildirFolderName(folderPath)
    const dir = path.join(this.root, name)
    if (!this.ready.has(dir)) {
      for (const sub of ['cur', 'new', 'tmp']) await mkdirPrivate(path.join(dir, sub))
      this.ready.add(dir)
    }

    return path.join(path.basename(this.root), name)
  }

  /** Whether the folder has a Maildir in this tree. */
  has(folderPath: string): boolean {
    return this.ready.has(path.join(this.root, maildirFolderName(folderPath)))
  }

  get folderCount(): number {
    return this.ready.size
  }

  /** Delivers one message; returns its file relative to the tree's parent directory. */
  async deliver(folderPath: string, fileName: string, content: Buffer, mtimeMs: number): Promise<string> {
    const relativeDir = await this.ensureFolder(folderPath)
    const dir = path.join(this.root, maildirFolderName(folderPath))
    await publish(path.join(dir, 'tmp', fileName), path.join(dir, 'cur', fileName), content, mtimeMs)
    return path.join(relativeDir, 'cur', fileName)
  }
}
