#!/usr/bin/env node
// Builds fixtures/regressions/chain1337-1.json: block 1 of the bundled eth-transfer chain
// (fixtures/chains/eth-transfer, chain id 1337, Cancun) as a `realblock-v1` file whose witness holds
// only the genesis trie nodes and codes that executing the block and computing its state root read.
//
// Why: at its parent (the genesis) the EIP-4788 beacon-roots contract exists with an EMPTY storage
// trie, as on mainnet at the first Cancun block (19,426,587), which none of the real blocks we hold
// covers. On a witness (partial) LMDB state, reading a slot of such an account must not walk the
// empty trie (see FlatStateManager.proveSlot): `--engine both` once aborted there.
//
// Deterministic: re-running gives a byte-identical file. The file is checked on every documented
// replay path before it is written.
//
//   npm run build && node scripts/build-regression-fixtures.mjs
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { root } from './lib.mjs'

const dist = (p) => import(join(root, 'dist', p))
const { createBlockFromRLP } = await import('@ethereumjs/block')
const { MerklePatriciaTrie } = await import('@ethereumjs/mpt')
const { Caches, CODEHASH_PREFIX } = await import('@ethereumjs/statemanager')
const { ValueEncoding, bytesToHex, hexToBytes, bytesToUnprefixedHex, bigIntToHex } = await import('@ethereumjs/util')
const { createVM } = await import('@ethereumjs/vm')
const { genesisSpecSchema } = await dist('sources/chainFormat.js')
const { buildGenesisState } = await dist('workloads/genesis.js')
const { NodeStore } = await dist('trie/nodeStore.js')
const { ReplayStateManager } = await dist('engines/baseline/stateManager.js')
const { createChainCommon } = await dist('chain/common.js')
const { AncestorChain } = await dist('chain/ancestors.js')
const { executeBlock } = await dist('engines/baseline/executeBlock.js')
const { PhaseClock } = await dist('probes/phases.js')
const { initKeccak, keccak256 } = await dist('util/keccak.js')
const { replay, createFixtureSource } = await dist('index.js')

await initKeccak()
const chainDir = join(root, 'fixtures', 'chains', 'eth-transfer')
const out = join(root, 'fixtures', 'regressions', 'chain1337-1.json')
const spec = genesisSpecSchema.parse(JSON.parse(readFileSync(join(chainDir, 'genesis.json'), 'utf8')))
const blockRlp = readFileSync(join(chainDir, 'blocks', '000000001.rlp'))

// The whole genesis in a node store; reads of it are recorded (new nodes go to an overlay).
const genesis = new NodeStore(true, Math.ceil(spec.accounts.count * 1.4) + 1024)
const built = buildGenesisState(spec, genesis)
const read = new Set()
const overlay = new Map()
const recorder = {
  async get(key) {
    if (overlay.has(key)) return overlay.get(key)
    const v = genesis.getBytes(hexToBytes(`0x${key}`))
    if (v !== undefined) read.add(key)
    return v
  },
  async put(key, value) {
    overlay.set(key, value)
  },
  async del() {},
  async batch(ops) {
    for (const op of ops) if (op.type === 'put') overlay.set(op.key, op.value)
  },
  shallowCopy() {
    return recorder
  },
  async open() {},
}

const common = createChainCommon(BigInt(spec.chainId), spec.hardfork, { origin: chainDir, block: 1n })
const block = createBlockFromRLP(blockRlp, { common })
const genesisHash = keccak256(hexToBytes(spec.headerRlp))
const trie = new MerklePatriciaTrie({ db: recorder, root: built.stateRoot, useKeyHashing: true, common, valueEncoding: ValueEncoding.Bytes })
const stateManager = new ReplayStateManager({ trie, common, caches: new Caches() })
const vm = await createVM({ common, stateManager, blockchain: new AncestorChain(new Map([[0n, genesisHash]]), chainDir, 1n) })
const executed = await executeBlock(vm, block, { clock: new PhaseClock(), stateRoot: true })
if (bytesToHex(executed.stateRoot) !== bytesToHex(block.header.stateRoot)) throw new Error('block 1 does not reproduce its state root')

const codePrefix = bytesToUnprefixedHex(CODEHASH_PREFIX)
const nodes = []
const codes = []
for (const key of [...read].sort()) {
  const value = bytesToHex(genesis.getBytes(hexToBytes(`0x${key}`)))
  if (key.length === 64) nodes.push(value)
  else if (key.startsWith(codePrefix)) codes.push(value)
}
const h = block.header
const file = {
  _info: {
    format: 'realblock-v1',
    source: 'megabench: fixtures/chains/eth-transfer block 1 (scripts/build-regression-fixtures.mjs)',
    description:
      'Generated chain (chain id 1337, Cancun), block 1 with the genesis nodes and codes its execution and state root read. The EIP-4788 beacon-roots contract has an empty storage trie at the parent.',
  },
  chainId: spec.chainId,
  hardfork: spec.hardfork,
  blockNumber: 1,
  blockHash: bytesToHex(block.hash()),
  blockRlp: bytesToHex(blockRlp),
  parentHeaderRlp: spec.headerRlp,
  parentStateRoot: bytesToHex(built.stateRoot),
  ancestorHashes: { 0: bytesToHex(genesisHash) },
  witness: { nodes, codes },
  expected: {
    stateRoot: bytesToHex(h.stateRoot),
    receiptsRoot: bytesToHex(h.receiptTrie),
    logsBloom: bytesToHex(h.logsBloom),
    gasUsed: bigIntToHex(h.gasUsed),
    txCount: block.transactions.length,
  },
}
const text = `${JSON.stringify(file, null, 1)}\n`

// Check the file on every documented path before writing it.
const tmp = `${out}.tmp`
writeFileSync(tmp, text)
try {
  const lmdb = { kind: 'lmdb', batch: null, memory: { total: null, l1: Number.MAX_SAFE_INTEGER, l2: Number.MAX_SAFE_INTEGER } }
  const paths = [
    { name: 'baseline lmdb', p: {} },
    { name: 'baseline memory', p: { storage: { kind: 'memory' } } },
    { name: 'historical', p: { modes: ['historical'] } },
    { name: 'both', p: { storage: lmdb, engines: ['baseline', 'mega'] } },
    { name: 'both fast', p: { storage: lmdb, engines: ['baseline', 'mega'], mega: { verifyMpt: false, senderWorkers: 0, stateDiffs: undefined, threads: [0], evm: 'fast' } } },
  ]
  for (const { name, p } of paths) {
    const r = await replay({ source: await createFixtureSource({ paths: [tmp] }), sourcePaths: [tmp], ...p })
    const v = r.verification
    if (v.verified !== 1 || v.blocks !== 1 || v.failed.length > 0 || (p.engines !== undefined && r.differential?.compared !== 1)) throw new Error(`${name}: ${JSON.stringify(v)}`)
    console.log(`${name}: ${v.verified}/${v.blocks} verified${r.differential ? `, ${r.differential.compared} diffs compared` : ''}`)
  }
} catch (err) {
  (await import('node:fs')).rmSync(tmp, { force: true })
  throw err
}
;(await import('node:fs')).renameSync(tmp, out)
console.log(`wrote ${out}: ${nodes.length} nodes, ${codes.length} codes, ${text.length} bytes`)
