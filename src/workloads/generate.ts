import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { Block, type BlockHeader, createBlock, createBlockHeader, genRequestsRoot, genTransactionsTrieRoot } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { Caches } from '@ethereumjs/statemanager'
import type { TypedTransaction } from '@ethereumjs/tx'
import {
  Address,
  KECCAK256_RLP,
  ValueEncoding,
  bigIntToUnpaddedBytes,
  bytesToHex,
  concatBytes,
  hexToBytes,
  setLengthLeft,
  utf8ToBytes,
} from '@ethereumjs/util'
import { createVM } from '@ethereumjs/vm'
import { sha256 } from '@noble/hashes/sha2.js'
import { keccak256 } from '../util/keccak.js'

import { AncestorChain } from '../chain/ancestors.js'
import { createChainCommon } from '../chain/common.js'
import { BlockExecution } from '../engines/baseline/executeBlock.js'
import { NodeStore } from '../trie/nodeStore.js'
import { ReplayStateManager } from '../engines/baseline/stateManager.js'
import { now } from '../probes/clock.js'
import { PhaseClock } from '../probes/phases.js'
import { buildReserved } from '../output/files.js'
import { type OutputCheck, OutputReservation } from '../output/guard.js'
import { toolInfo } from '../run/environment.js'
import {
  CHAIN_FORMAT,
  type ChainContracts,
  type ChainManifest,
  GENESIS_FORMAT,
  type GenesisSpec,
  type WorkloadSpec,
  blockFileName,
  sendersFileName,
} from '../sources/chainFormat.js'
import { initKeccak } from '../util/keccak.js'
import { AccountSet } from './accounts.js'
import { buildGenesisState } from './genesis.js'
import { type GenerateOptions, resolveHardfork, resolveWorkload } from './options.js'
import { ERC20_LAYOUT, deployWorkloadContracts } from './setup.js'
import { TX_GAS_LIMIT, TxFactory } from './transactions.js'

/** Chain parameters every generated chain shares (the hardfork is an option: src/workloads/options.ts). */
export const CHAIN_DEFAULTS = {
  chainId: 1337,
  genesisTimestamp: 1_700_000_000,
  blockTime: 12,
  /** The minimum base fee: blocks above the gas target raise it by ≤ 12.5% per block from here. */
  genesisBaseFee: 7n,
  /** Every sender starts with 10,000 ETH and 1,000,000 of every token (18 decimals). */
  senderBalance: 10n ** 22n,
  tokenHolding: 10n ** 24n,
  coinbase: '0x000000000000000000000000000000000000c0de',
} as const

export type GenerateProgress = {
  stage: 'setup' | 'genesis' | 'blocks'
  done: number
  total: number
}

export type GenerateStats = {
  spec: WorkloadSpec
  manifest: ChainManifest
  setupMs: number
  genesisMs: number
  blocksMs: number
  txs: number
  gasUsed: number
  bytesOnDisk: { genesis: number; blocks: number; senders: number }
  genesisNodes: number
}

/**
 * Generates a chain directory (format in src/sources/chainFormat.ts): deploys the workload's contracts
 * in a scratch EVM, builds the genesis (bulk accounts, token holdings and the contracts) in bulk,
 * then builds every block by executing its transactions with the baseline engine's executor, so
 * that each header carries the true state root, receipts root, logs bloom and gas used. The same
 * options always give byte-identical files. The directory appears only when complete.
 */
export async function generateChain(
  options: GenerateOptions,
  outDir: string,
  onProgress?: (p: GenerateProgress) => void,
  output: OutputCheck = {},
): Promise<GenerateStats> {
  const spec = resolveWorkload(options)
  const hardfork = resolveHardfork(options.hardfork, spec)
  // Checked and reserved before the (possibly long) genesis build: never replace what megabench did not write.
  const reservation = await OutputReservation.reserve(outDir, 'chain', output)
  try {
    return await generateInto(spec, hardfork, outDir, reservation, onProgress)
  } catch (err) {
    await reservation.abort()
    throw err
  }
}

/**
 * The header fields a fork adds (each while its EIP is active): the withdrawals root (EIP-4895, here
 * always of no withdrawals), the blob gas fields (EIP-4844: no blobs, the excess carried over by the
 * fork's blob schedule), the parent beacon root (EIP-4788; a seed-derived stand-in). The requests hash
 * (EIP-7685) is the executor's, added once the block is executed.
 */
function forkHeaderFields(common: Common, parent: BlockHeader | undefined, beaconRoot: Uint8Array) {
  return {
    ...(common.isActivatedEIP(4895) ? { withdrawalsRoot: KECCAK256_RLP } : {}),
    ...(common.isActivatedEIP(4844) ? { blobGasUsed: 0n, excessBlobGas: parent === undefined ? 0n : parent.calcNextExcessBlobGas(common) } : {}),
    ...(common.isActivatedEIP(4788) ? { parentBeaconBlockRoot: beaconRoot } : {}),
  }
}

