/** How fetch finds the state a block touches, best first (a light module: the CLI lists them in --help). */
export const WITNESS_METHODS = ['execution-witness', 'prestate', 'discover'] as const
export type WitnessMethod = (typeof WITNESS_METHODS)[number]
