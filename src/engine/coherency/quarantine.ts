import {
  appendFile, chmod, copyFile, lstat, mkdir, rename, rm,
} from 'node:fs/promises'
import path from 'node:path'

import type {FindingKind} from './findings.js'

/** One line of a quarantine's manifest.jsonl: where a file came from and why it was moved. */
export interface ManifestEntry {
  /** Where the file was, relative to the backup path. */
  path: string
  /** Where it is now, relative to the backup path. */
  quarantined: string
  kind: FindingKind
  reason: string
  digest?: string
  movedAt: string
}

/** A file moved into quarantine, so that a failed catalog commit can put it back. */
export interface MovedFile {
  from: string
  to: string
}

/**
 * `<backup path>/quarantine/<time of the check>/`: files the check moved out of the blob store, never deleted,
 * under their path relative to the backup path, with a manifest saying why. It holds everyone's mail like the
 * store does: directories 0700, files 0600. Created only when the first file is moved.
 */
export class Quarantine {
  private directory: null | string = null

  constructor(
    readonly home: string,
    private readonly startedAt: number,
  ) {}

  /** The directory of this run, relative to the backup path (null while nothing was moved). */
  get location(): null | string {
    return this.directory === null ? null : path.relative(this.home, this.directory)
  }

  /** Moves a file (given relative to the backup path) into quarantine and records why. */
  async move(relative: string, kind: FindingKind, reason: string, digest?: string): Promise<MovedFile> {
    const directory = await this.ensureDirectory()
    const from = path.join(this.home, relative)
    const to = await freeName(path.join(directory, relative))
    await mkdir(path.dirname(to), {recursive: true, mode: 0o700})
    await moveFile(from, to)
    await chmod(to, 0o600)
    const entry: ManifestEntry = {
      path: relative, quarantined: path.relative(this.home, to), kind, reason, ...(digest ? {digest} : {}), movedAt: new Date().toISOString(),
    }
    await appendFile(path.join(directory, 'manifest.jsonl'), JSON.stringify(entry) + '\n', {mode: 0o600})
    return {from, to}
  }

  /** Undoes a move whose catalog change did not commit, so the catalog and the store agree again. */
  async restore(moved: MovedFile, reason: string): Promise<void> {
    await moveFile(moved.to, moved.from)
    const relative = path.relative(this.home, moved.from)
    const line = {
      path: relative, quarantined: null, restored: true, reason, movedAt: new Date().toISOString(),
    }
    await appendFile(path.join(this.directory!, 'manifest.jsonl'), JSON.stringify(line) + '\n', {mode: 0o600})
  }

  private async ensureDirectory(): Promise<string> {
    if (this.directory) return this.directory
    const root = path.join(this.home, 'quarantine')
    await mkdir(root, {recursive: true, mode: 0o700})
    // 2026-11-01T100000Z: sorts by time, and no colon for file systems and tools that mind one.
    const stamp = new Date(this.startedAt).toISOString().replaceAll(':', '').replace(/\.\d+Z$/, 'Z')
    for (let attempt = 1; ; attempt++) {
      const candidate = path.join(root, attempt === 1 ? stamp : `${stamp}-${attempt}`)
      try {
        await mkdir(candidate, {mode: 0o700})
        this.directory = candidate
        return candidate
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
    }
  }
}

/** A name that does not exist yet: the same path quarantined twice in one run gets .1, .2, ... */
async function freeName(target: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const candidate = attempt === 0 ? target : `${target}.${attempt}`
    try {
      await lstat(candidate)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return candidate
      throw error
    }
  }
}

/** rename, or copy then remove when items/ and quarantine/ are on different file systems. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error
    await copyFile(from, to)
    await rm(from)
  }
}
