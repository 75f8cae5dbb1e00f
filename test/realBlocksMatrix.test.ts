import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, describe, expect, test } from 'vitest'

import { MissingTrieNodeError } from '../src/errors/index.js'
import { DEFAULT_MEGA_SETTINGS, type ReplayParameters, replay } from '../src/run/replay.js'
import { createFixtureSource } from '../src/sources/fixtures.js'
import { FIXTURES_DIR, flipLastHexDigit, readFixtureJson, writeVariant } from './helpers/fixtures.js'

/**
 * Every documented replay path verifies every real block we bundle (issue 18): the 13 blocks of
 * fixtures/mainnet and the regression blocks of fixtures/regressions, which failed on earlier
 * versions:
 * - mainnet 49,439 and 78,458 (Frontier): on LMDB (the default path) a slot of a contract whose
 *   storage trie is empty was "proven" by walking that empty trie, which has no node: "trie node
 *   (unknown hash) … missing";
 * - chain 1337 block 1 (Cancun, generated): the EIP-4788 beacon-roots contract has an empty storage
 *   trie at the parent, as on mainnet at the first Cancun block; `--engine both` aborted on it (the
 *   baseline's per-block diff proves the original value of the slots the system call writes).
 */
const ROOT = join(import.meta.dirname, '..')
const REGRESSIONS_DIR = join(ROOT, 'fixtures', 'regressions')
const DIRS = [FIXTURES_DIR, REGRESSIONS_DIR]
const BLOCKS = 13 + 3

const created: string[] = []
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'megabench-matrix-test-'))
  created.push(d)
  return d
}
afterAll(async () => {
  for (const d of created) await rm(d, { recursive: true, force: true })
})

const LMDB = { kind: 'lmdb', batch: null, memory: { total: null, l1: Number.MAX_SAFE_INTEGER, l2: Number.MAX_SAFE_INTEGER } } as const
const mega = (evm: 'ethereumjs' | 'fast') => ({ ...DEFAULT_MEGA_SETTINGS, evm })

/** The documented paths (README, `megabench replay`), as the CLI maps their flags. */
const PATHS: { name: string; flags: string; p: Partial<ReplayParameters> }[] = [
  { name: 'baseline on LMDB', flags: '(default)', p: { storage: LMDB } },
  { name: 'baseline in memory', flags: '--storage memory', p: { storage: { kind: 'memory' } } },
  { name: 'baseline on LMDB, historical', flags: '--mode historical', p: { storage: LMDB, modes: ['historical'] } },
  { name: 'baseline on LMDB, fast EVM', flags: '--evm fast', p: { storage: LMDB, baseline: { evm: 'fast' } } },
  { name: 'baseline in memory, fast EVM', flags: '--storage memory --evm fast', p: { storage: { kind: 'memory' }, baseline: { evm: 'fast' } } },
  { name: 'baseline on LMDB, historical, fast EVM', flags: '--mode historical --evm fast', p: { storage: LMDB, modes: ['historical'], baseline: { evm: 'fast' } } },
  { name: 'mega on @ethereumjs/evm', flags: '--engine mega --evm ethereumjs', p: { engines: ['mega'], mega: mega('ethereumjs') } },
  { name: 'mega on the fast EVM', flags: '--engine mega --evm fast', p: { engines: ['mega'], mega: mega('fast') } },
  { name: 'both engines', flags: '--engine both', p: { storage: LMDB, engines: ['baseline', 'mega'], mega: mega('ethereumjs') } },
  { name: 'both engines, fast EVM', flags: '--engine both --evm fast', p: { storage: LMDB, engines: ['baseline', 'mega'], mega: mega('fast') } },
]

