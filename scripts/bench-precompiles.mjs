#!/usr/bin/env node
// The post-Prague precompiles and KZG on the fast EVM (issue 19):
//   blocks:   the post-Prague blocks (../shared/data/prague-osaka if present, else fixtures/prague) replayed on
//             the mega engine with the fast EVM, every precompile call counted and timed
//             (src/evm/precompiles.ts `timePrecompiles`), and the KZG backend's load time if a block loaded it;
//   per call: each precompile Prague and Osaka add (BLS12-381 0x0b-0x11, P256VERIFY 0x100), MODEXP at Osaka
//             (EIP-7883 pricing) and point evaluation 0x0a (real KZG), called directly on valid inputs made
//             with @noble/curves (and go-ethereum's pointEvaluation1 vector), ms per call (median of rounds).
//
//   node scripts/bench-precompiles.mjs [--calls N] [--json]
import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { bls12_381 } from '@noble/curves/bls12-381.js'
import { p256 } from '@noble/curves/nist.js'

import { arg, hasFlag, machine, median, root, saveResult } from './lib.mjs'
import { rulesFor } from '../dist/evm/forks.js'
import { precompileTimes, precompilesFor, timePrecompiles } from '../dist/evm/precompiles.js'
import { kzgStatus } from '../dist/chain/crypto.js'
import { DEFAULT_MEGA_SETTINGS, replay } from '../dist/run/replay.js'
import { createFixtureSource } from '../dist/sources/fixtures.js'
import { initKeccak } from '../dist/util/keccak.js'

const CALLS = Number(arg('calls', '20'))
const ROUNDS = 5

const hexToBytes = (h) => Uint8Array.from(Buffer.from(h.replace(/^0x/, ''), 'hex'))
const cat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
/** An EIP-2537 field element: 64 bytes, the 48-byte value left-padded with zeros. */
const fp = (x) => hexToBytes(x.toString(16).padStart(128, '0'))
const g1 = (P) => {
  const a = P.toAffine()
  return cat(fp(a.x), fp(a.y))
}
const g2 = (P) => {
  const a = P.toAffine()
  return cat(fp(a.x.c0), fp(a.x.c1), fp(a.y.c0), fp(a.y.c1))
}
const scalar = (k) => hexToBytes(k.toString(16).padStart(64, '0'))

function inputs() {
  const G1 = bls12_381.G1.Point.BASE
  const G2 = bls12_381.G2.Point.BASE
  const a = G1.multiply(7n)
  const b = G2.multiply(11n)
  const msg = new Uint8Array(32).fill(0x42)
  const key = p256.utils.randomSecretKey()
  const sig = p256.sign(msg, key, { prehash: false, lowS: false, format: 'compact' })
  const pub = p256.getPublicKey(key, false)
  const pointEvaluation = hexToBytes(
    '01e798154708fe7789429634053cbf9f99b619f9f084048927333fce637f549b564c0a11a0f704f4fc3e8acfe0f8245f0ad1347b378fbf96e206da11a5d3630624d25032e67a7e6a4910df5834b8fe70e6bcfeeac0352434196bdf4b2485d5a18f59a8d2a1a625a17f3fea0fe5eb8c896db3764f3185481bc22f91b4aaffcca25f26936857bc3a7c2539ea8ec3a952b7873033e038326e87ed3e1276fd140253fa08e9fc25fb2d9a98527fc22a2c9612fbeafdad446cbc7bcdbdcd780af2c16a',
  )
  // MODEXP: 2^(2^256-1) mod a 256-bit odd modulus (32-byte operands).
  const modexp = cat(scalar(32n), scalar(32n), scalar(32n), scalar(2n), scalar((1n << 256n) - 1n), scalar((1n << 255n) + 12345n))
  return [
    ['0a', 'point evaluation (KZG)', pointEvaluation],
    ['05', 'MODEXP 32-byte operands (Osaka pricing)', modexp],
    ['0b', 'BLS G1ADD', cat(g1(a), g1(G1))],
    ['0c', 'BLS G1MSM, 2 pairs', cat(g1(a), scalar(3n), g1(G1), scalar(5n))],
    ['0d', 'BLS G2ADD', cat(g2(b), g2(G2))],
    ['0e', 'BLS G2MSM, 2 pairs', cat(g2(b), scalar(3n), g2(G2), scalar(5n))],
    ['0f', 'BLS PAIRING, 2 pairs', cat(g1(G1), g2(G2), g1(G1.negate()), g2(G2))],
    ['10', 'BLS MAP_FP_TO_G1', fp(12345n)],
    ['11', 'BLS MAP_FP2_TO_G2', cat(fp(12345n), fp(678n))],
    ['100', 'P256VERIFY', cat(msg, sig, pub.subarray(1))],
  ]
}

