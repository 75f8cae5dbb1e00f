#!/usr/bin/env node
// Benchmark behind the fast EVM's word representation (issue 10, Build 3), all in one process:
//  1. 256-bit arithmetic: BigInt (what src/evm uses) vs 16 × 16-bit limbs in a Uint32Array (an
//     allocation-free alternative), for ADD, MUL, AND, SHR, LT, EQ mod 2^256 on a realistic operand mix
//     (a third small amounts, a third 160-bit addresses, a third full 256-bit hashes);
//  2. word ↔ memory bytes: BigInt via DataView.getBigUint64 (src/evm) vs via a hex string;
//  3. map keys chosen by an adversary: Map<bigint> with keys i << 64 (V8 hashes a BigInt by its low 64
//     bits: every key collides) vs the same slots as hex strings (what src/evm keys its maps by).
// Medians over --repeat runs of --ops operations each.
//
//   node scripts/bench-words.mjs [--ops 200000] [--repeat 5] [--keys 20000]
import { arg, machine, median, saveResult } from './lib.mjs'

const OPS = Number(arg('ops', '200000'))
const REPEAT = Number(arg('repeat', '5'))
const KEYS = Number(arg('keys', '20000'))
const M256 = (1n << 256n) - 1n

// Operands: deterministic mix.
let seed = 0x12345678
const rnd32 = () => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return seed >>> 0
}
const randBig = (bits) => {
  let x = 0n
  for (let b = 0; b < bits; b += 32) x = (x << 32n) | BigInt(rnd32())
  return x & ((1n << BigInt(bits)) - 1n)
}
const N = 1024
const big = Array.from({ length: N }, (_, i) => (i % 3 === 0 ? randBig(40) : i % 3 === 1 ? randBig(160) : randBig(256)))

// 16-bit limbs, little-endian, in one Uint32Array per word.
const toLimbs = (x) => {
  const a = new Uint32Array(16)
  for (let i = 0; i < 16; i++) a[i] = Number((x >> BigInt(16 * i)) & 0xffffn)
  return a
}
const fromLimbs = (a) => {
  let x = 0n
  for (let i = 15; i >= 0; i--) x = (x << 16n) | BigInt(a[i])
  return x
}
const limbs = big.map(toLimbs)
function addL(a, b, out) {
  let c = 0
  for (let i = 0; i < 16; i++) {
    const s = a[i] + b[i] + c
    out[i] = s & 0xffff
    c = s >>> 16
  }
}
const T = new Float64Array(16)
function mulL(a, b, out) {
  const t = T.fill(0) // column sums < 16 · 2^32 < 2^53
  for (let i = 0; i < 16; i++) {
    const ai = a[i]
    if (ai === 0) continue
    for (let j = 0; j < 16 - i; j++) t[i + j] += ai * b[j]
  }
  let c = 0
  for (let k = 0; k < 16; k++) {
    const s = t[k] + c
    out[k] = s % 65536
    c = Math.floor(s / 65536)
  }
}
function andL(a, b, out) {
  for (let i = 0; i < 16; i++) out[i] = a[i] & b[i]
}
function shrL(a, n, out) {
  const q = n >>> 4
  const r = n & 15
  for (let i = 0; i < 16; i++) {
    const lo = i + q < 16 ? a[i + q] : 0
    const hi = i + q + 1 < 16 ? a[i + q + 1] : 0
    out[i] = ((lo >>> r) | (hi << (16 - r))) & 0xffff
  }
}
function ltL(a, b) {
  for (let i = 15; i >= 0; i--) if (a[i] !== b[i]) return a[i] < b[i]
  return false
}
function eqL(a, b) {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false
  return true
}
// Check the limb versions against BigInt before timing.
const out = new Uint32Array(16)
for (let i = 0; i < 200; i++) {
  const [a, b] = [big[i], big[(i * 7 + 3) % N]]
  const [la, lb] = [limbs[i], limbs[(i * 7 + 3) % N]]
  addL(la, lb, out)
  if (fromLimbs(out) !== ((a + b) & M256)) throw new Error('ADD limbs wrong')
  mulL(la, lb, out)
  if (fromLimbs(out) !== ((a * b) & M256)) throw new Error('MUL limbs wrong')
  shrL(la, i % 256, out)
  if (fromLimbs(out) !== a >> BigInt(i % 256)) throw new Error('SHR limbs wrong')
  if (ltL(la, lb) !== a < b || eqL(la, la) !== true) throw new Error('LT/EQ limbs wrong')
}

const time = (fn) => {
  const t = performance.now()
  fn()
  return performance.now() - t
}
const mops = (ms, n = OPS) => n / ms / 1000
const ops = {
  ADD: [() => { let x = 0n; for (let i = 0; i < OPS; i++) x = (big[i & 1023] + big[(i * 7) & 1023]) & M256; return x }, () => { for (let i = 0; i < OPS; i++) addL(limbs[i & 1023], limbs[(i * 7) & 1023], out) }],
  MUL: [() => { let x = 0n; for (let i = 0; i < OPS; i++) x = (big[i & 1023] * big[(i * 7) & 1023]) & M256; return x }, () => { for (let i = 0; i < OPS; i++) mulL(limbs[i & 1023], limbs[(i * 7) & 1023], out) }],
  AND: [() => { let x = 0n; for (let i = 0; i < OPS; i++) x = big[i & 1023] & big[(i * 7) & 1023]; return x }, () => { for (let i = 0; i < OPS; i++) andL(limbs[i & 1023], limbs[(i * 7) & 1023], out) }],
  SHR: [() => { let x = 0n; for (let i = 0; i < OPS; i++) x = big[i & 1023] >> BigInt(i & 255); return x }, () => { for (let i = 0; i < OPS; i++) shrL(limbs[i & 1023], i & 255, out) }],
  LT: [() => { let x = 0; for (let i = 0; i < OPS; i++) x += big[i & 1023] < big[(i * 7) & 1023] ? 1 : 0; return x }, () => { let x = 0; for (let i = 0; i < OPS; i++) x += ltL(limbs[i & 1023], limbs[(i * 7) & 1023]) ? 1 : 0; return x }],
  EQ: [() => { let x = 0; for (let i = 0; i < OPS; i++) x += big[i & 1023] === big[(i * 7) & 1023] ? 1 : 0; return x }, () => { let x = 0; for (let i = 0; i < OPS; i++) x += eqL(limbs[i & 1023], limbs[(i * 7) & 1023]) ? 1 : 0; return x }],
}

