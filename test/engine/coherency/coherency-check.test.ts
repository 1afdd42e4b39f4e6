import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {randomInt} from 'node:crypto'
import {
  existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync,
} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'

import type {CoherencyReport} from '../../../src/engine/coherency/coherency-check.js'
import type {ProgressEvent} from '../../../src/engine/progress.js'

import {TEMPORARY_DIR, writerIdentity} from '../../../src/engine/blobstore/blob-temporary.js'
import {coherencyCheck} from '../../../src/engine/coherency/coherency-check.js'
import {FINDING_KINDS, type FindingKind} from '../../../src/engine/coherency/findings.js'
import {OperationAborted} from '../../../src/engine/errors.js'
import {BlobTrash} from '../../../src/engine/purge/blob-trash.js'
import {purge} from '../../../src/engine/purge/purge.js'
import {catalogSnapshot} from '../../helpers/catalog-snapshot.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'
import {contextFor} from '../purge/purge-fixture.js'
import {
  ALICE, BOB, catchUp, check, type CoherencyScenario, sha256, writeCoherencyScenario,
} from './coherency-scenario.js'

const DAY_MS = 86_400_000

/** The kinds with a non-zero count, so that an unexpected finding shows in the assertion message. */
function kindsFound(report: CoherencyReport): Partial<Record<FindingKind, number>> {
  return Object.fromEntries(FINDING_KINDS.filter(kind => report.findings[kind].count > 0).map(kind => [kind, report.findings[kind].count]))
}

function sorted<T>(values: T[]): T[] {
  return [...values].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
}

const relative = (digest: string) => path.join('items', digest.slice(0, 2), digest)

function flipOneByte(file: string): number {
  const bytes = readFileSync(file)
  // Bytes 4 to 9 of a gzip header (MTIME, XFL, OS) carry nothing of the content: a flip there leaves the blob's
  // content exact, so it is not corrupt. From byte 10 on, the deflate data and the CRC32/ISIZE trailer.
  const at = 10 + randomInt(bytes.length - 10)
  bytes[at] ^= 0xFF
  writeFileSync(file, bytes)
  return at
}

/** A temporary file's name in items/.tmp/, as blob-temporary.ts makes it, for any writer. */
function temporaryName(writer: string, pid: number, random: string): string {
  return `.tmp-${writer}-${pid}-${random}-${'a'.repeat(64)}`
}

function backdate(file: string, ms: number): void {
  const when = new Date(Date.now() - ms)
  utimesSync(file, when, when)
}