async function blocks() {
  // ../shared/data/prague-osaka holds fixtures/prague's two blocks and two more: the union, each block once.
  const shared = join(root, '..', 'shared', 'data', 'prague-osaka')
  const paths = [existsSync(shared) ? shared : join(root, 'fixtures', 'prague')]
  precompileTimes.clear()
  timePrecompiles.on = true
  const t0 = performance.now()
  const r = await replay({
    source: await createFixtureSource({ paths }),
    sourcePaths: paths,
    engines: ['mega'],
    storage: { kind: 'memory' },
    warmup: 0,
    repeat: 1,
    mega: { ...DEFAULT_MEGA_SETTINGS, evm: 'fast' },
  })
  const wall = performance.now() - t0
  timePrecompiles.on = false
  const mega = r.engines[0]
  const calls = Object.fromEntries([...precompileTimes].map(([a, t]) => [`0x${a.replace(/^0+/, '')}`, { calls: t.calls, ms: +t.ms.toFixed(3) }]))
  const precompileMs = [...precompileTimes.values()].reduce((s, t) => s + t.ms, 0)
  return {
    paths,
    blocks: mega.totals.blocks ?? mega.blocks.length,
    fastBlocks: mega.mega.evm.fastBlocks,
    txs: mega.blocks.reduce((n, b) => n + (b.txCount ?? 0), 0),
    wallMs: +wall.toFixed(1),
    precompiles: calls,
    precompileMs: +precompileMs.toFixed(3),
    kzg: kzgStatus(),
  }
}

function perCall() {
  const osaka = precompilesFor(rulesFor('osaka'))
  const out = []
  for (const [addr, name, data] of inputs()) {
    const fn = osaka.get(addr.padStart(40, '0'))
    const first = performance.now()
    const res = fn(data, 10_000_000)
    const firstMs = performance.now() - first
    if (res.status !== 0) throw new Error(`${name}: failed on its input`)
    const rounds = []
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now()
      for (let i = 0; i < CALLS; i++) fn(data, 10_000_000)
      rounds.push((performance.now() - t0) / CALLS)
    }
    out.push({ address: `0x${addr}`, name, gas: 10_000_000 - res.gasLeft, firstCallMs: +firstMs.toFixed(3), msPerCall: +median(rounds).toFixed(4), outputEnd: Buffer.from(res.output).toString('hex').slice(-16) })
  }
  return out
}

await initKeccak()
const result = { date: new Date().toISOString(), machine: machine(), calls: CALLS, rounds: ROUNDS, blocks: await blocks(), perCall: perCall() }
const file = saveResult('precompiles', result)
if (hasFlag('json')) console.log(JSON.stringify(result))
else {
  const b = result.blocks
  console.log(`post-Prague blocks (${b.paths.join(', ')}): ${b.blocks} blocks, ${b.fastBlocks} on the fast EVM, wall ${b.wallMs} ms`)
  console.log(`  precompile calls: ${JSON.stringify(b.precompiles)}; ${b.precompileMs} ms in precompiles in all`)
  console.log(`  KZG backend: ${b.kzg.loaded ? `loaded in ${b.kzg.loadMs?.toFixed(1)} ms` : 'not loaded'}`)
  console.log(`per call (${CALLS} calls × ${ROUNDS} rounds, median; Osaka rules):`)
  console.table(result.perCall)
  console.log(`saved ${file}`)
}
