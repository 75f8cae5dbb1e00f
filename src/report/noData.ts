/**
 * Why a chart has nothing to draw, or null when it has: `empty` when there are no values, `allZero` when
 * every value is 0 (or not finite). The report then prints "no data: <why>" instead of an empty chart or an
 * axis of zeros.
 */
export function noData(values: readonly number[], empty: string, allZero: string): string | null {
  if (values.length === 0) return empty
  return values.every((v) => !Number.isFinite(v) || v === 0) ? allZero : null
}
