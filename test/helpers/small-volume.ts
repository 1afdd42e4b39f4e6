import {spawnSync} from 'node:child_process'
import {
  closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

/** A small tmpfs under a temporary directory: a volume a test can fill, as a real one fills. */
export interface SmallVolume {
  /** The temporary directory, for the test's other files. */
  root: string
  /** Where the tmpfs is mounted. */
  volume: string
  /** Unmounts it and removes the temporary directory. */
  remove(): void
}

/**
 * Mounts a tmpfs of `size` (mount's syntax: "2m", "256k"), or skips the test: that needs root (as CI runs) and a
 * kernel that lets it mount one.
 */
export function mountSmallVolume(context: {skip(): void}, prefix: string, size: string): SmallVolume {
  const root = mkdtempSync(path.join(tmpdir(), prefix))
  const volume = path.join(root, 'volume')
  mkdirSync(volume)
  const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', volume]).status === 0
  if (!mounted) {
    rmSync(root, {recursive: true, force: true})
    console.warn('    (skipped: mounting a small tmpfs needs root and a kernel that allows it)')
    context.skip()
  }

  return {
    root,
    volume,
    remove() {
      spawnSync('umount', [volume])
      rmSync(root, {recursive: true, force: true})
    },
  }
}

/** Writes zeros into `file` until the volume has no room left. */
export function fillVolume(file: string): void {
  const fd = openSync(file, 'w')
  const chunk = Buffer.alloc(16 * 1024)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    closeSync(fd)
  }
}
