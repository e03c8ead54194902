/**
 * Compute units: what `commitResult(jobId, resultHash, usedUnits)` bills. They are metered from the
 * program, not from the clock: the runner (@hexmesh/compute `runJob`) counts **ticks**, one per
 * function entry and one per loop iteration the job executes (binaryen's `log-execution`
 * instrumentation), so the same program and input give the same count on every machine, and a provider
 * and a re-executing oracle always measure the same units. `UnitsInflated` verdicts compare with it.
 */

/** Ticks per billed unit: 10^7 (about 40 ms of the path tracer on one core of the reference CPU). */
export const TICKS_PER_UNIT = 10_000_000n;

/** Units of a run of `ticks` ticks: ceil(ticks / TICKS_PER_UNIT), at least 1 (a job never bills 0). */
export function unitsOfTicks(ticks: bigint): bigint {
  if (ticks < 0n) throw new RangeError(`ticks must be non-negative, got ${ticks}`);
  const units = (ticks + TICKS_PER_UNIT - 1n) / TICKS_PER_UNIT;
  return units < 1n ? 1n : units;
}

/** usedUnits a provider commits for a run of `ticks` ticks on a job of `maxUnits`: unitsOfTicks, at most maxUnits. */
export function usedUnitsOf(ticks: bigint, maxUnits: number): number {
  const units = unitsOfTicks(ticks);
  return Number(units < BigInt(maxUnits) ? units : BigInt(maxUnits));
}

/**
 * Whether committed `usedUnits` exceed the `measured` units by more than the tolerance: more than
 * measured + ceil(measured × toleranceBps / 10,000).
 */
export function unitsInflated(usedUnits: bigint, measured: bigint, toleranceBps: number): boolean {
  if (!Number.isSafeInteger(toleranceBps) || toleranceBps < 0)
    throw new RangeError(`toleranceBps must be a non-negative integer, got ${toleranceBps}`);
  const slack = (measured * BigInt(toleranceBps) + 9_999n) / 10_000n;
  return usedUnits > measured + slack;
}
