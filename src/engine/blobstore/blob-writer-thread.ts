// The body of a blob writer thread: one blob at a time, in the order posted (blob-file-write.ts). Content that was
// lent (moved here instead of copied, blob-writer-pool.ts) goes back the same way.
import {type BlobFileJob, writeBlobFile} from './blob-file-write.js'
import {serveTasks} from './task-threads.js'

serveTasks((job: BlobFileJob & {lent?: boolean}) => {
  const result = writeBlobFile(job)
  if (!job.lent) return {result}
  return {result: {...result, content: job.content}, transfer: [job.content.buffer as ArrayBuffer]}
})
