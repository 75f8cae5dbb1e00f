import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { createBlockFromRLP } from '@ethereumjs/block'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { Caches } from '@ethereumjs/statemanager'
import { ValueEncoding, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { type VM, createVM } from '@ethereumjs/vm'
import { type Abi, type Hex, decodeFunctionResult, encodeFunctionData } from 'viem'

import { AncestorChain } from '../../src/chain/ancestors.js'
import { createChainCommon } from '../../src/chain/common.js'
import { executeBlock } from '../../src/engines/baseline/executeBlock.js'
import { NodeStore } from '../../src/trie/nodeStore.js'
import { ReplayStateManager } from '../../src/engines/baseline/stateManager.js'
import { PhaseClock } from '../../src/probes/phases.js'
import { blockFileName } from '../../src/sources/chainFormat.js'
import { readManifest } from '../../src/sources/chain.js'
import { buildGenesisState } from '../../src/workloads/genesis.js'

/** A chain directory's state at genesis, with a VM to execute its blocks and read contracts. */
export async function openChain(dir: string) {
  const manifest = await readManifest(dir)
  const genesis = JSON.parse(await readFile(join(dir, 'genesis.json'), 'utf8'))
  const store = new NodeStore(true, 1 << 16)
  const { stateRoot } = buildGenesisState(genesis, store)
  const common = createChainCommon(BigInt(manifest.chainId), manifest.hardfork, { origin: dir, block: 0n })
  const trie = new MerklePatriciaTrie({ db: store, root: stateRoot, useKeyHashing: true, common, valueEncoding: ValueEncoding.Bytes })
  const stateManager = new ReplayStateManager({ trie, common, caches: new Caches() })
  const vm: VM = await createVM({ common, stateManager, blockchain: new AncestorChain(new Map(), dir, 0n) })
  const clock = new PhaseClock()
  return {
    manifest,
    genesis,
    vm,
    /** Reads block n from the directory. */
    async block(n: number) {
      return createBlockFromRLP(await readFile(join(dir, 'blocks', blockFileName(n))), { common })
    },
    /** Executes block n on the state; returns what executing it computed. */
    async execute(n: number) {
      return executeBlock(vm, await this.block(n), { clock })
    },
    /** eth_call-style read of a view function at the current state (all changes reverted). */
    async read<T>(to: string, abi: Abi, functionName: string, args: readonly unknown[] = []): Promise<T> {
      await vm.evm.journal.checkpoint()
      const res = await vm.evm
        .runCall({
          to: createAddressFromString(to),
          data: hexToBytes(encodeFunctionData({ abi, functionName, args })),
          gasLimit: 1_000_000n,
          isStatic: true,
        })
        .finally(() => vm.evm.journal.revert())
      if (res.execResult.exceptionError) throw new Error(`${functionName} reverted`)
      return decodeFunctionResult({ abi, functionName, data: `0x${Buffer.from(res.execResult.returnValue).toString('hex')}` as Hex }) as T
    },
  }
}
