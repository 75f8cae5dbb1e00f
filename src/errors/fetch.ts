import { MegabenchError, type MegabenchErrorOptions } from './base.js'

/**
 * A JSON-RPC call failed for good (after retries), the node lacks a method, answered something
 * malformed, or serves another chain. `where` is the endpoint with credentials redacted.
 */
export class RpcError extends MegabenchError {
  override name = 'RpcError'
  constructor(
    endpoint: string,
    message: string,
    readonly kind: 'transport' | 'method-missing' | 'malformed' | 'rpc' | 'chain',
    options: Omit<MegabenchErrorOptions, 'where'> = {},
  ) {
    super(message, { ...options, where: endpoint })
  }
}

/** A block could not be turned into a verified fixture (the node's data does not reproduce it). */
export class FetchError extends MegabenchError {
  override name = 'FetchError'
  constructor(block: number | bigint, message: string, options: Omit<MegabenchErrorOptions, 'where'> = {}) {
    super(message, { ...options, where: `block ${block}` })
  }
}

/** The node's data is consistent but does not follow Ethereum's rules: fetching again cannot help. */
export class NonCanonicalStateError extends FetchError {
  override name = 'NonCanonicalStateError'
}
