import { fileURLToPath } from 'node:url'

/**
 * The package root (where package.json, fixtures/ and contracts/ are): two levels above this file,
 * both for dist/util/ (built) and src/util/ (under vitest).
 */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url))
