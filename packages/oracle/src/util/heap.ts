/**
 * How far the V8 heap may grow past what the last full collection left live, for the oracle's
 * processes.
 *
 * V8 lets the old generation grow to its live size times a factor it picks from its own speeds (up
 * to 4 when the heap limit is large) before it collects again, and keeps the pages it has committed once
 * the heap shrinks. A close's heap is mostly device-sized state that lives the whole epoch, so the
 * headroom is mostly garbage, and the process's peak RSS is the live heap times that factor. Capped
 * at 1.25, the quiet day of the 40M day's fleet peaked at 2,203 MiB instead of 2,744 MiB in the same
 * wall time (docs/oracle-service.md, "The heap's headroom"). Set by the program's entry point, not
 * by the library: it is the process's policy.
 */
import { setFlagsFromString } from "node:v8";

import { ConfigError } from "../service/config.js";

/** The factor 1.25; `HEXMESH_HEAP_GROWING_PERCENT=0` leaves V8's own choice. */
export const DEFAULT_HEAP_GROWING_PERCENT = 25;

/** The percent from `HEXMESH_HEAP_GROWING_PERCENT` (an integer 0..1000; unset: the default). */
export function heapGrowingPercentOf(value: string | undefined): number {
  if (value === undefined || value === "") return DEFAULT_HEAP_GROWING_PERCENT;
  if (!/^\d{1,4}$/.test(value) || Number(value) > 1000)
    throw new ConfigError(
      `HEXMESH_HEAP_GROWING_PERCENT must be an integer 0..1000, got ${JSON.stringify(value)}`,
    );
  return Number(value);
}

/**
 * Sets V8's heap growing factor to 1 + percent/100 for every heap of this process (its worker
 * threads' too); V8 reads it each time it sizes the heap, so it holds from the next collection on.
 * Returns the percent set (0: nothing set).
 */
export function limitHeapGrowth(
  percent = heapGrowingPercentOf(process.env.HEXMESH_HEAP_GROWING_PERCENT),
): number {
  if (!Number.isInteger(percent) || percent < 0 || percent > 1000)
    throw new ConfigError(`heap growing percent must be an integer 0..1000, got ${percent}`);
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}
