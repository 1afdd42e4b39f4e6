import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {
  mkdirSync, readdirSync, statSync, writeFileSync,
} from 'node:fs'
import path from 'node:path'

import {RedologFeed} from '../../../src/engine/appserver/redolog/redolog-feed.js'
import {BlobStore} from '../../../src/engine/blobstore/blob-store.js'
import {setAttribute} from '../../../src/engine/config/config-store.js'
import {runScanner} from '../../../src/engine/scanner/realtime-scanner.js'
import {TransactionApplier} from '../../../src/engine/scanner/transaction-applier.js'
import {RedologWriter} from '../../helpers/redolog-writer.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

const ALICE = 'alice@example.com'
const T0 = Date.parse('2026-11-01T10:00:00.000Z')
const MINUTE = 60_000

function message(subject: string, body = 'hello'): Buffer {
  return Buffer.from(`Message-ID: <${subject}@example.com>\r\nSubject: ${subject}\r\n\r\n${body}\r\n`)
}

function digestOf(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex')
}

for (const dialect of DIALECTS) {
  describe(`Realtime Scanner on the redolog (${dialect})`, () => {
    let t: TestCatalog
    let log: RedologWriter
    let store: string

    beforeEach(async () => {
      t = await openTestCatalog(dialect)
      log = new RedologWriter(path.join(t.home, 'appserver', 'redolog'))
      store = path.join(t.home, 'appserver', 'store')
      mkdirSync(store, {recursive: true})
    })

    afterEach(async () => {
      await t.cleanup()
    })

    function storeFile(name: string, content: Buffer): string {
      const file = path.join(store, name)
      writeFileSync(file, content)
      return file
    }

    async function catchUp() {
      const feed = new RedologFeed(log.dir, {follow: false})
      return runScanner({
        catalog: t.catalog, server: 'mail1', feed, signal: new AbortController().signal,
      })
    }

    async function revisionsOf(item: string) {
      return t.catalog.db('item_revisions as r')
      .join('items as i', 'i.id', 'r.item_id')
      .where('i.remote_id', item)
      .orderBy('r.id')
      .select('r.operation', 'r.valid_from', 'r.valid_to', 'r.folder_remote_id', 'r.flags', 'r.deleted', 'r.blob_digest')
    }

    it('appends a revision per transaction and closes the previous one, never overwriting', async () => {
      const content = message('first')
      log.write(ALICE, 'account.created', {}, T0)
      log.write(ALICE, 'folder.created', {folder: '2', path: '/Inbox', view: 'message'}, T0)
      log.write(ALICE, 'folder.created', {folder: '5', path: '/Archive', view: 'message'}, T0)
      log.write(ALICE, 'item.created', {
        item: '257', type: 'message', folder: '2', flags: [], content: {path: storeFile('a', content), size: content.length, digest: digestOf(content)},
      }, T0 + MINUTE)
      log.write(ALICE, 'item.flags', {item: '257', flags: [String.raw`\Seen`]}, T0 + (2 * MINUTE))
      log.write(ALICE, 'item.moved', {item: '257', folder: '5'}, T0 + (3 * MINUTE))
      log.write(ALICE, 'item.deleted', {item: '257'}, T0 + (4 * MINUTE))
      const totals = await catchUp()
      assert.equal(totals.transactions, 7)
      assert.equal(totals.errors, 0)

      const revisions = await revisionsOf('257')
      assert.deepEqual(revisions.map(r => [r.operation, Number(r.valid_from) - T0, r.valid_to === null ? null : Number(r.valid_to) - T0, r.folder_remote_id, JSON.parse(r.flags), Boolean(r.deleted)]), [
        ['item.created', MINUTE, 2 * MINUTE, '2', [], false],
        ['item.flags', 2 * MINUTE, 3 * MINUTE, '2', [String.raw`\Seen`], false],
        ['item.moved', 3 * MINUTE, 4 * MINUTE, '5', [String.raw`\Seen`], false],
        ['item.deleted', 4 * MINUTE, null, '5', [String.raw`\Seen`], true],
      ])
      assert.ok(revisions.every(r => r.blob_digest === digestOf(content)))
      const blobs = new BlobStore(t.home)
      assert.deepEqual(await blobs.get(digestOf(content)), content)
    })

    it('syncs the directory of each blob it wrote before the batch that names the blob commits', async () => {
      const content = message('durable', 'y'.repeat(5000))
      log.write(ALICE, 'account.created', {}, T0)
      log.write(ALICE, 'item.created', {
        item: '1', type: 'message', folder: '2', content: {path: storeFile('durable', content)},
      }, T0)
      const syncs: Array<{blobsNamed: number; dirs: string[]}> = []
      const {catalog} = t
      // The catalog as the sync finds it: a blob named before its directory entry is on disk is what must not happen.
      class WatchedStore extends BlobStore {
        override async syncDirectories(dirs: Iterable<string>): Promise<void> {
          const named = await catalog.db('blobs').count({n: '*'})
          syncs.push({blobsNamed: Number(named[0].n), dirs: [...dirs]})
          return super.syncDirectories(dirs)
        }
      }

      const feed = new RedologFeed(log.dir, {follow: false})
      const applier = new TransactionApplier({
        catalog, blobs: new WatchedStore(t.home), feed, blobless: () => false,
      }, null)
      for await (const entries of feed.read(null, new AbortController().signal)) await applier.apply(entries)
      const digest = digestOf(content)
      assert.deepEqual(syncs, [{blobsNamed: 0, dirs: [path.join(t.home, 'items', digest.slice(0, 2))]}])
      assert.equal(Number((await catalog.db('blobs').where({digest}).count({n: '*'}))[0].n), 1)
    })

    it('stores a blob once for any number of items and accounts, files 0600 in 0700 directories', async () => {
      const shared = message('newsletter', 'x'.repeat(20_000))
      for (const [index, account] of ['a@example.com', 'b@example.com', 'c@other.org'].entries()) {
        log.write(account, 'account.created', {}, T0)
        log.write(account, 'item.created', {
          item: `${index}`, type: 'message', folder: '2', content: {path: storeFile(`n${index}`, shared)},
        }, T0)
        log.write(account, 'item.copied', {item: `${index}c`, source: `${index}`, folder: '2'}, T0 + 1)
      }

      await catchUp()
      const digest = digestOf(shared)
      const file = path.join(t.home, 'items', digest.slice(0, 2), digest)
      assert.equal(statSync(file).mode & 0o777, 0o600)
      assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700)
      assert.equal(readdirSync(path.dirname(file)).length, 1, 'one file, no temporary left behind')
      const blobs = await t.catalog.db('blobs').select()
      assert.equal(blobs.length, 1)
      assert.ok(Number(blobs[0].stored_size) < shared.length, 'gzip compressed')
      const references = await t.catalog.db('item_revisions').where({blob_digest: digest}).count({n: '*'})
      assert.equal(Number(references[0].n), 6)
    })

    it('empties a folder and its subfolders as they were at that moment, and marks the account uncertain', async () => {
      log.write(ALICE, 'account.created', {}, T0)
      log.write(ALICE, 'folder.created', {folder: '10', path: '/Projects'}, T0)
      log.write(ALICE, 'folder.created', {folder: '11', parent: '10', path: '/Projects/2026'}, T0)
      log.write(ALICE, 'folder.created', {folder: '12', path: '/Other'}, T0)
      log.write(ALICE, 'item.created', {
        item: '1', type: 'contact', folder: '10', metadata: {email: 'x@y.z'},
      }, T0)
      log.write(ALICE, 'item.created', {item: '2', type: 'contact', folder: '11'}, T0)
      log.write(ALICE, 'item.created', {item: '3', type: 'contact', folder: '12'}, T0)
      await catchUp()
      // Item 4 arrives and item 3 moves in within the same batch as the emptying.
      log.write(ALICE, 'item.created', {item: '4', type: 'task', folder: '11'}, T0 + MINUTE)
      log.write(ALICE, 'item.moved', {item: '3', folder: '10'}, T0 + MINUTE)
      log.write(ALICE, 'folder.emptied', {folder: '10'}, T0 + (2 * MINUTE))
      log.write(ALICE, 'item.created', {item: '5', type: 'task', folder: '10'}, T0 + (3 * MINUTE))
      await catchUp()

      for (const item of ['1', '2', '3', '4']) {
        const last = (await revisionsOf(item)).at(-1)!
        assert.equal(last.operation, 'folder.emptied', `item ${item}`)
        assert.equal(Boolean(last.deleted), true)
        assert.equal(Number(last.valid_from), T0 + (2 * MINUTE))
      }

      assert.equal(Boolean((await revisionsOf('5')).at(-1)!.deleted), false)
      const state = await t.catalog.db('account_state as s').join('accounts as a', 'a.id', 's.account_id').where('a.name', ALICE).first()
      assert.equal(Boolean(state.certain), false)
      assert.match(state.reason, /folder \/Projects was emptied/)
    })

    it('reports bad lines with file, line and reason, records them and goes on with the next ones', async () => {
      log.write(ALICE, 'account.created', {}, T0)
      log.raw('{"v":1,"seq":2,"time":"2026-11-01T10:00:00Z","account":"alice@example.com","op":"item.exploded","data":{}}\n')
      log.seq = 2
      log.raw('this is not json\n')
      log.write(ALICE, 'item.flags', {item: '999', flags: []}, T0)
      log.write(ALICE, 'item.created', {item: '1', type: 'contact', folder: '7'}, T0)
      log.skip(3)
      log.write(ALICE, 'item.flags', {item: '1', flags: [String.raw`\Flagged`]}, T0 + 1)
      log.raw(JSON.stringify({
        v: 1, seq: 4, time: T0, account: ALICE, op: 'item.deleted', data: {item: '1'},
      }) + '\n')
      const totals = await catchUp()

      const errors = await t.catalog.db('ingest_errors').orderBy('id').select('source', 'line', 'reason', 'account')
      const file = path.basename(log.file)
      assert.deepEqual(errors.map(e => [e.source, Number(e.line)]), [[file, 2], [file, 3], [file, 4], [file, 6], [file, 7]])
      assert.match(errors[0].reason, /unknown op 'item.exploded'/)
      assert.equal(errors[0].account, ALICE)
      assert.match(errors[1].reason, /not valid JSON/)
      assert.match(errors[2].reason, /item.flags for item 999, which the backup does not know/)
      assert.match(errors[3].reason, /sequence gap: seq 5..7 missing/)
      assert.match(errors[4].reason, /duplicate seq 4/)
      assert.equal(totals.errors, 5)
      // The lines after each bad one were applied.
      assert.deepEqual((await revisionsOf('1')).map(r => JSON.parse(r.flags)), [[], [String.raw`\Flagged`]])
      const state = await t.catalog.db('account_state').first()
      assert.equal(Boolean(state.certain), false)
    })

    it('a sequence gap of one server\'s redolog puts in doubt its accounts, not those another server follows', async () => {
      // A shared catalog: carol is followed by mail2's capture (claimed by mail2), alice by mail1's redolog.
      const [carol] = await t.catalog.db('accounts').insert({name: 'carol@example.com', server: 'mail2', first_seen: T0}, ['id'])
      await t.catalog.db('account_state').insert({
        account_id: Number((carol as {id: number}).id ?? carol), certain: true, reason: null, since: T0, last_scan_at: T0,
      })
      log.write(ALICE, 'account.created', {}, T0)
      log.skip(2)
      log.write(ALICE, 'item.created', {item: '1', type: 'contact', folder: '7'}, T0)
      const feed = new RedologFeed(log.dir, {follow: false, scope: 'mail1'})
      await runScanner({
        catalog: t.catalog, server: 'mail1', feed, signal: new AbortController().signal,
      })
      const states = await t.catalog.db('account_state as s').join('accounts as a', 'a.id', 's.account_id').select('a.name', 's.certain')
      assert.deepEqual(states.map(s => [s.name, Boolean(s.certain)]).sort(), [[ALICE, false], ['carol@example.com', true]])
    })

    it('reports a broken file name once, not again each time the scanner starts', async () => {
      log.write(ALICE, 'account.created', {}, T0)
      writeFileSync(path.join(log.dir, 'redo-42.log'), '')
      assert.equal((await catchUp()).errors, 1)
      log.write(ALICE, 'item.created', {item: '1', type: 'contact', folder: '7'}, T0)
      const again = await catchUp()
      assert.equal(again.transactions, 1)
      assert.equal(again.errors, 0)
      assert.equal(await catchUp().then(totals => totals.errors), 0)
      const errors = await t.catalog.db('ingest_errors').select('source', 'reason')
      assert.deepEqual(errors.map(e => e.source), ['redo-42.log'])
      assert.match(errors[0].reason, /is not a redolog file name/)
    })

    it('waits for a half-written line, follows rotation and resumes from the checkpoint without repeats', async () => {
      log.write(ALICE, 'account.created', {}, T0)
      log.write(ALICE, 'item.created', {item: '1', type: 'contact', folder: '7'}, T0)
      const half = JSON.stringify({
        v: 1, seq: 3, time: T0 + 1, account: ALICE, op: 'item.flags', data: {item: '1', flags: ['a']},
      })
      log.raw(half.slice(0, 20))
      assert.equal((await catchUp()).transactions, 2)
      log.raw(half.slice(20) + '\n')
      log.seq = 3
      log.rotate()
      log.write(ALICE, 'item.flags', {item: '1', flags: ['b']}, T0 + 2)
      log.rotate()
      log.write(ALICE, 'item.flags', {item: '1', flags: ['c']}, T0 + 3)
      assert.equal((await catchUp()).transactions, 3)
      assert.equal((await catchUp()).transactions, 0)
      assert.deepEqual((await revisionsOf('1')).map(r => JSON.parse(r.flags)), [[], ['a'], ['b'], ['c']])
      assert.equal(Number((await t.catalog.db('ingest_errors').count({n: '*'}))[0].n), 0)
      const checkpoint = JSON.parse((await t.catalog.db('checkpoints').where({connector: 'redolog'}).first()).position)
      assert.equal(checkpoint.seq, 5)
      assert.equal(checkpoint.file, path.basename(log.file))
    })

    it('records content that is gone on the server as missing, without stopping', async () => {
      log.write(ALICE, 'account.created', {}, T0)
      log.write(ALICE, 'item.created', {
        item: '1', type: 'message', folder: '2', content: {path: path.join(store, 'vanished'), size: 10, digest: 'a'.repeat(64)},
      }, T0)
      const ok = message('ok')
      log.write(ALICE, 'item.created', {
        item: '2', type: 'message', folder: '2', content: {inline: ok.toString('base64')},
      }, T0)
      const bad = message('tampered')
      log.write(ALICE, 'item.created', {
        item: '3', type: 'message', folder: '2', content: {path: storeFile('t', bad), digest: 'b'.repeat(64)},
      }, T0)
      await catchUp()
      const [gone] = await t.catalog.db('item_revisions as r').join('items as i', 'i.id', 'r.item_id').where('i.remote_id', '1').select('r.content_missing', 'r.blob_digest')
      assert.equal(Boolean(gone.content_missing), true)
      assert.equal(gone.blob_digest, 'a'.repeat(64))
      const reasons = (await t.catalog.db('ingest_errors').orderBy('id').pluck('reason')).join('\n')
      assert.match(reasons, /vanished is gone on the AppServer/)
      assert.match(reasons, /does not match the transaction/)
      assert.deepEqual(await new BlobStore(t.home).get(digestOf(ok)), ok)
      assert.equal(await new BlobStore(t.home).has('b'.repeat(64)), false)
    })

    it('renames an account to the address of a deleted one, which keeps its history under another name', async () => {
      const OLD = 'old@example.com'
      log.write(OLD, 'account.created', {}, T0)
      log.write(OLD, 'item.created', {item: '1', type: 'contact', folder: '7'}, T0)
      log.write(OLD, 'account.deleted', {}, T0 + MINUTE)
      log.write(ALICE, 'account.created', {}, T0)
      log.write(ALICE, 'account.renamed', {name: OLD}, T0 + (2 * MINUTE))
      const content = message('after the rename')
      log.write(OLD, 'item.created', {
        item: '2', type: 'message', folder: '2', content: {inline: content.toString('base64')},
      }, T0 + (3 * MINUTE))
      const totals = await catchUp()
      assert.equal(totals.errors, 0, (await t.catalog.db('ingest_errors').pluck('reason')).join('\n'))
      const accounts = await t.catalog.db('accounts').orderBy('id').select('name', 'deleted_at')
      assert.deepEqual(accounts.map(a => [a.name, a.deleted_at !== null]), [[`${OLD}#deleted-${T0 + MINUTE}`, true], [OLD, false]])
      const items = await t.catalog.db('items as i').join('accounts as a', 'a.id', 'i.account_id').orderBy('i.remote_id').select('a.name', 'i.remote_id')
      assert.deepEqual(items.map(i => [i.name, i.remote_id]), [[`${OLD}#deleted-${T0 + MINUTE}`, '1'], [OLD, '2']])
      assert.deepEqual(await new BlobStore(t.home).get(digestOf(content)), content)
    })

    it('records a content path that names a directory as missing, and goes on with the lines after it', async () => {
      mkdirSync(path.join(store, 'a-directory'))
      log.write(ALICE, 'account.created', {}, T0)
      log.write(ALICE, 'item.created', {
        item: '1', type: 'message', folder: '2', content: {path: path.join(store, 'a-directory')},
      }, T0)
      log.write(ALICE, 'item.created', {
        item: '2', type: 'message', folder: '2', content: {path: path.join(store, 'a-directory'), size: 5 * 1024 * 1024},
      }, T0)
      const ok = message('after')
      log.write(ALICE, 'item.created', {
        item: '3', type: 'message', folder: '2', content: {inline: ok.toString('base64')},
      }, T0)
      const totals = await catchUp()
      assert.equal(totals.transactions, 4)
      const missing = await t.catalog.db('item_revisions as r').join('items as i', 'i.id', 'r.item_id').whereIn('i.remote_id', ['1', '2']).pluck('r.content_missing')
      assert.deepEqual(missing.map(Boolean), [true, true])
      const reasons = await t.catalog.db('ingest_errors').orderBy('id').pluck('reason')
      assert.equal(reasons.length, 2)
      for (const reason of reasons) assert.match(reason, /a-directory is a directory, not a file: recorded as missing/)
      assert.deepEqual(await new BlobStore(t.home).get(digestOf(ok)), ok)
    })

    it('stores, even blobless, inline content that the AppServer keeps nowhere else', async () => {
      await setAttribute(t.catalog, {level: 'global', target: ''}, 'backupBloblessMode', 'true')
      const only = message('only in the line')
      const elsewhere = message('also on the server')
      const inline = (content: Buffer) => ({inline: content.toString('base64'), size: content.length, digest: digestOf(content)})
      log.write(ALICE, 'account.created', {}, T0)
      log.write(ALICE, 'item.created', {
        item: '1', type: 'contact', folder: '7', content: inline(only),
      }, T0)
      log.write(ALICE, 'item.created', {
        item: '2', type: 'contact', folder: '7', content: {...inline(elsewhere), locator: 'store:42'},
      }, T0)
      await catchUp()
      const blobs = new BlobStore(t.home)
      assert.ok((await blobs.get(digestOf(only))).equals(only), 'the line was its only copy')
      assert.equal(await blobs.has(digestOf(elsewhere)), false, 'blobless: the AppServer has it at its locator')
      assert.deepEqual(await t.catalog.db('blobs').orderBy('stored').pluck('stored').then(values => values.map(Boolean)), [false, true])
    })

    it('stores a large content as it reads the file, checks it against the announced digest, and only hashes it blobless', async () => {
      const big = message('big', randomBytes(3_900_000).toString('base64').replaceAll(/.{76}/g, '$&\r\n'))
      assert.ok(big.length > 4 * 1024 * 1024)
      const other = Buffer.concat([big, Buffer.from('more\r\n')])
      log.write(ALICE, 'account.created', {}, T0)
      log.write(ALICE, 'item.created', {
        item: '1', type: 'message', folder: '2', content: {path: storeFile('big', big), size: big.length, digest: digestOf(big)},
      }, T0)
      log.write(ALICE, 'item.created', {
        item: '2', type: 'message', folder: '2', content: {path: storeFile('other', other), digest: 'c'.repeat(64)},
      }, T0)
      await catchUp()
      const blobs = new BlobStore(t.home)
      assert.ok((await blobs.get(digestOf(big))).equals(big))
      assert.equal(await blobs.has(digestOf(other)), false, 'a content that is not what was announced is not published')
      assert.deepEqual(readdirSync(blobs.temporaryDir), [])
      assert.match((await t.catalog.db('ingest_errors').pluck('reason')).join('\n'), /other does not match the transaction/)
      const [tampered] = await revisionsOf('2')
      assert.equal(tampered.blob_digest, 'c'.repeat(64))

      await setAttribute(t.catalog, {level: 'global', target: ''}, 'backupBloblessMode', 'true')
      const third = Buffer.concat([big, Buffer.from('third\r\n')])
      log.write(ALICE, 'item.created', {
        item: '3', type: 'message', folder: '2', content: {path: storeFile('third', third)},
      }, T0 + 1)
      await catchUp()
      assert.equal((await revisionsOf('3'))[0].blob_digest, digestOf(third))
      assert.equal(await blobs.has(digestOf(third)), false)
    })
  })
}
