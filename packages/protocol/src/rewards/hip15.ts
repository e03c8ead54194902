/**
 * Helium HIP-15 reward units for one beacon with n selected valid witnesses.
 *
 *   beaconer: 0 if n = 0;  n / R if n <= R;  else min(C, C - D^(n - R))
 *   witness:  1 if n <= R; else min(C, (R - (1 - D^(n - R))) / n)   (each of the n witnesses)
 *
 * with redundancy R = 4, decay D = 0.8 = 4/5, cap C = 2. Computed as exact fractions, then
 * rounded down to 18 decimals (rewards/fixed.ts).
 */
import { frac, min, ONE, pow, sub, toWad, ZERO, type Fraction } from "./fixed.js";

export interface Hip15Params {
  readonly redundancy: number;
  readonly decay: Fraction;
  readonly cap: Fraction;
}

export const HIP15: Hip15Params = { redundancy: 4, decay: frac(4, 5), cap: frac(2) };

export function beaconerUnits(n: number, p: Hip15Params = HIP15): Fraction {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad witness count ${n}`);
  if (n === 0) return ZERO;
  if (n <= p.redundancy) return frac(n, p.redundancy);
  return min(p.cap, sub(p.cap, pow(p.decay, n - p.redundancy)));
}

export function witnessUnits(n: number, p: Hip15Params = HIP15): Fraction {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`bad witness count ${n}`);
  if (n <= p.redundancy) return ONE;
  const decayed = sub(ONE, pow(p.decay, n - p.redundancy));
  const total = sub(frac(p.redundancy), decayed);
  return min(p.cap, { num: total.num, den: total.den * BigInt(n) });
}

/** WAD tables indexed by n = 0..maxWitnesses (witness[0] is 0: no witness to pay). */
export function hip15Table(maxWitnesses: number, p: Hip15Params = HIP15) {
  const beaconer: bigint[] = [];
  const witness: bigint[] = [];
  for (let n = 0; n <= maxWitnesses; n++) {
    beaconer.push(toWad(beaconerUnits(n, p)));
    witness.push(n === 0 ? 0n : toWad(witnessUnits(n, p)));
  }
  return { beaconer, witness } as const;
}
