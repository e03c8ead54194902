/** Numbers as people read them. */
import { formatUnits, parseUnits } from "viem";

/** MESH (18 decimals) with thousands separators and `digits` decimals, rounded down. */
export function mesh(v: bigint, digits = 2): string {
  const [i = "0", f = ""] = formatUnits(v, 18).split(".");
  const int = BigInt(i).toLocaleString("en-US");
  return digits === 0 ? int : `${int}.${f.padEnd(digits, "0").slice(0, digits)}`;
}

export function shortHex(h: string, keep = 6): string {
  return h.length <= 2 + 2 * keep ? h : `${h.slice(0, 2 + keep)}…${h.slice(-4)}`;
}

/** A duration in seconds as "1d 2h 3m 4s" (largest units first, zeros left out). */
export function duration(seconds: bigint): string {
  if (seconds <= 0n) return "now";
  let s = seconds;
  const parts: string[] = [];
  for (const [unit, n] of [
    ["d", 86_400n],
    ["h", 3_600n],
    ["m", 60n],
    ["s", 1n],
  ] as const) {
    if (s >= n) {
      parts.push(`${s / n}${unit}`);
      s %= n;
    }
  }
  return parts.join(" ");
}

export function chainTime(t: bigint): string {
  return new Date(Number(t) * 1000).toISOString().replace(".000Z", "Z");
}

/** A MESH amount typed by a person, or null if it is not a positive number with at most 18 decimals. */
export function parseAmount(text: string): bigint | null {
  if (!/^\s*\d+(\.\d{1,18})?\s*$/.test(text)) return null;
  const v = parseUnits(text.trim(), 18);
  return v > 0n ? v : null;
}

/** Credits (micro-USD) with thousands separators, and their dollar value. */
export function credits(v: bigint): string {
  const dollars = Number(v) / 1e6;
  return `${v.toLocaleString("en-US")} credits ($${dollars.toLocaleString("en-US", { maximumFractionDigits: 6 })})`;
}

/** A whole count of credits typed by a person, or null if it is not a positive integer. */
export function parseCredits(text: string): bigint | null {
  if (!/^\s*\d{1,30}\s*$/.test(text)) return null;
  const v = BigInt(text.trim());
  return v > 0n ? v : null;
}

/** An id from a route (a data set, a job), or null if it is not a whole number. */
export function parseId(text: string | undefined): bigint | null {
  return text !== undefined && /^\d{1,30}$/.test(text) ? BigInt(text) : null;
}
