#!/usr/bin/env node
// Builds contracts/artifacts/*.json: the real contracts megabench's synthetic workloads deploy.
//
//   node scripts/build-contracts.mjs           write contracts/artifacts/ (byte-identical on every run)
//   node scripts/build-contracts.mjs --check   compare against the files on disk, write nothing, exit 1 on drift
//
// MegabenchToken is compiled here with solc-js (the `solc` devDependency); UniswapV2Factory, UniswapV2Pair,
// UniswapV2Router02 and WETH9 are copied from the build outputs shipped in their npm packages, unmodified.
// The script fails loudly if UniswapV2Router02's hard-coded pair init code hash does not match
// keccak256(UniswapV2Pair creation code), because the router would then compute wrong pair addresses.

import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

import solc from 'solc'
import { keccak256 } from 'viem'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const NODE_MODULES = join(ROOT, 'node_modules')
const OUT_DIR = join(ROOT, 'contracts', 'artifacts')
const CHECK = process.argv.includes('--check')

/** Init code hash hard-coded in UniswapV2Library.pairFor (v2-periphery), i.e. the one used on mainnet. */
const MAINNET_PAIR_INIT_CODE_HASH = '0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f'

const fail = (msg) => {
  console.error(`build-contracts: ERROR: ${msg}`)
  process.exit(1)
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')
const posix = (p) => p.split(sep).join('/')
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'))
const pkgVersion = (name) => readJson(join(NODE_MODULES, name, 'package.json')).version

/** Normalises a hex string to lower-case 0x-prefixed form and rejects anything that is not complete, linked code. */
function hex0x(value, what) {
  if (typeof value !== 'string' || value.length === 0) fail(`${what}: missing bytecode`)
  const body = value.startsWith('0x') ? value.slice(2) : value
  if (body.includes('__')) fail(`${what}: bytecode has unlinked library placeholders`)
  if (!/^[0-9a-fA-F]*$/.test(body) || body.length % 2 !== 0 || body.length === 0) fail(`${what}: bytecode is not hex`)
  return `0x${body.toLowerCase()}`
}

/**
 * Minimal decoder for the CBOR map solc appends to runtime code (last two bytes = its length).
 * Only what solc emits is supported: a map with text keys and byte-string/text/bool values.
 * Returns null if the tail does not look like solc metadata.
 */
function solcCborMetadata(runtimeHex) {
  const code = Buffer.from(runtimeHex.slice(2), 'hex')
  if (code.length < 2) return null
  const len = code.readUInt16BE(code.length - 2)
  if (len + 2 > code.length) return null
  const buf = code.subarray(code.length - 2 - len, code.length - 2)
  let pos = 0
  const readHead = () => {
    const b = buf[pos++]
    if (b === undefined) throw new Error('eof')
    const major = b >> 5
    const info = b & 31
    let n
    if (info < 24) n = info
    else if (info === 24) n = buf[pos++]
    else if (info === 25) {
      n = buf.readUInt16BE(pos)
      pos += 2
    } else throw new Error('unsupported length')
    return { major, info, n }
  }
  const readItem = () => {
    const { major, info, n } = readHead()
    if (major === 2) return buf.subarray(pos, (pos += n))
    if (major === 3) return buf.subarray(pos, (pos += n)).toString('utf8')
    if (major === 7 && (info === 20 || info === 21)) return info === 21
    throw new Error('unsupported item')
  }
  try {
    const head = readHead()
    if (head.major !== 5) return null
    const out = {}
    for (let i = 0; i < head.n; i++) {
      const key = readItem()
      if (typeof key !== 'string') return null
      out[key] = readItem()
    }
    return pos === buf.length ? out : null
  } catch {
    return null
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 1. MegabenchToken, compiled with solc-js
// ---------------------------------------------------------------------------------------------------------------

const TOKEN_SOURCE = 'contracts/MegabenchToken.sol'
const SOLC_SETTINGS = {
  // Kept explicit so that a solc default change cannot silently change the bytecode.
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
  viaIR: false,
  // No IPFS/Swarm hash of the metadata in the bytecode: the CBOR tail then only carries the solc version.
  metadata: { bytecodeHash: 'none', appendCBOR: true },
  remappings: [],
  libraries: {},
}

/** Imported files, keyed by the import path solc asked for; recorded (with hashes) in the artifact. */
const imported = new Map()

function findImports(importPath) {
  // Only package imports are expected (e.g. "@openzeppelin/contracts/..."); refuse anything that escapes node_modules.
  const file = resolve(NODE_MODULES, importPath)
  if (!file.startsWith(NODE_MODULES + sep) || !existsSync(file)) return { error: `File not found: ${importPath}` }
  const contents = readFileSync(file, 'utf8')
  imported.set(importPath, contents)
  return { contents }
}

function compileToken() {
  const source = readFileSync(join(ROOT, TOKEN_SOURCE), 'utf8')
  const input = {
    language: 'Solidity',
    sources: { [TOKEN_SOURCE]: { content: source } },
    settings: {
      ...SOLC_SETTINGS,
      outputSelection: {
        [TOKEN_SOURCE]: { MegabenchToken: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
      },
    },
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }))
  const diagnostics = output.errors ?? []
  for (const d of diagnostics) if (d.severity !== 'error') console.warn(d.formattedMessage ?? d.message)
  const errors = diagnostics.filter((d) => d.severity === 'error')
  if (errors.length > 0) fail(`solc failed:\n${errors.map((e) => e.formattedMessage ?? e.message).join('\n')}`)
  const c = output.contracts?.[TOKEN_SOURCE]?.MegabenchToken
  if (!c) fail('solc produced no MegabenchToken')

  const importsByPackage = {}
  for (const path of [...imported.keys()].sort()) {
    const pkg = path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0]
    importsByPackage[path] = {
      package: `${pkg}@${pkgVersion(pkg)}`,
      sha256: sha256(imported.get(path)),
    }
  }

  return {
    contractName: 'MegabenchToken',
    abi: c.abi,
    bytecode: hex0x(c.evm.bytecode.object, 'MegabenchToken'),
    deployedBytecode: hex0x(c.evm.deployedBytecode.object, 'MegabenchToken (runtime)'),
    source: {
      package: null,
      path: TOKEN_SOURCE,
      sha256: sha256(source),
      imports: importsByPackage,
    },
    compiler: { name: 'solc-js', version: solc.version(), settings: SOLC_SETTINGS, from: 'scripts/build-contracts.mjs' },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Upstream build outputs, copied
// ---------------------------------------------------------------------------------------------------------------

/**
 * Compiler info as recorded by the upstream file:
 * - waffle (Uniswap v2-core) stores solc's `metadata` JSON string: version and settings come from it;
 * - waffle (Uniswap v2-periphery) stores no metadata: the version comes from the CBOR tail of the runtime code;
 * - truffle (canonical-weth) stores `compiler: { name, version }` but no settings.
 */
function upstreamCompiler(json, runtime) {
  if (typeof json.metadata === 'string') {
    const m = JSON.parse(json.metadata)
    const { compilationTarget: _target, ...settings } = m.settings ?? {}
    return { name: 'solc', version: m.compiler?.version ?? null, settings, from: 'metadata field of the build file' }
  }
  if (json.compiler && typeof json.compiler === 'object') {
    return { name: json.compiler.name, version: json.compiler.version, settings: null, from: 'compiler field of the build file' }
  }
  const cbor = solcCborMetadata(runtime)
  if (cbor && cbor.solc instanceof Uint8Array && cbor.solc.length === 3) {
    return {
      name: 'solc',
      version: [...cbor.solc].join('.'),
      settings: null,
      from: 'CBOR metadata appended to the runtime code (the build file records no compiler info)',
    }
  }
  return null
}

function copyArtifact(contractName, pkg, pathInPackage) {
  const file = join(NODE_MODULES, pkg, pathInPackage)
  if (!existsSync(file)) fail(`${contractName}: ${posix(relative(ROOT, file))} not found (is ${pkg} installed?)`)
  const raw = readFileSync(file)
  const json = JSON.parse(raw.toString('utf8'))
  // waffle: top-level `bytecode` (no 0x) == evm.bytecode.object; runtime only under evm.deployedBytecode.object.
  // truffle: top-level `bytecode` / `deployedBytecode` (0x-prefixed).
  const bytecode = hex0x(json.bytecode ?? json.evm?.bytecode?.object, contractName)
  const deployedBytecode = hex0x(json.deployedBytecode ?? json.evm?.deployedBytecode?.object, `${contractName} (runtime)`)
  if (json.evm?.bytecode?.object !== undefined && hex0x(json.evm.bytecode.object, contractName) !== bytecode) {
    fail(`${contractName}: top-level bytecode differs from evm.bytecode.object in ${pkg}/${pathInPackage}`)
  }
  if (!Array.isArray(json.abi)) fail(`${contractName}: no abi in ${pkg}/${pathInPackage}`)
  return {
    contractName,
    abi: json.abi,
    bytecode,
    deployedBytecode,
    source: { package: `${pkg}@${pkgVersion(pkg)}`, path: pathInPackage, sha256: sha256(raw) },
    compiler: upstreamCompiler(json, deployedBytecode),
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Cross-checks
// ---------------------------------------------------------------------------------------------------------------

function hexOccurrences(haystack0x, needle0x) {
  const h = haystack0x.slice(2)
  const n = needle0x.slice(2)
  const at = []
  for (let i = h.indexOf(n); i !== -1; i = h.indexOf(n, i + 1)) if (i % 2 === 0) at.push(i / 2)
  return at
}

function checkInitCodeHash({ UniswapV2Factory, UniswapV2Pair, UniswapV2Router02 }) {
  const pairInitCodeHash = keccak256(UniswapV2Pair.bytecode)

  // The factory deploys `type(UniswapV2Pair).creationCode` with CREATE2: it must embed exactly this creation code.
  if (hexOccurrences(UniswapV2Factory.bytecode, UniswapV2Pair.bytecode).length !== 1) {
    fail('UniswapV2Factory does not embed the UniswapV2Pair creation code of the v2-core artifact')
  }

  // The router hard-codes the hash in UniswapV2Library.pairFor as a PUSH32 (0x7f) immediate.
  const find = (hash) =>
    hexOccurrences(UniswapV2Router02.deployedBytecode, hash).filter(
      (at) => UniswapV2Router02.deployedBytecode.slice(2 + 2 * (at - 1), 2 + 2 * at) === '7f',
    )
  const embedded = find(pairInitCodeHash)
  const mainnet = find(MAINNET_PAIR_INIT_CODE_HASH)
  console.log(`keccak256(UniswapV2Pair creation code) = ${pairInitCodeHash}`)
  console.log(`mainnet init code hash (pairFor)        = ${MAINNET_PAIR_INIT_CODE_HASH}`)
  console.log(
    `UniswapV2Router02 runtime embeds it as PUSH32 at byte offset(s): ${embedded.join(', ') || 'none'}; mainnet hash at: ${mainnet.join(', ') || 'none'}`,
  )
  if (embedded.length === 0) {
    fail(
      'UniswapV2Router02 does not embed keccak256(UniswapV2Pair creation code): its pairFor() would compute wrong ' +
        `pair addresses against this factory. The router embeds ${mainnet.length > 0 ? MAINNET_PAIR_INIT_CODE_HASH : 'an unknown hash'}. ` +
        'Fix: deploy the pair bytecode whose hash the router embeds, or recompile UniswapV2Library.pairFor with ' +
        `hex'${pairInitCodeHash.slice(2)}' (do not patch the router bytecode).`,
    )
  }
  return pairInitCodeHash
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Output
// ---------------------------------------------------------------------------------------------------------------

function readme(artifacts, pairInitCodeHash) {
  const rows = Object.values(artifacts)
    .map((a) => {
      const from = a.source.package ? `\`${a.source.package}\` \`${a.source.path}\`` : `\`${a.source.path}\` (this repository)`
      const compiler = a.compiler ? `${a.compiler.name} ${a.compiler.version}` : 'unknown'
      return `| ${a.contractName} | ${from} | ${compiler} | \`${keccak256(a.bytecode)}\` |`
    })
    .join('\n')
  return `# Contract artifacts

Generated by \`node scripts/build-contracts.mjs\`. Do not edit by hand: re-run the script.
\`node scripts/build-contracts.mjs --check\` verifies that the committed files are up to date (exit 1 on drift).

These are the real contracts megabench's synthetic workloads deploy (no hand-written bytecode). The script is
deterministic: re-running it produces byte-identical files (no timestamps, no absolute paths, stable key order,
no metadata hash in the compiled bytecode).

| Contract | Source | Compiler | keccak256(creation code) |
| --- | --- | --- | --- |
${rows}

## Provenance

- **MegabenchToken** is compiled from \`contracts/MegabenchToken.sol\` (an OpenZeppelin ERC20 that mints the whole
  supply to \`holder\` in its constructor) with solc-js, Standard JSON input, imports resolved from \`node_modules\`.
  Settings: \`${JSON.stringify(SOLC_SETTINGS)}\`. \`source.imports\` lists every imported file with its package
  version and sha256.
- **UniswapV2Factory**, **UniswapV2Pair** are copied from \`@uniswap/v2-core\`'s \`build/\` (waffle output of
  solc 0.5.16; the compiler version and settings come from the \`metadata\` field of those files).
- **UniswapV2Router02** is copied from \`@uniswap/v2-periphery\`'s \`build/\` (waffle output with no metadata field; the
  compiler version, solc 0.6.6, is read from the CBOR tail of the runtime code, settings are unknown). Its
  \`deployedBytecode\` is the compiler's runtime code, with the two immutables (\`factory\`, \`WETH\`) still zero
  placeholders: the real runtime code is only known after the constructor ran.
- **WETH9** is copied from \`canonical-weth\`'s truffle artifact (solc 0.5.0 per its \`compiler\` field; no settings
  recorded). This is the Dapphub WETH9 source adapted to solc 0.5 syntax, so its bytecode is not the bytecode of
  mainnet WETH (0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2, solc 0.4.19), but its behaviour is the same.

Licences (of the upstream packages): \`@uniswap/v2-core\` and \`@uniswap/v2-periphery\` GPL-3.0-or-later,
\`canonical-weth\` GPL-3.0, \`@openzeppelin/contracts\` MIT.

Each \`<Name>.json\` holds \`contractName\`, \`abi\`, \`bytecode\` (0x creation code), \`deployedBytecode\` (0x runtime code),
\`source\` (\`package\` as name@version or null for this repository, \`path\`, \`sha256\` of the upstream build file or of
the .sol file) and \`compiler\` (\`name\`, \`version\`, \`settings\` or null, \`from\`: where that information was found).

## Pair init code hash

UniswapV2Router02 computes pair addresses itself (the CREATE2 formula) with a hash hard-coded in \`UniswapV2Library.pairFor\`. The
script checks that keccak256(UniswapV2Pair creation code) is embedded (as a PUSH32) in the router's runtime code and
that the factory embeds exactly this pair creation code, and fails otherwise.

- keccak256(UniswapV2Pair creation code): \`${pairInitCodeHash}\`
- hash hard-coded in UniswapV2Router02: \`${MAINNET_PAIR_INIT_CODE_HASH}\` (the mainnet value)
`
}

const artifacts = {
  MegabenchToken: compileToken(),
  UniswapV2Factory: copyArtifact('UniswapV2Factory', '@uniswap/v2-core', 'build/UniswapV2Factory.json'),
  UniswapV2Pair: copyArtifact('UniswapV2Pair', '@uniswap/v2-core', 'build/UniswapV2Pair.json'),
  UniswapV2Router02: copyArtifact('UniswapV2Router02', '@uniswap/v2-periphery', 'build/UniswapV2Router02.json'),
  WETH9: copyArtifact('WETH9', 'canonical-weth', 'build/contracts/WETH9.json'),
}
const pairInitCodeHash = checkInitCodeHash(artifacts)

const files = new Map()
for (const [name, artifact] of Object.entries(artifacts)) files.set(`${name}.json`, `${JSON.stringify(artifact, null, 2)}\n`)
files.set('README.md', readme(artifacts, pairInitCodeHash))

if (CHECK) {
  const stale = [...files].filter(([f, text]) => !existsSync(join(OUT_DIR, f)) || readFileSync(join(OUT_DIR, f), 'utf8') !== text)
  if (stale.length > 0) fail(`out of date: ${stale.map(([f]) => f).join(', ')} (run node scripts/build-contracts.mjs)`)
  console.log(`contracts/artifacts: ${files.size} files up to date`)
} else {
  mkdirSync(OUT_DIR, { recursive: true })
  for (const [f, text] of files) writeFileSync(join(OUT_DIR, f), text)
  for (const a of Object.values(artifacts)) {
    console.log(`wrote contracts/artifacts/${a.contractName}.json (${(a.bytecode.length - 2) / 2} bytes creation code)`)
  }
}
