/**
 * The 256-entry opcode table: mnemonic and the study's category for every byte.
 *
 * Categories follow the study (docs: measurements.md row 6) and revm's instruction modules:
 *   host:       state and environment access (SLOAD, SSTORE, BALANCE, EXTCODE*, LOG*, block/tx env…)
 *   system:     KECCAK256, the CALL family, CREATE/CREATE2, and call-context reads (CALLDATA*, CODE*…)
 *   stack:      PUSH*, POP, DUP*, SWAP*
 *   arithmetic, bitwise (including comparisons), memory, control (jumps, STOP/RETURN/REVERT/INVALID)
 * A JIT compiler can speed up stack, arithmetic, bitwise, memory and control; host and system
 * opcodes already run as native library code in a client (the study's Amdahl argument).
 */
export const OPCODE_CATEGORIES = ['host', 'system', 'stack', 'arithmetic', 'bitwise', 'memory', 'control'] as const
export type OpcodeCategory = (typeof OPCODE_CATEGORIES)[number] | 'invalid'

export type OpcodeInfo = { code: number; name: string; category: OpcodeCategory }

const defined: Record<number, [string, OpcodeCategory]> = {
  0x00: ['STOP', 'control'],
  0x01: ['ADD', 'arithmetic'],
  0x02: ['MUL', 'arithmetic'],
  0x03: ['SUB', 'arithmetic'],
  0x04: ['DIV', 'arithmetic'],
  0x05: ['SDIV', 'arithmetic'],
  0x06: ['MOD', 'arithmetic'],
  0x07: ['SMOD', 'arithmetic'],
  0x08: ['ADDMOD', 'arithmetic'],
  0x09: ['MULMOD', 'arithmetic'],
  0x0a: ['EXP', 'arithmetic'],
  0x0b: ['SIGNEXTEND', 'arithmetic'],
  0x10: ['LT', 'bitwise'],
  0x11: ['GT', 'bitwise'],
  0x12: ['SLT', 'bitwise'],
  0x13: ['SGT', 'bitwise'],
  0x14: ['EQ', 'bitwise'],
  0x15: ['ISZERO', 'bitwise'],
  0x16: ['AND', 'bitwise'],
  0x17: ['OR', 'bitwise'],
  0x18: ['XOR', 'bitwise'],
  0x19: ['NOT', 'bitwise'],
  0x1a: ['BYTE', 'bitwise'],
  0x1b: ['SHL', 'bitwise'], // EIP-145 (Constantinople)
  0x1c: ['SHR', 'bitwise'], // EIP-145
  0x1d: ['SAR', 'bitwise'], // EIP-145
  0x20: ['KECCAK256', 'system'],
  0x30: ['ADDRESS', 'system'],
  0x31: ['BALANCE', 'host'],
  0x32: ['ORIGIN', 'host'],
  0x33: ['CALLER', 'system'],
  0x34: ['CALLVALUE', 'system'],
  0x35: ['CALLDATALOAD', 'system'],
  0x36: ['CALLDATASIZE', 'system'],
  0x37: ['CALLDATACOPY', 'system'],
  0x38: ['CODESIZE', 'system'],
  0x39: ['CODECOPY', 'system'],
  0x3a: ['GASPRICE', 'host'],
  0x3b: ['EXTCODESIZE', 'host'],
  0x3c: ['EXTCODECOPY', 'host'],
  0x3d: ['RETURNDATASIZE', 'system'], // EIP-211 (Byzantium)
  0x3e: ['RETURNDATACOPY', 'system'], // EIP-211
  0x3f: ['EXTCODEHASH', 'host'], // EIP-1052 (Constantinople)
  0x40: ['BLOCKHASH', 'host'],
  0x41: ['COINBASE', 'host'],
  0x42: ['TIMESTAMP', 'host'],
  0x43: ['NUMBER', 'host'],
  0x44: ['PREVRANDAO', 'host'], // DIFFICULTY before the merge (EIP-4399)
  0x45: ['GASLIMIT', 'host'],
  0x46: ['CHAINID', 'host'], // EIP-1344 (Istanbul)
  0x47: ['SELFBALANCE', 'host'], // EIP-1884 (Istanbul)
  0x48: ['BASEFEE', 'host'], // EIP-3198 (London)
  0x49: ['BLOBHASH', 'host'], // EIP-4844 (Cancun)
  0x4a: ['BLOBBASEFEE', 'host'], // EIP-7516 (Cancun)
  0x50: ['POP', 'stack'],
  0x51: ['MLOAD', 'memory'],
  0x52: ['MSTORE', 'memory'],
  0x53: ['MSTORE8', 'memory'],
  0x54: ['SLOAD', 'host'],
  0x55: ['SSTORE', 'host'],
  0x56: ['JUMP', 'control'],
  0x57: ['JUMPI', 'control'],
  0x58: ['PC', 'control'],
  0x59: ['MSIZE', 'memory'],
  0x5a: ['GAS', 'system'],
  0x5b: ['JUMPDEST', 'control'],
  0x5c: ['TLOAD', 'host'], // EIP-1153 (Cancun)
  0x5d: ['TSTORE', 'host'], // EIP-1153
  0x5e: ['MCOPY', 'memory'], // EIP-5656 (Cancun)
  0x5f: ['PUSH0', 'stack'], // EIP-3855 (Shanghai)
  0xf0: ['CREATE', 'system'],
  0xf1: ['CALL', 'system'],
  0xf2: ['CALLCODE', 'system'],
  0xf3: ['RETURN', 'control'],
  0xf4: ['DELEGATECALL', 'system'], // EIP-7 (Homestead)
  0xf5: ['CREATE2', 'system'], // EIP-1014 (Constantinople)
  0xfa: ['STATICCALL', 'system'], // EIP-214 (Byzantium)
  0xfd: ['REVERT', 'control'], // EIP-140 (Byzantium)
  0xfe: ['INVALID', 'control'],
  0xff: ['SELFDESTRUCT', 'host'],
}
for (let n = 1; n <= 32; n++) defined[0x5f + n] = [`PUSH${n}`, 'stack']
for (let n = 1; n <= 16; n++) defined[0x7f + n] = [`DUP${n}`, 'stack']
for (let n = 1; n <= 16; n++) defined[0x8f + n] = [`SWAP${n}`, 'stack']
for (let n = 0; n <= 4; n++) defined[0xa0 + n] = [`LOG${n}`, 'host']

/** Index = opcode byte. Undefined bytes are named `UNDEFINED(0x0c)` and categorised `invalid`. */
export const OPCODES: readonly OpcodeInfo[] = Array.from({ length: 256 }, (_, code) => {
  const d = defined[code]
  return d
    ? { code, name: d[0], category: d[1] }
    : { code, name: `UNDEFINED(0x${code.toString(16).padStart(2, '0')})`, category: 'invalid' as const }
})

/** Opcodes that open a child frame: their time and gas are reported exclusive and inclusive. */
export const FRAME_OPCODES: ReadonlySet<number> = new Set([0xf0, 0xf1, 0xf2, 0xf4, 0xf5, 0xfa])

/** Precompile names by address (the last byte of 0x00…01 – 0x00…0a). */
export const PRECOMPILE_NAMES: Readonly<Record<number, string>> = {
  1: 'ECRECOVER',
  2: 'SHA256',
  3: 'RIPEMD160',
  4: 'IDENTITY',
  5: 'MODEXP',
  6: 'ECADD',
  7: 'ECMUL',
  8: 'ECPAIRING',
  9: 'BLAKE2F',
  10: 'KZG_POINT_EVALUATION',
}
