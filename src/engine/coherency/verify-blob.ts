import {createHash} from 'node:crypto'
import {type FileHandle, open} from 'node:fs/promises'
import {Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {promisify} from 'node:util'
import {
  createGunzip, gunzip, type InputType, type ZlibOptions,
} from 'node:zlib'

const gunzipAsync = promisify(gunzip) as (buffer: InputType, options?: ZlibOptions) => Promise<Buffer>

export type BlobVerdict
  = | {status: 'corrupt'; storedSize: number; detail: string}
    | {status: 'missing'}
    | {status: 'ok'; size: number; storedSize: number}

// Most blobs are mail messages of a few KiB: for them one read and one gunzip on the thread pool cost far less
// than a stream per file (measured: about 1.5x). Bigger files, and contents that inflate past the output limit,
// stream in 1 MiB chunks, so memory per blob in flight stays bounded whatever the blob.
const WHOLE_FILE_MAX = 1 << 20
const WHOLE_OUTPUT_MAX = 16 << 20
const STREAM_CHUNK = 1 << 20

/**
 * Reads a blob file, gunzips it and checks that the content hashes to its name. Only a file that is not there is
 * "missing"; anything else that keeps the content from being read back exactly (a file it may not open included)
 * is "corrupt".
 */
export async function verifyBlobFile(file: string, digest: string): Promise<BlobVerdict> {
  let handle: FileHandle
  try {
    handle = await open(file, 'r')
  } catch (error) {
    const {code} = (error as NodeJS.ErrnoException)
    if (code === 'ENOENT' || code === 'ENOTDIR') return {status: 'missing'}
    // A file the backup cannot open (its mode or owner changed) cannot give its content back either: one damaged
    // blob to report with its items (and to take again from the server), not a reason to stop the whole check.
    if (code === 'EACCES' || code === 'EPERM') return {status: 'corrupt', storedSize: 0, detail: `cannot be read (${code}): check the owner and mode of the file and of its directory`}
    throw error
  }

  try {
    const info = await handle.stat()
    if (!info.isFile()) return {status: 'corrupt', storedSize: 0, detail: 'not a regular file'}
    if (info.size <= WHOLE_FILE_MAX) {
      const whole = await verifyWhole(handle, digest, info.size)
      if (whole) return whole
    }

    return await verifyStreaming(handle, digest, info.size)
  } finally {
    await handle.close()
  }
}

/** undefined when the content inflates past WHOLE_OUTPUT_MAX: the caller streams it instead. */
async function verifyWhole(handle: FileHandle, digest: string, storedSize: number): Promise<BlobVerdict | undefined> {
  const compressed = await handle.readFile()
  let content: Buffer
  try {
    content = await gunzipAsync(compressed, {maxOutputLength: WHOLE_OUTPUT_MAX})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return undefined
    return {status: 'corrupt', storedSize, detail: `does not gunzip: ${gunzipReason(error)}`}
  }

  return verdict(createHash('sha256').update(content).digest('hex'), digest, content.length, storedSize)
}

async function verifyStreaming(handle: FileHandle, digest: string, storedSize: number): Promise<BlobVerdict> {
  const hash = createHash('sha256')
  let size = 0
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk)
      size += chunk.length
      done()
    },
  })
  try {
    await pipeline(
      handle.createReadStream({start: 0, highWaterMark: STREAM_CHUNK, autoClose: false}),
      createGunzip({chunkSize: STREAM_CHUNK}),
      sink,
    )
  } catch (error) {
    return {status: 'corrupt', storedSize, detail: `does not gunzip: ${gunzipReason(error)}`}
  }

  return verdict(hash.digest('hex'), digest, size, storedSize)
}

function verdict(actual: string, digest: string, size: number, storedSize: number): BlobVerdict {
  if (actual === digest) return {status: 'ok', size, storedSize}
  return {status: 'corrupt', storedSize, detail: `content (${size} bytes) hashes to ${actual}, not to its name`}
}

function gunzipReason(error: unknown): string {
  const {code, message} = error as NodeJS.ErrnoException
  return code ? `${message} (${code})` : message
}