// Word ↔ memory bytes.
const mem = new Uint8Array(32 * N)
const view = new DataView(mem.buffer)
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const readDV = (o) => (view.getBigUint64(o) << 192n) | (view.getBigUint64(o + 8) << 128n) | (view.getBigUint64(o + 16) << 64n) | view.getBigUint64(o + 24)
const writeDV = (o, w) => {
  view.setBigUint64(o, w >> 192n)
  view.setBigUint64(o + 8, BigInt.asUintN(64, w >> 128n))
  view.setBigUint64(o + 16, BigInt.asUintN(64, w >> 64n))
  view.setBigUint64(o + 24, BigInt.asUintN(64, w))
}
const readHex = (o) => {
  let s = '0x'
  for (let i = o; i < o + 32; i++) s += HEX[mem[i]]
  return BigInt(s)
}
const writeHex = (o, w) => {
  const s = w.toString(16).padStart(64, '0')
  for (let i = 0; i < 32; i++) mem[o + i] = parseInt(s.substr(2 * i, 2), 16)
}
for (let i = 0; i < N; i++) writeDV(i * 32, big[i])
for (let i = 0; i < N; i++) if (readHex(i * 32) !== big[i] || readDV(i * 32) !== big[i]) throw new Error('memory codec wrong')
const codec = {
  'MLOAD (bytes → word)': [() => { let x = 0n; for (let i = 0; i < OPS; i++) x = readDV((i & 1023) * 32); return x }, () => { let x = 0n; for (let i = 0; i < OPS; i++) x = readHex((i & 1023) * 32); return x }],
  'MSTORE (word → bytes)': [() => { for (let i = 0; i < OPS; i++) writeDV((i & 1023) * 32, big[i & 1023]) }, () => { for (let i = 0; i < OPS; i++) writeHex((i & 1023) * 32, big[i & 1023]) }],
}

// Adversarial map keys.
const keysBig = Array.from({ length: KEYS }, (_, i) => BigInt(i) << 64n)
const keysRandom = Array.from({ length: KEYS }, () => randBig(256))
const mapRun = (keys) => () => {
  const m = new Map()
  for (const k of keys) m.set(k, 1n)
  let s = 0
  for (const k of keys) if (m.has(k)) s++
  return s
}
const maps = {
  'random slots, BigInt keys': mapRun(keysRandom),
  'slots i << 64, BigInt keys': mapRun(keysBig),
  'slots i << 64, hex string keys': mapRun(keysBig.map((k) => k.toString(16))),
}

const rows = []
for (const [name, [b, l]] of Object.entries(ops)) {
  b(); l() // warm-up
  const tb = []
  const tl = []
  for (let r = 0; r < REPEAT; r++) {
    tb.push(time(b))
    tl.push(time(l))
  }
  rows.push({ kind: 'arithmetic', op: name, bigintMops: mops(median(tb)), limbsMops: mops(median(tl)) })
}
for (const [name, [dv, hx]] of Object.entries(codec)) {
  dv(); hx()
  const td = []
  const th = []
  for (let r = 0; r < REPEAT; r++) {
    td.push(time(dv))
    th.push(time(hx))
  }
  rows.push({ kind: 'memory', op: name, dataViewMops: mops(median(td)), hexMops: mops(median(th)) })
}
for (const [name, fn] of Object.entries(maps)) {
  const t = []
  for (let r = 0; r < Math.min(REPEAT, 3); r++) t.push(time(fn))
  rows.push({ kind: 'map', op: name, keys: KEYS, ms: median(t) })
}
const result = { benchmark: 'words', date: new Date().toISOString(), machine: machine(), ops: OPS, repeat: REPEAT, rows }
const file = saveResult('words', result)
console.log(`## 256-bit words (${result.date}; ${result.machine.cpu}, node ${result.machine.node}; medians of ${REPEAT})`)
console.log('| operation | BigInt M ops/s | 16×16-bit limbs M ops/s | limbs ÷ BigInt |')
console.log('|---|---|---|---|')
for (const r of rows.filter((x) => x.kind === 'arithmetic')) console.log(`| ${r.op} | ${r.bigintMops.toFixed(2)} | ${r.limbsMops.toFixed(2)} | ${(r.limbsMops / r.bigintMops).toFixed(2)}x |`)
console.log('\n| memory codec | DataView M ops/s | hex string M ops/s |')
console.log('|---|---|---|')
for (const r of rows.filter((x) => x.kind === 'memory')) console.log(`| ${r.op} | ${r.dataViewMops.toFixed(2)} | ${r.hexMops.toFixed(2)} |`)
console.log(`\n| ${KEYS.toLocaleString('en-US')} slot keys, insert + lookup | ms |`)
console.log('|---|---|')
for (const r of rows.filter((x) => x.kind === 'map')) console.log(`| ${r.op} | ${r.ms.toFixed(1)} |`)
console.log(`\nsaved ${file}`)
