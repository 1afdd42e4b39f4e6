// The body of a blob writer thread: one blob at a time, in the order posted (blob-file-write.ts).
import {type BlobFileJob, writeBlobFile} from './blob-file-write.js'
import {serveTasks} from './task-threads.js'

serveTasks((job: BlobFileJob) => ({result: writeBlobFile(job)}))
