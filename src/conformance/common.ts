import { Common, Mainnet } from '@ethereumjs/common'

import { replayCrypto } from '../chain/crypto.js'
import type { Fork } from '../evm/forks.js'
import { ethereumjsName } from '../evm/precompiles.js'
import { keccak256 } from '../util/keccak.js'

/**
 * @ethereumjs/common with a constant-time `isActivatedEIP`. Common answers it with a linear scan of
 * an array of the active EIPs, and @ethereumjs/evm asks it several times per executed opcode: a
 * fifth of @ethereumjs's time in loop-heavy tests (CPU profile of VMTests/vmPerformance). Same answers:
 * the set is rebuilt whenever Common replaces that array (hardfork or EIP changes).
 */
export class ConformanceCommon extends Common {
  private eipSource: readonly number[] | undefined
  private eipSet = new Set<number>()

  override isActivatedEIP(eip: number): boolean {
    if (this._activatedEIPsCache !== this.eipSource) {
      this.eipSource = this._activatedEIPsCache
      this.eipSet = new Set(this._activatedEIPsCache)
    }
    return this.eipSet.has(eip)
  }
}

const commons = new Map<string, Common>()

/**
 * The Common of a test block at `fork` (mainnet parameters, megabench's native secp256k1 and WASM
 * keccak). `daoBlock`: the network's DAO fork block (HomesteadToDaoAt5: 5), so that @ethereumjs checks
 * the DAO extra data and applies the DAO state change there rather than at mainnet's 1,920,000.
 * Cached: callers that let a VM change it must `copy()` it.
 */
export function commonFor(fork: Fork, daoBlock?: bigint): Common {
  const key = `${fork}/${daoBlock ?? ''}`
  let c = commons.get(key)
  if (c === undefined) {
    const chain =
      daoBlock === undefined
        ? Mainnet
        : { ...Mainnet, hardforks: Mainnet.hardforks.map((h) => (h.name === 'dao' ? { ...h, block: Number(daoBlock) } : h)) }
    c = new ConformanceCommon({ chain, hardfork: ethereumjsName(fork), customCrypto: { ...replayCrypto(), keccak256 } })
    commons.set(key, c)
  }
  return c
}
