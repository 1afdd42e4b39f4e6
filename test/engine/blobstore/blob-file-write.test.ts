import assert from 'node:assert/strict'
import {
  mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'

import {type BlobFileJob, writeBlobFile, writeBlobFileAside} from '../../../src/engine/blobstore/blob-file-write.js'
import {sha256} from '../../../src/engine/blobstore/blob-store.js'

const CONTENT = Buffer.from('Subject: a blob\r\n\r\nwritten by a thread or aside\r\n'.repeat(40))
const DIGEST = sha256(CONTENT)

// The writer threads use writeBlobFile; the main thread, until they are ready, writeBlobFileAside. Both must leave
// the same file.
for (const [name, write] of [['writeBlobFile', writeBlobFile], ['writeBlobFileAside', writeBlobFileAside]] as const) {
  describe(`blob file write (${name})`, () => {
    let root: string
    let job: BlobFileJob

    beforeEach(() => {
      root = mkdtempSync(path.join(tmpdir(), 'cb-blob-file-'))
      job = {
        content: CONTENT, digest: DIGEST, level: 6, target: path.join(root, 'items', DIGEST.slice(0, 2), DIGEST), temporaryDir: path.join(root, 'items', '.tmp'),
      }
    })

    afterEach(() => rmSync(root, {recursive: true, force: true}))

    it('publishes the gzip of the exact bytes under the digest, leaving no temporary file', async () => {
      const result = await write(job)
      assert.deepEqual(gunzipSync(readFileSync(job.target)), CONTENT)
      assert.deepEqual(result, {storedSize: readFileSync(job.target).length, written: true})
      assert.deepEqual(readdirSync(job.temporaryDir), [])
    })

    it('keeps a blob already there, unwritten', async () => {
      mkdirSync(path.dirname(job.target), {recursive: true})
      writeFileSync(job.target, 'already stored')
      assert.deepEqual(await write(job), {storedSize: 'already stored'.length, written: false})
      assert.equal(readFileSync(job.target, 'utf8'), 'already stored')
    })
  })
}
