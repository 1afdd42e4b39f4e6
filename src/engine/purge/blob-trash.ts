import type {Knex} from 'knex'

import {
  mkdir, opendir, rename, rm, stat,
} from 'node:fs/promises'
import path from 'node:path'

import {blobPath} from '../blobstore/blob-path.js'

export const TRASH_DIR = 'purge-trash'
const RECOVER_BATCH = 500
const DIGEST = /^[0-9a-f]{64}$/

/**
 * Where the purge puts a blob file between deleting its row and committing. The file must leave its real name
 * before the commit: a scanner batch waiting on the row then finds it gone and stores the content again. But it
 * must not be destroyed before the commit either: if the commit fails (or the process dies), the row is still
 * there and the content must be too. So the file is renamed into the trash (same file system, atomic), put back
 * if the transaction fails, and removed once it committed; a purge that died in between leaves it to the next
 * one's recover().
 */
export class BlobTrash {
  readonly dir: string
  private ready = false

  constructor(readonly home: string) {
    this.dir = path.join(home, TRASH_DIR)
  }

  /** Moves a blob file into the trash; returns its size, or null when there was no file. */
  async moveIn(digest: string): Promise<null | number> {
    if (!this.ready) {
      await mkdir(this.dir, {recursive: true, mode: 0o700})
      this.ready = true
    }

    const trashed = this.pathOf(digest)
    try {
      await rename(blobPath(this.home, digest), trashed)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw error
    }

    return (await stat(trashed)).size
  }

  /** Puts files back under their real names after a transaction that did not commit. */
  async restore(digests: readonly string[]): Promise<void> {
    for (const digest of digests) await this.putBack(digest)
  }

  /** Removes files whose rows are gone for good. */
  async empty(digests: readonly string[]): Promise<void> {
    for (const digest of digests) await rm(this.pathOf(digest), {force: true})
  }

  /**
   * Settles what a purge that died between moving and committing left behind: a file whose row still exists
   * goes back (unless the content was stored again meanwhile), any other is removed. Reads the directory as a
   * stream, a batch of names at a time.
   */
  async recover(db: Knex): Promise<{removed: number; restored: number}> {
    const counts = {removed: 0, restored: 0}
    let dir
    try {
      dir = await opendir(this.dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return counts
      throw error
    }

    let batch: string[] = []
    const settle = async () => {
      const names = batch.filter(name => DIGEST.test(name))
      const rows: string[] = names.length === 0 ? [] : await db('blobs').whereIn('digest', names).pluck('digest')
      for (const name of batch) {
        if (rows.includes(name)) {
          await this.putBack(name)
          counts.restored++
        } else {
          await rm(path.join(this.dir, name), {force: true})
          counts.removed++
        }
      }

      batch = []
    }

    for await (const entry of dir) {
      batch.push(entry.name)
      if (batch.length >= RECOVER_BATCH) await settle()
    }

    await settle()
    return counts
  }

  private pathOf(digest: string): string {
    return path.join(this.dir, digest)
  }

  private async putBack(digest: string): Promise<void> {
    const target = blobPath(this.home, digest)
    try {
      await mkdir(path.dirname(target), {recursive: true, mode: 0o700})
      // Same bytes whether or not a scanner stored the content again meanwhile: replacing is harmless.
      await rename(this.pathOf(digest), target)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
}
