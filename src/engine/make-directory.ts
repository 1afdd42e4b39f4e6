import {mkdirSync, statSync} from 'node:fs'
import {mkdir, stat} from 'node:fs/promises'
import path from 'node:path'

// Creates a directory and its missing parents one level at a time. Node 20's recursive mkdir loops for ever where
// creating a directory fails with ENOENT although its parent exists (under /proc, for one): a backup path or an
// export target given there spun the CLI until kill -9. A level that exists is passed over (a file or a broken link
// there makes the next level fail, ENOTDIR or ENOENT); the directory itself must end up a directory. The errors are
// those the recursive form gives elsewhere.

export function makeDirectorySync(dir: string, mode: number): void {
  const all = levels(dir)
  for (const level of all) {
    try {
      mkdirSync(level, {mode})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (level === all.at(-1) && !statSync(level).isDirectory()) throw error
    }
  }
}

export async function makeDirectory(dir: string, mode: number): Promise<void> {
  const all = levels(dir)
  for (const level of all) {
    try {
      await mkdir(level, {mode})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (level === all.at(-1) && !(await stat(level)).isDirectory()) throw error
    }
  }
}

/** "/a/b/c" as ["/", "/a", "/a/b", "/a/b/c"]. */
function levels(dir: string): string[] {
  const all: string[] = []
  for (let level = path.resolve(dir); ; level = path.dirname(level)) {
    all.unshift(level)
    if (path.dirname(level) === level) return all
  }
}