async function generateInto(
  spec: ReturnType<typeof resolveWorkload>,
  hardfork: string,
  outDir: string,
  reservation: OutputReservation,
  onProgress?: (p: GenerateProgress) => void,
): Promise<GenerateStats> {
  await initKeccak()
  const D = CHAIN_DEFAULTS
  const where = { origin: outDir, block: 0n }
  const common = createChainCommon(BigInt(D.chainId), hardfork, where)

  // 1. Contracts, deployed for real in a scratch EVM, become the explicit part of the genesis.
  let t = now()
  onProgress?.({ stage: 'setup', done: 0, total: 1 })
  const setupBlock = createBlock(
    { header: { number: 0n, timestamp: BigInt(D.genesisTimestamp), gasLimit: BigInt(spec.blockGasLimit), baseFeePerGas: D.genesisBaseFee } },
    { common },
  )
  const setup = await deployWorkloadContracts({ common, block: setupBlock, seed: spec.seed, tokens: spec.tokens, pairs: spec.pairs })
  const holdersTotal = BigInt(spec.senders) * D.tokenHolding
  const totalSupplyKey = bytesToHex(setLengthLeft(bigIntToUnpaddedBytes(BigInt(ERC20_LAYOUT.totalSupplySlot)), 32))
  for (const token of setup.contracts.tokens) {
    const storage = setup.alloc[token]!.storage!
    storage[totalSupplyKey] = bytesToHex(setLengthLeft(bigIntToUnpaddedBytes(BigInt(storage[totalSupplyKey] ?? '0x0') + holdersTotal), 32))
  }
  const setupMs = now() - t

  // 2. The genesis state, in bulk.
  t = now()
  const stateSpec: Pick<GenesisSpec, 'accounts' | 'tokenHoldings' | 'alloc'> = {
    accounts: {
      count: spec.accounts,
      senders: spec.senders,
      seed: spec.seed,
      senderBalance: `0x${D.senderBalance.toString(16)}`,
      dormantBalance: 'megabench-v1',
    },
    tokenHoldings: setup.contracts.tokens.map((token) => ({
      token,
      balanceSlot: ERC20_LAYOUT.balanceSlot,
      allowanceSlot: ERC20_LAYOUT.allowanceSlot,
      balance: `0x${D.tokenHolding.toString(16)}`,
      allowances: setup.contracts.router ? [{ spender: setup.contracts.router, amount: `0x${(2n ** 256n - 1n).toString(16)}` }] : [],
    })),
    alloc: setup.alloc,
  }
  const store = new NodeStore(true, Math.ceil(spec.accounts * 1.4) + 1024)
  const genesisBuild = buildGenesisState(stateSpec, store, (stage, done, total) =>
    onProgress?.({ stage: 'genesis', done: stage === 'accounts' ? done : 0, total }),
  )
  const genesisHeader = createBlockHeader(
    {
      number: 0n,
      timestamp: BigInt(D.genesisTimestamp),
      gasLimit: BigInt(spec.blockGasLimit),
      baseFeePerGas: D.genesisBaseFee,
      stateRoot: genesisBuild.stateRoot,
      extraData: utf8ToBytes('megabench genesis'),
      ...forkHeaderFields(common, undefined, new Uint8Array(32)),
      // EIP-7685: a genesis has no requests (sha256 of nothing).
      ...(common.isActivatedEIP(7685) ? { requestsHash: genRequestsRoot([], sha256) } : {}),
      difficulty: 0n,
    },
    { common },
  )
  const genesis: GenesisSpec = {
    format: GENESIS_FORMAT,
    chainId: D.chainId,
    hardfork,
    headerRlp: bytesToHex(genesisHeader.serialize()),
    stateRoot: bytesToHex(genesisBuild.stateRoot),
    ...stateSpec,
  }
  const genesisMs = now() - t

  // 3. Blocks, each built by executing its transactions on the state so far.
  t = now()
  const trie = new MerklePatriciaTrie({
    db: store,
    root: genesisBuild.stateRoot,
    useKeyHashing: true,
    common,
    valueEncoding: ValueEncoding.Bytes,
  })
  const clock = new PhaseClock()
  const stateManager = new ReplayStateManager({ trie, common, caches: new Caches(), clock })
  const ancestors = new Map<bigint, Uint8Array>([[0n, genesisHeader.hash()]])
  const vm = await createVM({ common, stateManager, blockchain: new AncestorChain(ancestors, outDir, 0n) })
  const accounts = new AccountSet(spec.accounts, spec.senders, spec.seed)
  const factory = new TxFactory(spec, setup.contracts, accounts, common)

  const bytesOnDisk = { genesis: 0, blocks: 0, senders: 0 }
  let parent: BlockHeader = genesisHeader
  let txs = 0
  let gasUsed = 0
  const genesisJson = `${JSON.stringify(genesis, null, 1)}\n`
  bytesOnDisk.genesis = Buffer.byteLength(genesisJson)
  await buildReserved(reservation, async (dir) => {
    await mkdir(join(dir, 'blocks'))
    await mkdir(join(dir, 'senders'))
    await writeFile(join(dir, 'genesis.json'), genesisJson)
    for (let n = 1; n <= spec.blocks; n++) {
      const number = BigInt(n)
      const headerData = {
        parentHash: parent.hash(),
        coinbase: new Address(hexToBytes(D.coinbase)),
        number,
        timestamp: BigInt(D.genesisTimestamp + n * D.blockTime),
        gasLimit: BigInt(spec.blockGasLimit),
        baseFeePerGas: parent.calcNextBaseFee(),
        mixHash: keccak256(utf8ToBytes(`megabench/randao/${spec.seed}/${n}`)),
        ...forkHeaderFields(common, parent, keccak256(utf8ToBytes(`megabench/beacon/${spec.seed}/${n}`))),
        extraData: utf8ToBytes('megabench'),
        difficulty: 0n,
      }
      const draft = createBlock({ header: headerData, withdrawals: [] }, { common })
      const execution = await BlockExecution.begin(vm, draft, { clock })
      const included: TypedTransaction[] = []
      const senders: Uint8Array[] = []
      for (;;) {
        if (spec.txsPerBlock !== null && included.length >= spec.txsPerBlock) break
        const kind = factory.nextKind()
        if (spec.gasPerBlock !== null && execution.blockGasUsed + TX_GAS_LIMIT[kind] > BigInt(spec.gasPerBlock)) break
        const proposed = factory.propose(kind, headerData.baseFeePerGas)
        const res = await execution.addTransaction(proposed.tx)
        if (res.execResult.exceptionError !== undefined) {
          throw new Error(`generated ${kind} transaction ${included.length} of block ${n} failed: ${res.execResult.exceptionError.error}`)
        }
        proposed.accept()
        included.push(proposed.tx)
        senders.push(proposed.tx.getSenderAddress().bytes)
      }
      const executed = await execution.finish()
      const header = createBlockHeader(
        {
          ...headerData,
          stateRoot: executed.stateRoot,
          receiptTrie: executed.receiptsRoot,
          logsBloom: executed.logsBloom,
          gasUsed: executed.gasUsed,
          transactionsTrie: await genTransactionsTrieRoot(included),
          ...(executed.requestsHash === undefined ? {} : { requestsHash: executed.requestsHash }),
        },
        { common },
      )
      const block = new Block(header, included, [], [], { common })
      const rlp = block.serialize()
      const senderBytes = senders.length > 0 ? concatBytes(...senders) : new Uint8Array(0)
      await writeFile(join(dir, 'blocks', blockFileName(n)), rlp)
      await writeFile(join(dir, 'senders', sendersFileName(n)), senderBytes)
      bytesOnDisk.blocks += rlp.length
      bytesOnDisk.senders += senderBytes.length
      ancestors.set(number, header.hash())
      parent = header
      txs += included.length
      gasUsed += Number(executed.gasUsed)
      onProgress?.({ stage: 'blocks', done: n, total: spec.blocks })
    }
    const manifest = buildManifest(spec, genesis, genesisHeader, parent, setup.contracts, txs, gasUsed)
    await writeFile(join(dir, 'chain.json'), `${JSON.stringify(manifest, null, 1)}\n`)
  })
  const blocksMs = now() - t
  return {
    spec,
    manifest: buildManifest(spec, genesis, genesisHeader, parent, setup.contracts, txs, gasUsed),
    setupMs,
    genesisMs,
    blocksMs,
    txs,
    gasUsed,
    bytesOnDisk,
    genesisNodes: genesisBuild.nodesWritten,
  }
}

function buildManifest(
  spec: WorkloadSpec,
  genesis: GenesisSpec,
  genesisHeader: BlockHeader,
  head: BlockHeader,
  contracts: ChainContracts,
  txs: number,
  gasUsed: number,
): ChainManifest {
  return {
    format: CHAIN_FORMAT,
    chainId: genesis.chainId,
    hardfork: genesis.hardfork,
    generator: { tool: 'megabench', version: toolInfo().version },
    workload: spec,
    genesis: { file: 'genesis.json', stateRoot: genesis.stateRoot, hash: bytesToHex(genesisHeader.hash()) },
    blocks: { first: 1, last: spec.blocks, txs, gasUsed },
    head: { number: Number(head.number), hash: bytesToHex(head.hash()) },
    contracts,
  }
}
