export { MegabenchError, formatErrorLine, type MegabenchErrorOptions } from './base.js'
export { FixtureError, NoFixturesError } from './fixture.js'
export {
  BlockExecutionError,
  HardforkError,
  KzgUnavailableError,
  MissingAncestorError,
  MissingTrieNodeError,
  type BlockLocation,
} from './engine.js'
export { OutputError, RunResultError, UsageError } from './output.js'
export { FetchError, NonCanonicalStateError, RpcError } from './fetch.js'