describe('every documented path verifies every bundled real block', () => {
  for (const path of PATHS) {
    test(`default: ${path.name} (${path.flags}): all ${BLOCKS} blocks verify${path.p.engines?.length === 2 ? ', every state diff compared' : ''}`, async () => {
      const r = await replay({ source: await createFixtureSource({ paths: DIRS }), sourcePaths: DIRS, warmup: 0, ...path.p }) // verification only: no warm-up pass
      expect(r.verification.failed).toEqual([])
      expect(r.verification.blocks).toBe(BLOCKS)
      expect(r.verification.verified).toBe(BLOCKS)
      for (const e of r.engines) expect(e.totals.verifiedBlocks).toBe(BLOCKS)
      // --evm fast: the fast EVM executes every block, Frontier on (no fallback to @ethereumjs/evm).
      for (const e of r.engines) {
        const evm = e.baseline?.evm ?? e.mega?.evm
        if (evm?.requested === 'fast') expect(evm).toMatchObject({ fastBlocks: BLOCKS, ethereumjsBlocks: 0 })
      }
      if (path.p.engines?.length === 2) expect(r.differential).toMatchObject({ compared: BLOCKS, mismatches: 0 })
      else expect(r.differential).toBeNull()
    })
  }
})

/**
 * The bundled post-Prague blocks (issue 19), fixtures/prague: mainnet 24,647,140 (bpo2, five EIP-7702
 * set-code transactions with 21 authorizations) and Hoodi 1,151,683 (prague, a blob transaction; its
 * witness lacks the proof of the blob's recipient, read as absent and proven by the roots), on every
 * path, with the requests hash checked; `--evm fast` runs both on the fast EVM (no fallback to @ethereumjs/evm).
 */
const PRAGUE_DIR = join(ROOT, 'fixtures', 'prague')
describe('every documented path verifies the bundled post-Prague blocks', () => {
  for (const path of PATHS) {
    test(`default: ${path.name} (${path.flags}): both Prague blocks verify, requests hash checked${path.p.engines?.length === 2 ? ', every state diff compared (system-call writes included)' : ''}`, async () => {
      const r = await replay({ source: await createFixtureSource({ paths: [PRAGUE_DIR] }), sourcePaths: [PRAGUE_DIR], warmup: 0, ...path.p })
      expect(r.verification.failed).toEqual([])
      expect(r.verification.blocks).toBe(2)
      for (const e of r.engines) {
        expect(e.totals.verifiedBlocks).toBe(2)
        for (const b of e.blocks) expect(b.checks.requestsHash?.status).toBe('pass')
        expect(e.blocks.map((b) => b.hardfork).sort()).toEqual(['bpo2', 'prague'])
      }
      if (path.p.mega?.evm === 'fast') expect(r.engines.find((e) => e.name === 'mega')!.mega!.evm).toMatchObject({ requested: 'fast', fastBlocks: 2, ethereumjsBlocks: 0 })
      if (path.p.engines?.length === 2) expect(r.differential).toMatchObject({ compared: 2, mismatches: 0 })
    })
  }
})

