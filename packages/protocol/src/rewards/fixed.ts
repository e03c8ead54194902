/**
 * Exact arithmetic for the money path. No floating point decides an amount:
 * - reward units and density scales are exact rationals (Fraction), then stored as 18-decimal
 *   fixed point (WAD) rounded down: units and scales are published with 18 decimals;
 * - a device's weight in a pool is the exact product units_wad x scale_wad (36 decimals);
 * - amounts are floor(poolAmount x weight / sum of weights) in bigint.
 * Every oracle computes the same integers on any machine.
 */
export const WAD = 10n ** 18n;

export interface Fraction {
  readonly num: bigint;
  readonly den: bigint;
}

export const ZERO: Fraction = { num: 0n, den: 1n };
export const ONE: Fraction = { num: 1n, den: 1n };

export function frac(num: bigint | number, den: bigint | number = 1n): Fraction {
  const n = BigInt(num);
  const d = BigInt(den);
  if (d <= 0n) throw new RangeError("denominator must be positive");
  return reduce({ num: n, den: d });
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

export function reduce(f: Fraction): Fraction {
  const g = gcd(f.num, f.den);
  return g <= 1n ? f : { num: f.num / g, den: f.den / g };
}

export const mul = (a: Fraction, b: Fraction): Fraction => reduce({ num: a.num * b.num, den: a.den * b.den });
export const div = (a: Fraction, b: Fraction): Fraction => frac(a.num * b.den, a.den * b.num);
export const add = (a: Fraction, b: Fraction): Fraction =>
  reduce({ num: a.num * b.den + b.num * a.den, den: a.den * b.den });
export const sub = (a: Fraction, b: Fraction): Fraction =>
  reduce({ num: a.num * b.den - b.num * a.den, den: a.den * b.den });
export const lte = (a: Fraction, b: Fraction): boolean => a.num * b.den <= b.num * a.den;
export const min = (a: Fraction, b: Fraction): Fraction => (lte(a, b) ? a : b);
export function pow(a: Fraction, k: number): Fraction {
  return { num: a.num ** BigInt(k), den: a.den ** BigInt(k) };
}

/** floor(f x 10^18) for f >= 0. */
export function toWad(f: Fraction): bigint {
  if (f.num < 0n) throw new RangeError("negative fraction");
  return (f.num * WAD) / f.den;
}

/** Decimal text of a WAD value, for logs and docs ("1.36"). */
export function formatWad(v: bigint): string {
  const int = v / WAD;
  const dec = (v % WAD).toString().padStart(18, "0").replace(/0+$/, "");
  return dec === "" ? int.toString() : `${int}.${dec}`;
}
