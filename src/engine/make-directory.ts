import {mkdirSync, statSync} from 'node:fs'
import path from 'node:path'

// Creates a directory and its missing parents one level at a time. Node 20's recursive mkdir loops for ever where
// creating a directory fails with ENOENT although its parent exists (under /proc, for one): a backup path or an
// export target given there spun the CLI until kill -9. A level that exists is passed over (a file or a broken link
// there makes the next level fail, ENOTDIR or ENOENT); the directory itself must end up a directory. The errors are
// those the recursive form gives elsewhere. Synchronous, as mkdir is: the async callers (the export) lose nothing by it.

export function makeDirectory(dir: string, mode: number): void {
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

/** "/a/b/c" as ["/", "/a", "/a/b", "/a/b/c"]. */
function levels(dir: string): string[] {
  const all: string[] = []
  for (let level = path.resolve(dir); ; level = path.dirname(level)) {
    all.unshift(level)
    if (path.dirname(level) === level) return all
  }
}