describe('a missing trie node names the node and what was being read', () => {
  const replayFile = async (file: string, p: Partial<ReplayParameters> = {}) =>
    replay({ source: await createFixtureSource({ paths: [file] }), sourcePaths: [file], warmup: 0, ...p })

  test('behavior: a missing account-trie node names its hash and the account (address and trie key), on LMDB and in memory', async () => {
    const dir = await tempDir()
    const json = await readFixtureJson()
    const { keccak_256 } = await import('@noble/hashes/sha3.js')
    const { bytesToHex, hexToBytes } = await import('@ethereumjs/util')
    const rootNode = (json.witness.nodes as string[]).find((n) => bytesToHex(keccak_256(hexToBytes(n as `0x${string}`))) === json.parentStateRoot)
    const bad = await writeVariant(dir, 'no-root.json', (j) => {
      j.witness.nodes = (j.witness.nodes as string[]).filter((n) => n !== rootNode)
    })
    for (const storage of [LMDB, { kind: 'memory' } as const]) {
      const err = await replayFile(bad, { storage }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(MissingTrieNodeError)
      expect((err as MissingTrieNodeError).nodeHash).toBe(json.parentStateRoot)
      expect((err as Error).message).toMatch(
        new RegExp(
          `^${bad} block 46147: trie node ${json.parentStateRoot} needed during execution is missing from the witness ` +
            '\\(reading account 0x[0-9a-f]{40} \\(trie key 0x[0-9a-f]{64}\\)\\)$',
        ),
      )
    }
  })

  test('behavior: a missing storage-trie node names its hash, the slot (slot and trie key) and its account, on LMDB and in memory', async () => {
    const dir = await tempDir()
    const from = join(FIXTURES_DIR, 'mainnet-1150000.json')
    const json = await readFixtureJson(from)
    const { RLP } = await import('@ethereumjs/rlp')
    const { bytesToHex, hexToBytes } = await import('@ethereumjs/util')
    const { keccak_256 } = await import('@noble/hashes/sha3.js')
    // The storage roots of the witness's accounts whose root node it holds: drop them all.
    const byHash = new Map((json.witness.nodes as string[]).map((n) => [bytesToHex(keccak_256(hexToBytes(n as `0x${string}`))), n]))
    const storageRoots = new Set<string>()
    for (const n of byHash.values()) {
      const items = RLP.decode(hexToBytes(n as `0x${string}`)) as Uint8Array[]
      if (items.length !== 2 || ((items[0]![0]! >> 4) & 2) === 0) continue // leaves only
      try {
        const account = RLP.decode(items[1]!) as Uint8Array[]
        if (account.length === 4 && byHash.has(bytesToHex(account[2]!))) storageRoots.add(bytesToHex(account[2]!))
      } catch {
        // a storage leaf's value: not an account
      }
    }
    expect(storageRoots.size).toBeGreaterThan(0)
    const bad = await writeVariant(
      dir,
      'no-storage-roots.json',
      (j) => {
        j.witness.nodes = (j.witness.nodes as string[]).filter((n) => !storageRoots.has(bytesToHex(keccak_256(hexToBytes(n as `0x${string}`)))))
      },
      from,
    )
    for (const storage of [LMDB, { kind: 'memory' } as const]) {
      const err = await replayFile(bad, { storage }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(MissingTrieNodeError)
      expect(storageRoots.has((err as MissingTrieNodeError).nodeHash!)).toBe(true)
      expect((err as Error).message).toMatch(
        new RegExp(
          `^${bad} block 1150000: trie node 0x[0-9a-f]{64} needed during execution is missing from the witness ` +
            '\\(reading storage slot 0x[0-9a-f]{64} \\(trie key 0x[0-9a-f]{64}\\) of account 0x[0-9a-f]{40} \\(trie key 0x[0-9a-f]{64}\\)\\)$',
        ),
      )
    }
  })

  test('behavior: a storage node needed only for the state root (the EIP-4788 system write) is named with the slot and account on every path, not lost in the flush', async () => {
    const dir = await tempDir()
    const from = join(FIXTURES_DIR, 'mainnet-21230867.json')
    const json = await readFixtureJson(from)
    const { MerklePatriciaTrie } = await import('@ethereumjs/mpt')
    const { RLP } = await import('@ethereumjs/rlp')
    const { MapDB, ValueEncoding, bytesToHex, bytesToUnprefixedHex, hexToBytes } = await import('@ethereumjs/util')
    const { keccak_256 } = await import('@noble/hashes/sha3.js')
    const hashOf = (n: string) => bytesToHex(keccak_256(hexToBytes(n as `0x${string}`)))
    const db = new MapDB<string, Uint8Array>()
    for (const n of json.witness.nodes as string[]) await db.put(hashOf(n).slice(2), hexToBytes(n as `0x${string}`))
    const trie = new MerklePatriciaTrie({ db, root: hexToBytes(json.parentStateRoot), useKeyHashing: true, valueEncoding: ValueEncoding.Bytes })
    const beacon = '0x000f3df6d732807ef1319fb7b8bb8522d0beac02'
    const leaf = await trie.get(hexToBytes(beacon))
    const storageRoot = bytesToHex((RLP.decode(leaf!) as Uint8Array[])[2]!)
    expect(await db.get(bytesToUnprefixedHex(hexToBytes(storageRoot as `0x${string}`)))).toBeDefined()
    const bad = await writeVariant(
      dir,
      'no-beacon-storage.json',
      (j) => {
        j.witness.nodes = (j.witness.nodes as string[]).filter((n) => hashOf(n) !== storageRoot)
      },
      from,
    )
    const slot = `storage slot 0x[0-9a-f]{64} \\(trie key 0x[0-9a-f]{64}\\) of account ${beacon} \\(trie key 0x[0-9a-f]{64}\\)`
    const cases: [Partial<ReplayParameters>, RegExp][] = [
      // The system call writes two slots without reading them: the node is first needed at the root.
      [{ storage: LMDB }, new RegExp(`\\(updating ${slot} in its storage trie\\)$`)],
      [{ storage: { kind: 'memory' } }, new RegExp(`\\(updating ${slot} in its storage trie\\)$`)],
      // The per-block diff proves the slots' values before the block.
      [{ storage: LMDB, engines: ['baseline', 'mega'] }, new RegExp(`\\(reading ${slot}\\)$`)],
      // The mega engine's MPT mirror knows hashed keys only.
      [
        { engines: ['mega'], mega: { ...DEFAULT_MEGA_SETTINGS, verifyMpt: 'every' } },
        /\(updating storage slot with trie key 0x[0-9a-f]{64} of account with trie key 0x[0-9a-f]{64} in its storage trie\)$/,
      ],
    ]
    for (const [p, message] of cases) {
      const err = await replayFile(bad, p).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(MissingTrieNodeError)
      expect((err as MissingTrieNodeError).nodeHash).toBe(storageRoot)
      expect((err as Error).message).toMatch(`${bad} block 21230867: trie node ${storageRoot} needed during execution is missing from the witness (`)
      expect((err as Error).message).toMatch(message)
    }
  })
})

/** Runs scripts/verify-matrix.mjs with its own TMPDIR (to check that it leaves nothing behind). */
function runMatrix(args: string[], tmp: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'verify-matrix.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('scripts/verify-matrix.mjs (npm run verify:matrix)', () => {
  test('default: every path over the regression blocks: a table of blocks, verified, failed, diffs compared; exit 0; no temp dir left', async () => {
    const tmp = await tempDir()
    const r = await runMatrix(['--fixtures', REGRESSIONS_DIR], tmp)
    expect(r.stderr).not.toMatch(/FAIL/)
    expect(r.code).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toMatch(/^fixtures\s+path\s+blocks\s+verified\s+failed\s+diffs compared\s+wall s$/)
    const rows = lines.filter((l) => l.startsWith('fixtures/regressions ')).map((l) => l.trim().split(/\s{2,}/))
    expect(rows.map((c) => c[1])).toEqual([
      'baseline/lmdb',
      'baseline/memory',
      'historical/lmdb',
      'baseline/lmdb/fast',
      'baseline/memory/fast',
      'historical/lmdb/fast',
      'mega/ethereumjs',
      'mega/fast',
      'both/ethereumjs',
      'both/fast',
    ])
    for (const c of rows) {
      expect(c.slice(2, 5)).toEqual(['3', '3', '0'])
      expect(c[5]).toBe(c[1]!.startsWith('both/') ? '3' : '-')
      expect(Number(c[6])).toBeGreaterThan(0)
    }
    expect(r.stdout).toContain('every block verified on every path (10 runs)')
    expect(await readdir(tmp)).toEqual([])
  })

  test('behavior: a block that does not verify fails the matrix (exit 1) and is named', async () => {
    const tmp = await tempDir()
    const dir = await tempDir()
    await writeVariant(dir, 'flipped.json', (j) => {
      j.expected.stateRoot = flipLastHexDigit(j.expected.stateRoot)
    })
    const r = await runMatrix(['--fixtures', dir, '--paths', 'baseline/memory,both/fast'], tmp)
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/FAIL \S+ baseline\/memory: baseline\/live \S+flipped\.json block 46147: stateRoot expected 0x/)
    expect(r.stdout).toContain('2 of 2 runs failed')
    expect(await readdir(tmp)).toEqual([])
  })

  test('behavior: an unknown path is refused (exit 2)', async () => {
    const tmp = await tempDir()
    const r = await runMatrix(['--paths', 'baseline/nowhere'], tmp)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('unknown path baseline/nowhere')
  })
})
