// The body of a blob writer thread: one job at a time, in the order posted; a failure is answered, never thrown,
// so the thread lives on for the next blob.
import {parentPort} from 'node:worker_threads'

import {type BlobFileJob, writeBlobFile} from './blob-file-write.js'

// Loaded and listening: the pool may post work here instead of writing on its own thread.
parentPort!.postMessage({ready: true})
parentPort!.on('message', (message: BlobFileJob & {id: number}) => {
  try {
    parentPort!.postMessage({id: message.id, result: writeBlobFile(message)})
  } catch (error) {
    const {code, message: text} = error as NodeJS.ErrnoException
    parentPort!.postMessage({id: message.id, error: {code, message: text}})
  }
})
