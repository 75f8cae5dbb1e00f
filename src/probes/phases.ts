import { RegionStack } from './clock.js'

/**
 * Phases of block processing. They are disjoint: a nested phase (a state read during execution,
 * a per-transaction state root before Byzantium) is subtracted from the phase it interrupts.
 */
export const PHASES = [
  'senderRecovery',
  'execution',
  'stateLoad',
  'merkleization',
  'persistence',
] as const
export type PhaseName = (typeof PHASES)[number]

export const Phase = {
  senderRecovery: 0,
  execution: 1,
  stateLoad: 2,
  merkleization: 3,
  persistence: 4,
} as const satisfies Record<PhaseName, number>

export type PhaseTimes = Record<PhaseName, number>

/** Accumulates exclusive time per phase. Cheap enough to stay on: a few regions per state read. */
export class PhaseClock {
  private readonly stack = new RegionStack()
  private readonly totals = new Float64Array(PHASES.length)

  enter(phase: number): void {
    this.stack.enter(phase)
  }

  exit(): void {
    const kind = this.stack.kindAt(0)
    this.totals[kind]! += this.stack.exit()
  }

  /** Runs `fn` inside `phase`. */
  async time<T>(phase: number, fn: () => Promise<T>): Promise<T> {
    this.enter(phase)
    try {
      return await fn()
    } finally {
      this.exit()
    }
  }

  /** Returns the totals (ms) and starts again from zero. */
  take(): PhaseTimes {
    const out = {} as PhaseTimes
    PHASES.forEach((p, i) => {
      out[p] = this.totals[i]!
    })
    this.totals.fill(0)
    this.stack.reset()
    return out
  }
}

export function emptyPhaseTimes(): PhaseTimes {
  return { senderRecovery: 0, execution: 0, stateLoad: 0, merkleization: 0, persistence: 0 }
}

export function addPhaseTimes(a: PhaseTimes, b: PhaseTimes): PhaseTimes {
  const out = emptyPhaseTimes()
  for (const p of PHASES) out[p] = a[p] + b[p]
  return out
}

export function sumPhaseTimes(t: PhaseTimes): number {
  let s = 0
  for (const p of PHASES) s += t[p]
  return s
}
