import {stat} from 'node:fs/promises'
import path from 'node:path'

import type {Catalog} from '../catalog/catalog.js'
import type {ItemHistory} from './item-history.js'

import {imapConfigured, imapSettings} from '../appserver/imap/imap-settings.js'
import {BlobStore} from '../blobstore/blob-store.js'
import {serverConfig} from '../config/config-store.js'
import {UserError} from '../errors.js'
import {writePrivateFile} from '../export/private-files.js'
import {describePathFailure} from '../path-failure.js'
import {ContentSource} from '../restore/content-source.js'
import {isoTime} from './history-time.js'
import {contentUnavailableReason, type ItemRevision} from './item-revision.js'

/**
 * The raw content of one state of an item, exactly as the AppServer had it (the blob store verifies the digest on
 * the way out). Content a blobless backup only references is read back from the AppServer of `server`, as restores
 * read it (digest verified). A state whose content cannot be had is an error that says why.
 */
export async function readItemContent(catalog: Catalog, history: ItemHistory, state: ItemRevision, server: string): Promise<Buffer> {
  const what = `item ${history.item} of ${history.account.name} at ${isoTime(state.validFrom)}`
  if (state.blobDigest !== null && !state.contentStored && !state.contentMissing) {
    // Without this read, getItem dump_blob refused every message of a blobless backup that the server still has.
    const read = await fromAppServer(catalog, history, state, server)
    if (!read.ok) throw new UserError(`cannot dump the content of ${what}: ${read.reason}`)
    return read.bytes
  }

  const reason = contentUnavailableReason(state)
  if (reason) throw new UserError(`cannot dump the content of ${what}: ${reason}`)
  try {
    return await new BlobStore(catalog.home).get(state.blobDigest!)
  } catch (error) {
    const {code} = error as NodeJS.ErrnoException
    const detail = code === 'ENOENT' ? `blob ${state.blobDigest} is missing from the blob store` : (error as Error).message
    throw new UserError(`cannot dump the content of ${what}: ${detail}; the backup's blob store is damaged`)
  }
}

async function fromAppServer(catalog: Catalog, history: ItemHistory, state: ItemRevision, server: string): ReturnType<ContentSource['read']> {
  const config = await serverConfig(catalog, server)
  const settings = imapConfigured(config) ? imapSettings(config) : null
  const content = new ContentSource(catalog, {account: history.account.name, settings, signal: new AbortController().signal})
  try {
    return await content.read({accountKey: history.account.key, item: history.item, state})
  } finally {
    await content.close()
  }
}

/** Writes content to a file (0600, under a temporary name first): an existing file is replaced only when complete. */
export async function writeContentFile(output: string, content: Buffer): Promise<string> {
  const target = path.resolve(output)
  // A directory is refused before anything is written: the temporary file would otherwise go into its parent.
  const isDirectory = await stat(target).then(info => info.isDirectory(), () => false)
  try {
    if (isDirectory) throw Object.assign(new Error('a directory'), {code: 'EISDIR'})
    await writePrivateFile(target, content)
  } catch (error) {
    throw new UserError(`cannot write ${target}: ${describePathFailure(error, target)}`)
  }

  return target
}
