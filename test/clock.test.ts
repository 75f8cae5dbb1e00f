import { describe, expect, test } from 'vitest'

import { RegionStack, calibrateRegionStack, median } from '../src/probes/clock.js'
import { PhaseClock } from '../src/probes/phases.js'

/** A clock that returns the given readings in order. */
const fakeClock = (...readings: number[]) => () => {
  const r = readings.shift()
  if (r === undefined) throw new Error('clock read too often')
  return r
}

describe('RegionStack', () => {
  test('default: exclusive time subtracts nested regions; counts children and descendants', () => {
    // outer enters at 0; a enters at 1, exits at 3; b enters at 4; b.1 enters at 5, exits at 6; b exits at 8; outer exits at 10
    const s = new RegionStack(fakeClock(0, 1, 3, 4, 5, 6, 8, 10))
    s.enter(0)
    s.enter(1)
    expect(s.exit()).toBe(2)
    s.enter(2)
    s.enter(3)
    expect(s.kindAt(0)).toBe(3)
    expect(s.kindAt(1)).toBe(2)
    expect(s.kindAt(2)).toBe(0)
    expect(s.kindAt(3)).toBe(-1)
    expect(s.exit()).toBe(1)
    expect(s.exit()).toBe(3) // 4 inclusive − 1 nested
    expect(s.lastChildren).toBe(1)
    expect(s.exit()).toBe(4) // 10 − (2 + 4)
    expect(s.lastInclusive).toBe(10)
    expect(s.lastChildren).toBe(2)
    expect(s.lastDescendants).toBe(3)
    expect(s.depth).toBe(0)
  })

  test('behavior: grows past its initial depth', () => {
    let t = 0
    const s = new RegionStack(() => t++)
    for (let i = 0; i < 1000; i++) s.enter(i)
    for (let i = 999; i >= 0; i--) {
      expect(s.kindAt(0)).toBe(i)
      s.exit()
    }
    expect(s.lastDescendants).toBe(999)
  })

  test('behavior: calibration measures a positive cost, in-region part below the total', () => {
    const c = calibrateRegionStack(5, 2000)
    expect(c.inRegionMs).toBeGreaterThan(0)
    expect(c.perRegionMs).toBeGreaterThan(c.inRegionMs)
    expect(c.perRegionMs).toBeLessThan(0.01) // well under 10 µs per region on any machine
  })
})

describe('PhaseClock', () => {
  test('default: nested phases are subtracted from the phase they interrupt', async () => {
    const clock = new PhaseClock()
    clock.enter(1)
    await clock.time(2, async () => {
      await new Promise((r) => setTimeout(r, 20))
    })
    clock.exit()
    const t = clock.take()
    expect(t.stateLoad).toBeGreaterThanOrEqual(15)
    expect(t.execution).toBeLessThan(t.stateLoad)
    expect(clock.take().stateLoad).toBe(0) // take() resets
  })
})

test('median', () => {
  expect(median([3, 1, 2])).toBe(2)
  expect(median([4, 1, 2, 3])).toBe(2.5)
  expect(median([])).toBeNaN()
})
