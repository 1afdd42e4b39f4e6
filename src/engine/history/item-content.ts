import path from 'node:path'

import type {Catalog} from '../catalog/catalog.js'
import type {ItemHistory} from './item-history.js'

import {BlobStore} from '../blobstore/blob-store.js'
import {UserError} from '../errors.js'
import {writePrivateFile} from '../export/private-files.js'
import {isoTime} from './history-time.js'
import {contentUnavailableReason, type ItemRevision} from './item-revision.js'

/**
 * The raw content of one state of an item, exactly as the AppServer had it (the blob store verifies the digest on
 * the way out). A state whose content is not in the backup is an error that says why.
 */
export async function readItemContent(catalog: Catalog, history: ItemHistory, state: ItemRevision): Promise<Buffer> {
  const reason = contentUnavailableReason(state)
  const what = `item ${history.item} of ${history.account.name} at ${isoTime(state.validFrom)}`
  if (reason) throw new UserError(`cannot dump the content of ${what}: ${reason}`)
  try {
    return await new BlobStore(catalog.home).get(state.blobDigest!)
  } catch (error) {
    const {code} = error as NodeJS.ErrnoException
    const detail = code === 'ENOENT' ? `blob ${state.blobDigest} is missing from the blob store` : (error as Error).message
    throw new UserError(`cannot dump the content of ${what}: ${detail}; the backup's blob store is damaged`)
  }
}

/** Writes content to a file (0600, under a temporary name first): an existing file is replaced only when complete. */
export async function writeContentFile(output: string, content: Buffer): Promise<string> {
  const target = path.resolve(output)
  try {
    await writePrivateFile(target, content)
  } catch (error) {
    throw new UserError(`cannot write ${target}: ${(error as Error).message}`)
  }

  return target
}