for (const dialect of DIALECTS) {
  describe(`doCoherencyCheck engine (${dialect})`, function () {
    this.timeout(60_000)
    let t: TestCatalog
    let scenario: CoherencyScenario

    beforeEach(async () => {
      t = await openTestCatalog(dialect)
      const written = writeCoherencyScenario(t.home)
      scenario = written.scenario
      await catchUp(t.catalog, written.log)
    })

    afterEach(async () => {
      await t.cleanup()
    })

    const blobFile = (digest: string) => path.join(t.home, 'items', digest.slice(0, 2), digest)
    /** Two different stored blobs, picked at random: one to corrupt and one to delete. */
    function pickTwo(): [string, string] {
      const digests = [...scenario.stored.keys()]
      const first = digests.splice(randomInt(digests.length), 1)[0]
      return [first, digests[randomInt(digests.length)]]
    }

    it('reports nothing on a healthy backup, after reading back every stored blob', async () => {
      const {events, report} = await check(t.catalog)
      assert.deepEqual(kindsFound(report), {})
      assert.equal(report.coherent, true)
      assert.equal(report.problems, 0)
      assert.equal(report.fixed, null)
      assert.equal(report.checked.accounts, 2)
      assert.equal(report.checked.items, scenario.items)
      assert.equal(report.checked.folders, scenario.folders)
      assert.equal(report.checked.blobsVerified, scenario.stored.size)
      const contentBytes = [...scenario.stored.values()].reduce((sum, s) => sum + s.content.length, 0)
      assert.equal(report.checked.contentBytes, contentBytes, 'every stored blob gunzipped in full')
      assert.equal(report.checked.files, scenario.stored.size)
      assert.deepEqual(report.notChecked, [])
      const steps = events.filter(e => e.kind === 'step').map(e => `${e.account ?? ''}|${e.message}`)
      assert.ok(steps.some(s => s.startsWith(`${ALICE}|revisions`)), `a step names the first account: ${steps.join('; ')}`)
      assert.ok(steps.some(s => s.startsWith(`${BOB}|revisions`)), 'and the last one')
      assert.ok(events.some(e => e.kind === 'counters' && e.counters.blobsVerified === scenario.stored.size))
    })

    it('puts back first the blobs a killed purge left in its trash, rather than calling them missing', async () => {
      const [aside] = pickTwo()
      await new BlobTrash(t.home).moveIn(aside)
      assert.equal(existsSync(blobFile(aside)), false)
      const {events, report} = await check(t.catalog, {fixBackup: true})
      assert.deepEqual(kindsFound(report), {})
      assert.equal(existsSync(blobFile(aside)), true)
      assert.ok(events.some(e => e.kind === 'warning' && e.message === 'an earlier purge stopped while removing blobs: 1 put back, 0 removed'))
    })

    it('fixBackup on a healthy backup changes nothing and creates no quarantine', async () => {
      const before = await catalogSnapshot(t.catalog)
      const {report} = await check(t.catalog, {fixBackup: true})
      assert.equal(report.coherent, true)
      assert.deepEqual(report.fixed, {
        quarantine: null,
        filesQuarantined: 0,
        blobsMarkedNotStored: 0,
        blobsMarkedStored: 0,
        blobRowsRemoved: 0,
        blobRowsAdded: 0,
        revisionsClosed: 0,
        itemsThatLostContent: {count: 0, first: []},
        failures: 0,
      })
      assert.equal(existsSync(path.join(t.home, 'quarantine')), false)
      assert.deepEqual(await catalogSnapshot(t.catalog), before)
    })

    it('finds a blob with one byte flipped and a deleted blob by name, with the accounts and items that reference them', async () => {
      const [corrupt, missing] = pickTwo()
      const at = flipOneByte(blobFile(corrupt))
      const corrupted = readFileSync(blobFile(corrupt))
      rmSync(blobFile(missing))
      const {report} = await check(t.catalog)
      const why = `byte ${at} of ${corrupt} flipped, ${missing} deleted`
      assert.deepEqual(kindsFound(report), {corruptBlobs: 1, missingBlobs: 1}, why)
      assert.equal(report.coherent, false)
      const [bad] = report.findings.corruptBlobs.first
      assert.equal(bad.digest, corrupt, why)
      assert.equal(bad.path, relative(corrupt))
      assert.match(bad.detail, /does not gunzip|hashes to/)
      assert.deepEqual(sorted(bad.references!), sorted(scenario.stored.get(corrupt)!.items), why)
      assert.equal(bad.referencedItems, scenario.stored.get(corrupt)!.items.length)
      assert.deepEqual({account: bad.account, item: bad.item}, sorted(scenario.stored.get(corrupt)!.items)[0])
      const [gone] = report.findings.missingBlobs.first
      assert.equal(gone.digest, missing, why)
      assert.equal(gone.path, relative(missing))
      assert.deepEqual(sorted(gone.references!), sorted(scenario.stored.get(missing)!.items), why)
      assert.equal(bad.fix, undefined, 'nothing is repaired without fixBackup')
      assert.deepEqual(readFileSync(blobFile(corrupt)), corrupted, 'the corrupt file is left as it is')
      assert.equal(Boolean((await t.catalog.db('blobs').where('digest', missing).first()).stored), true)
    })

    it('finds orphaned files and stale temporary files, but not files a scanner may still be writing', async () => {
      const content = Buffer.from('nobody references this')
      const orphanDigest = sha256(content)
      mkdirSync(path.dirname(blobFile(orphanDigest)), {recursive: true})
      writeFileSync(blobFile(orphanDigest), gzipSync(content))
      backdate(blobFile(orphanDigest), DAY_MS)
      const [someDigest] = scenario.stored.keys()
      const stale = path.join(path.dirname(blobFile(someDigest)), `.tmp-${someDigest}-4242-deadbeef`)
      writeFileSync(stale, 'half a blob')
      backdate(stale, 2 * 3_600_000)
      const fresh = path.join(path.dirname(blobFile(someDigest)), `.tmp-${someDigest}-4243-cafebabe`)
      writeFileSync(fresh, 'a blob being written')
      const youngDigest = sha256(Buffer.from('written a moment ago'))
      mkdirSync(path.dirname(blobFile(youngDigest)), {recursive: true})
      writeFileSync(blobFile(youngDigest), gzipSync(Buffer.from('written a moment ago')))
      writeFileSync(path.join(t.home, 'items', 'README'), 'not a blob')
      backdate(path.join(t.home, 'items', 'README'), DAY_MS)

      const {report} = await check(t.catalog)
      assert.deepEqual(kindsFound(report), {orphanedFiles: 2, staleTemporaryFiles: 1})
      assert.deepEqual(report.findings.orphanedFiles.first.map(f => f.path).sort(), [path.join('items', 'README'), relative(orphanDigest)].sort())
      assert.equal(report.findings.orphanedFiles.first.find(f => f.digest)?.digest, orphanDigest)
      assert.deepEqual(report.findings.staleTemporaryFiles.first.map(f => f.path), [path.relative(t.home, stale)])
      assert.equal(report.checked.recentNotJudged, 1, 'the young file without a row is not judged')
    })

    it('judges items/.tmp/ as the blob store does: a dead writer of this host or a day\'s age, never a writer that may be alive', async () => {
      const dir = path.join(t.home, 'items', TEMPORARY_DIR)
      mkdirSync(dir, {recursive: true})
      const {pid: dead} = spawnSync(process.execPath, ['-e', ''])
      const files = {
        deadHere: temporaryName(writerIdentity(), dead!, '00000001'),
        thisProcess: temporaryName(writerIdentity(), process.pid, '00000002'),
        otherHost: temporaryName('mail2.example.com', dead!, '00000003'),
        oldOtherHost: temporaryName('mail2.example.com', dead!, '00000004'),
      }
      for (const file of Object.values(files)) writeFileSync(path.join(dir, file), 'half a blob')
      // Older than the hour that judges the temporary files of earlier versions, younger than a day.
      for (const file of [files.thisProcess, files.otherHost]) backdate(path.join(dir, file), 2 * 3_600_000)
      backdate(path.join(dir, files.oldOtherHost), 2 * DAY_MS)

      const {report} = await check(t.catalog, {fixBackup: true})
      assert.deepEqual(kindsFound(report), {staleTemporaryFiles: 2})
      const stale = [files.deadHere, files.oldOtherHost].map(file => path.join('items', TEMPORARY_DIR, file))
      assert.deepEqual(report.findings.staleTemporaryFiles.first.map(f => f.path).sort(), [...stale].sort())
      assert.match(report.findings.staleTemporaryFiles.first.find(f => f.path === stale[0])!.detail, /of this host, which is gone/)
      for (const file of stale) assert.ok(existsSync(path.join(t.home, report.fixed!.quarantine!, file)), `${file} is in quarantine`)
      assert.deepEqual(readdirSync(dir).sort(), [files.thisProcess, files.otherHost].sort())
    })

    it('fixBackup moves corrupt, orphaned and stale files into quarantine with a manifest, repairs the catalog, and a second check is clean', async () => {
      const [corrupt, missing] = pickTwo()
      flipOneByte(blobFile(corrupt))
      const corrupted = readFileSync(blobFile(corrupt))
      rmSync(blobFile(missing))
      const orphanContent = Buffer.from('an orphan')
      const orphan = sha256(orphanContent)
      mkdirSync(path.dirname(blobFile(orphan)), {recursive: true})
      writeFileSync(blobFile(orphan), gzipSync(orphanContent))
      backdate(blobFile(orphan), DAY_MS)
      const stale = path.join(path.dirname(blobFile(corrupt)), `.tmp-${corrupt}-1-00000000`)
      writeFileSync(stale, 'half')
      backdate(stale, 2 * 3_600_000)
      const revisionsBefore = await t.catalog.db('item_revisions').orderBy('id').select()

      const {report} = await check(t.catalog, {fixBackup: true})
      assert.deepEqual(kindsFound(report), {
        corruptBlobs: 1, missingBlobs: 1, orphanedFiles: 1, staleTemporaryFiles: 1,
      })
      const {fixed} = report
      assert.ok(fixed?.quarantine, 'a quarantine directory was made')
      assert.match(fixed.quarantine, /^quarantine\/\d{4}-\d\d-\d\dT\d{6}Z$/)
      assert.equal(fixed.filesQuarantined, 3)
      assert.equal(fixed.blobsMarkedNotStored, 2)
      assert.equal(fixed.failures, 0)
      const lost = [...scenario.stored.get(corrupt)!.items, ...scenario.stored.get(missing)!.items]
      assert.equal(fixed.itemsThatLostContent.count, lost.length)
      assert.deepEqual(sorted(fixed.itemsThatLostContent.first.map(({account, item}) => ({account, item}))), sorted(lost))

      const quarantine = path.join(t.home, fixed.quarantine)
      for (const moved of [relative(corrupt), relative(orphan), path.relative(t.home, stale)]) {
        assert.ok(existsSync(path.join(quarantine, moved)), `${moved} is in quarantine under its relative path`)
        assert.equal(existsSync(path.join(t.home, moved)), false, `${moved} is no longer in items/`)
        assert.equal(statSync(path.join(quarantine, moved)).mode & 0o777, 0o600)
      }

      assert.deepEqual(readFileSync(path.join(quarantine, relative(corrupt))), corrupted, 'moved, byte for byte, never rewritten')
      assert.equal(statSync(path.join(t.home, 'quarantine')).mode & 0o777, 0o700)
      assert.equal(statSync(quarantine).mode & 0o777, 0o700)
      assert.equal(statSync(path.dirname(path.join(quarantine, relative(corrupt)))).mode & 0o777, 0o700)
      const manifest = readFileSync(path.join(quarantine, 'manifest.jsonl'), 'utf8').trim().split('\n').map(line => JSON.parse(line))
      assert.deepEqual(sorted(manifest.map(m => [m.path, m.kind])), sorted([
        [relative(corrupt), 'corruptBlobs'], [relative(orphan), 'orphanedFiles'], [path.relative(t.home, stale), 'staleTemporaryFiles'],
      ]))
      assert.ok(manifest.every(m => typeof m.reason === 'string' && m.reason.length > 0 && m.quarantined.startsWith(fixed.quarantine)))

      const rows = await t.catalog.db('blobs').whereIn('digest', [corrupt, missing]).select('digest', 'stored', 'stored_size')
      assert.deepEqual(rows.map(r => Boolean(r.stored)), [false, false], 'the rows say the content is not in the backup')
      assert.deepEqual(await t.catalog.db('item_revisions').orderBy('id').select(), revisionsBefore, 'revisions are history: untouched')

      const again = await check(t.catalog)
      assert.deepEqual(kindsFound(again.report), {}, 'the second check is clean')
      assert.equal(again.report.checked.blobsVerified, scenario.stored.size - 2)
    })

    it('finds blob rows no revision references; fixBackup removes the row and quarantines its file, but keeps a recent one', async () => {
      const content = Buffer.from('referenced once, long ago')
      const digest = sha256(content)
      const longAgo = Date.now() - (2 * DAY_MS)
      const recentContent = Buffer.from('a scanner is adding a reference to this')
      await t.catalog.db('blobs').insert([
        {
          digest, size: content.length, stored_size: 40, stored: true, created_at: longAgo, last_referenced_at: longAgo,
        },
        {
          digest: 'f'.repeat(64), size: 5, stored_size: null, stored: false, created_at: longAgo, last_referenced_at: longAgo,
        },
        {
          digest: sha256(recentContent), size: recentContent.length, stored_size: null, stored: false, created_at: Date.now(), last_referenced_at: Date.now(),
        },
      ])
      mkdirSync(path.dirname(blobFile(digest)), {recursive: true})
      writeFileSync(blobFile(digest), gzipSync(content))

      const {report} = await check(t.catalog)
      assert.deepEqual(kindsFound(report), {orphanedBlobs: 2})
      assert.deepEqual(report.findings.orphanedBlobs.first.map(f => f.digest).sort(), [digest, 'f'.repeat(64)])
      assert.equal(report.checked.recentNotJudged, 1)

      const fixedRun = await check(t.catalog, {fixBackup: true})
      assert.equal(fixedRun.report.fixed!.blobRowsRemoved, 2)
      assert.equal(fixedRun.report.fixed!.filesQuarantined, 1)
      assert.deepEqual((await t.catalog.db('blobs').whereIn('digest', [digest, 'f'.repeat(64), sha256(recentContent)]).pluck('digest')), [sha256(recentContent)])
      assert.equal(existsSync(blobFile(digest)), false)
      assert.ok(existsSync(path.join(t.home, fixedRun.report.fixed!.quarantine!, relative(digest))))
      assert.deepEqual(kindsFound((await check(t.catalog)).report), {})
    })

    it('a purge stopped before its blob phase is not damage: its unreferenced blobs are left for the next purge, not orphans', async () => {
      // The scenario's deleted messages, made 90 days old, lose their items to a purge that is stopped (doStopOperation,
      // Ctrl-C, the daemon stopping) as it starts removing blobs: their blob rows are on its list for the next purge.
      const gone = await t.catalog.db('item_revisions').where('deleted', true).whereNull('valid_to').whereNotNull('blob_digest').select('item_id')
      assert.ok(gone.length > 0)
      // Their whole history is removed, so only the deletion's age matters.
      await t.catalog.db('item_revisions').whereIn('item_id', gone.map(row => row.item_id)).update({valid_from: Date.now() - (90 * DAY_MS)})
      await t.catalog.db('blobs').update({last_referenced_at: Date.now() - (90 * DAY_MS)})
      const stop = new AbortController()
      await assert.rejects(purge({
        ...contextFor(t.catalog, stop.signal),
        progress(event) {
          if (event.kind === 'step' && event.message.startsWith('removing blobs')) stop.abort()
        },
      }, {purgeDays: 30}), OperationAborted)
      const pending: string[] = await t.catalog.db('blob_purge_candidates').pluck('digest')
      assert.ok(pending.length > 0)

      const {report} = await check(t.catalog, {fixBackup: true})
      assert.deepEqual(kindsFound(report), {})
      assert.equal(report.checked.awaitingPurge, pending.length)
      assert.equal(report.fixed!.filesQuarantined, 0)
      await purge(contextFor(t.catalog), {purgeDays: 30})
      assert.equal((await check(t.catalog)).report.checked.awaitingPurge, 0)
    })

    it('finds broken validity intervals by account and item; fixBackup closes duplicate open revisions only', async () => {
      const {db} = t.catalog
      const itemId = async (account: string, item: string) => Number((await db('items as i')
      .join('accounts as a', 'a.id', 'i.account_id')
      .where({'a.name': account, 'i.remote_id': item})
      .first('i.id')).id)
      const revisionsOf = async (id: number) => db('item_revisions').where('item_id', id).orderBy([{column: 'valid_from'}, {column: 'id'}]).select()
      // 203 (bob): a second open revision, as if two writers had both appended one.
      const i203 = await itemId(BOB, '203')
      const last203 = (await revisionsOf(i203)).at(-1)
      await db('item_revisions').insert({...last203, id: undefined, valid_from: Number(last203.valid_from) + 30_000})
      // 103 (alice): one revision ends before it begins; 101: the first overlaps the second; 102: nothing is open.
      const [first103] = await revisionsOf(await itemId(ALICE, '103'))
      await db('item_revisions').where('id', first103.id).update({valid_to: Number(first103.valid_from) - 1})
      const i101 = await itemId(ALICE, '101')
      const revisions101 = await revisionsOf(i101)
      assert.equal(revisions101.length, 1, 'the scenario gives 101 one revision')
      await db('item_revisions').insert({
        ...revisions101[0], id: undefined, valid_from: Number(revisions101[0].valid_from) + 1000, valid_to: null,
      })
      await db('item_revisions').where('id', revisions101[0].id).update({valid_to: Number(revisions101[0].valid_from) + 5000})
      await db('item_revisions').where('item_id', await itemId(ALICE, '102')).whereNull('valid_to').update({valid_to: Date.now()})
      // A folder with two open revisions.
      const inbox = await db('folders as f').join('accounts as a', 'a.id', 'f.account_id').where({'a.name': BOB, 'f.remote_id': '2'}).first('f.id')
      const [folderRevision] = await db('folder_revisions').where('folder_id', inbox.id).select()
      await db('folder_revisions').insert({...folderRevision, id: undefined, valid_from: Number(folderRevision.valid_from) + 10})

      const {report} = await check(t.catalog)
      assert.deepEqual(kindsFound(report), {
        invertedIntervals: 1, multipleOpenRevisions: 2, overlappingIntervals: 1, noOpenRevision: 1,
      })
      const where = (kind: FindingKind) => report.findings[kind].first.map(f => [f.account, f.item ?? `folder ${f.folder}`])
      assert.deepEqual(where('invertedIntervals'), [[ALICE, '103']])
      assert.deepEqual(where('overlappingIntervals'), [[ALICE, '101']])
      assert.deepEqual(where('noOpenRevision'), [[ALICE, '102']])
      assert.deepEqual(sorted(where('multipleOpenRevisions')), sorted([[BOB, '203'], [BOB, 'folder 2']]))

      const fixedRun = await check(t.catalog, {fixBackup: true})
      assert.equal(fixedRun.report.fixed!.revisionsClosed, 2)
      const after203 = await revisionsOf(i203)
      const open203 = after203.filter(r => r.valid_to === null)
      assert.equal(open203.length, 1, 'one open revision left')
      assert.equal(open203[0].id, after203.at(-1).id, 'the latest one')
      for (const [index, revision] of after203.slice(0, -1).entries()) {
        assert.equal(Number(revision.valid_to), Number(after203[index + 1].valid_from), 'each closed where the next begins')
      }

      const again = (await check(t.catalog)).report
      assert.deepEqual(kindsFound(again), {invertedIntervals: 1, overlappingIntervals: 1, noOpenRevision: 1}, 'the others are reported, never rewritten')
    })

    it('finds revisions that reference nothing: a digest without a blob row, a message with no content reference', async () => {
      const {db} = t.catalog
      const dangling = 'd'.repeat(64)
      const idOf = async (item: string) => Number((await db('items').where('remote_id', item).first('id')).id)
      const [i202, i203] = [await idOf('202'), await idOf('203')]
      // The schema's foreign key forbids a dangling digest; a catalog edited by hand or restored in part has them.
      if (dialect === 'sqlite') {
        await db.raw('PRAGMA foreign_keys = OFF')
        await db('item_revisions').where('item_id', i202).update({blob_digest: dangling})
        await db.raw('PRAGMA foreign_keys = ON')
      } else {
        await db.transaction(async trx => {
          await trx.raw('SET LOCAL session_replication_role = replica')
          await trx('item_revisions').where('item_id', i202).update({blob_digest: dangling})
        })
      }

      await db('item_revisions').where('item_id', i203).update({blob_digest: null})
      const {report} = await check(t.catalog)
      // 202's and 203's blobs lost their only references: orphaned rows, but referenced a moment ago (not judged).
      assert.deepEqual(kindsFound(report), {danglingReferences: 1, contentlessRevisions: 1})
      assert.deepEqual(report.findings.danglingReferences.first.map(f => [f.account, f.item, f.digest]), [[BOB, '202', dangling]])
      assert.deepEqual(report.findings.contentlessRevisions.first.map(f => [f.account, f.item, f.revisions!.length]), [[BOB, '203', 2]])
      const fixedRun = await check(t.catalog, {fixBackup: true})
      assert.equal(fixedRun.report.fixed!.blobRowsAdded, 1)
      const row = await db('blobs').where('digest', dangling).first()
      assert.equal(Boolean(row.stored), false)
      assert.deepEqual(kindsFound((await check(t.catalog)).report), {contentlessRevisions: 1}, 'history is not rewritten: still reported')
    })

    it('a file the catalog says is not stored but whose content is exact: found, and fixBackup records it as stored', async () => {
      const [digest] = scenario.stored.keys()
      await t.catalog.db('blobs').where('digest', digest).update({stored: false, stored_size: null})
      const {report} = await check(t.catalog)
      assert.deepEqual(kindsFound(report), {unrecordedFiles: 1})
      assert.equal(report.findings.unrecordedFiles.first[0].digest, digest)
      await check(t.catalog, {fixBackup: true})
      const row = await t.catalog.db('blobs').where('digest', digest).first()
      assert.equal(Boolean(row.stored), true)
      assert.equal(Number(row.stored_size), statSync(blobFile(digest)).size)
      assert.deepEqual(kindsFound((await check(t.catalog)).report), {})
    })

    it('with accounts, checks only their revisions and the blobs they reference', async () => {
      const aliceOnly = [...scenario.stored].find(([, s]) => s.items.every(i => i.account === ALICE))![0]
      const bobOnly = [...scenario.stored].find(([, s]) => s.items.every(i => i.account === BOB))![0]
      flipOneByte(blobFile(aliceOnly))
      flipOneByte(blobFile(bobOnly))
      const orphan = path.join(t.home, 'items', 'stray')
      writeFileSync(orphan, 'x')
      backdate(orphan, DAY_MS)
      const bob = await t.catalog.db('accounts').where('name', BOB).first('id')
      const {report} = await check(t.catalog, {accounts: [{key: Number(bob.id), name: BOB}]})
      assert.deepEqual(kindsFound(report), {corruptBlobs: 1})
      assert.equal(report.findings.corruptBlobs.first[0].digest, bobOnly)
      assert.ok(report.findings.corruptBlobs.first[0].references!.every(r => r.account === BOB))
      assert.deepEqual(report.accounts, [BOB])
      assert.equal(report.checked.accounts, 1)
      assert.equal(report.checked.items, 3)
      assert.equal(report.checked.files, 0, 'items/ is not walked')
      assert.equal(report.notChecked.length, 1)
      assert.match(report.notChecked[0], /orphaned files/)
      const shared = [...scenario.stored].find(([, s]) => s.items.some(i => i.account === BOB) && s.items.some(i => i.account === ALICE))![0]
      rmSync(blobFile(shared))
      const again = (await check(t.catalog, {accounts: [{key: Number(bob.id), name: BOB}]})).report
      const [gone] = again.findings.missingBlobs.first
      assert.equal(gone.digest, shared)
      assert.deepEqual(gone.references, [{account: BOB, item: '201'}], 'only the references of the named account')
      const fixedRun = (await check(t.catalog, {accounts: [{key: Number(bob.id), name: BOB}], fixBackup: true})).report
      const lost = fixedRun.fixed!.itemsThatLostContent
      assert.equal(lost.count, 4, 'the shared row lost content for alice too: her two items, bob\'s 201, and bob\'s corrupt 202')
      assert.deepEqual(sorted(lost.first.filter(l => l.digest === shared).map(({account, item}) => ({account, item}))), sorted(scenario.stored.get(shared)!.items))
    })

    it('stops between units of work when its signal fires', async () => {
      const before = new AbortController()
      before.abort('stop')
      await assert.rejects(check(t.catalog, {}, before.signal), OperationAborted)
      const controller = new AbortController()
      const events: ProgressEvent[] = []
      const checking = coherencyCheck({
        catalog: t.catalog,
        uuid: 'test',
        server: 'mail1',
        signal: controller.signal,
        progress(event) {
          events.push(event)
          // Stopped as soon as the first page of revisions is done.
          if (event.kind === 'counters') controller.abort('stop')
        },
      })
      await assert.rejects(checking, OperationAborted)
      assert.equal(events.filter(e => e.kind === 'counters').length, 1, 'no unit of work after the stop')
      assert.ok(!events.some(e => e.kind === 'step' && /blob/.test(e.message)), 'the blobs were never reached')
    })
  })
}
