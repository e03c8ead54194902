/**
 * One-way links: a witness claims to hear a beaconer that never hears it back.
 *
 * Path loss is the same both ways (Lorentz reciprocity). If W heard B's beacon at SNR s, then B
 * hears W's beacon at about s + (txPower_W - txPower_B): the antenna gains are in both directions,
 * the noise floors are alike. So when W reports B with a margin above B's demodulation floor, and B
 * was listening during W's k beacons of the epoch, B should report at least one of them. A relay
 * that forwards beacons from far away (an accomplice heard them) claims links whose other end never
 * answers. A single unanswered link proves nothing (fading, interference, an antenna pattern), so
 * the test is per device and statistical: over all of W's claimed links,
 *
 *   O = links B never confirmed,  E = sum of P(B misses all k of W's beacons | margin),
 *   V = sum of P (1 - P),         W is flagged when O - E > z sqrt(V) + minExcess.
 *
 * P uses a two-part fading model: a per-link offset ~ N(0, linkSigma) that stays for the epoch
 * (antenna patterns, local noise at one end) and a per-packet one ~ N(0, packetSigma):
 *
 *   P(miss all | m, k) = integral phi(z) Phi(-(m + linkSigma z) / packetSigma)^k dz.
 *
 * The reported SNR is the witness's own claim, and HIP-15 does not pay for signal strength, so a
 * liar reports weak links: the test still works there, because a link at the floor is heard back
 * about half the time per packet and W beacons several times.
 *
 * Determinism: claims are packed into 64-bit integers and sorted, so every sum runs in one fixed order;
 * the normal CDF is @stdlib's (pure JavaScript, the same on every platform), and margins are whole
 * tenths of dB, so P is a function of two integers.
 */
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";

export interface OneWayRule {
  /** Per-link asymmetry that lasts the epoch (dB, one sigma). */
  readonly linkSigmaDb: number;
  /** Packet-to-packet variation of one direction (dB, one sigma). */
  readonly packetSigmaDb: number;
  /** Standard deviations of excess over the expectation before a device is flagged. */
  readonly z: number;
  /** Unconfirmed links above the expectation always tolerated (small samples). */
  readonly minExcess: number;
}

/**
 * Packed claim, 64 bits: witness index (26 bits) | beaconer index (26 bits) | value + 2048 (12 bits).
 * Sorting the packed claims groups them by link, smallest value first.
 */
const DEVICE_BITS = 26;
const MAX_DEVICES = 2 ** DEVICE_BITS;
const VALUE_BITS = 12n;
const LINK_SHIFT = 12n + 26n;
const DEVICE_MASK = (1n << 26n) - 1n;
const VALUE_MASK = (1n << VALUE_BITS) - 1n;
const VALUE_OFFSET = 2048;

/** P(B misses all k beacons of W | expected margin m tenths of dB), memoised per (m, k). */
export class MissProbability {
  private readonly memo = new Map<number, number>();
  constructor(private readonly rule: OneWayRule) {}

  of(marginTenths: number, k: number): number {
    const key = marginTenths * 256 + Math.min(k, 255);
    let p = this.memo.get(key);
    if (p === undefined) {
      p = missAll(marginTenths / 10, Math.min(k, 255), this.rule.linkSigmaDb, this.rule.packetSigmaDb);
      this.memo.set(key, p);
    }
    return p;
  }
}

/** Simpson's rule over z in [-8, 8] (step 0.05): the tails beyond hold < 1e-15 of the mass. */
function missAll(m: number, k: number, linkSigma: number, packetSigma: number): number {
  if (k <= 0) return 1;
  if (linkSigma === 0) return normalCdf(-m, 0, packetSigma) ** k;
  const steps = 320;
  const h = 16 / steps;
  let sum = 0;
  for (let s = 0; s <= steps; s++) {
    const z = -8 + s * h;
    const f = Math.exp(-0.5 * z * z) * normalCdf(-(m + linkSigma * z), 0, packetSigma) ** k;
    sum += (s === 0 || s === steps ? 1 : s % 2 === 1 ? 4 : 2) * f;
  }
  return Math.min(1, (sum * h) / 3 / Math.sqrt(2 * Math.PI));
}

/** Result of the test for one device (for reports and tests). */
export interface LinkStats {
  /** Device index (ChainView.devices order). */
  readonly device: number;
  /** Links tested (the other end was listening, the device beaconed). */
  readonly links: number;
  /** O: links the other end never confirmed. */
  readonly unconfirmed: number;
  /** E and V: expected unconfirmed links under fading, and their variance. */
  readonly expected: number;
  readonly variance: number;
  /** (O - E - minExcess) / sqrt(V): the device is flagged when this exceeds z. */
  readonly score: number;
  readonly flagged: boolean;
}

/**
 * The tested devices' LinkStats in columns, in device order: every device of a large epoch is tested,
 * and as objects they cost ~300 bytes each for the rest of the close (~40 here); a LinkStats is
 * built only when read.
 */
export class LinkStatsTable implements Iterable<LinkStats> {
  length = 0;
  private device = new Int32Array(16);
  private links = new Uint32Array(16);
  private unconfirmed = new Uint32Array(16);
  private expected = new Float64Array(16);
  private variance = new Float64Array(16);
  private score = new Float64Array(16);
  private flagged = new Uint8Array(16);

  push(s: LinkStats): void {
    if (this.length === this.device.length) this.grow();
    const k = this.length++;
    this.device[k] = s.device;
    this.links[k] = s.links;
    this.unconfirmed[k] = s.unconfirmed;
    this.expected[k] = s.expected;
    this.variance[k] = s.variance;
    this.score[k] = s.score;
    this.flagged[k] = s.flagged ? 1 : 0;
  }

  /** The k-th tested device's figures (k < length). */
  at(k: number): LinkStats {
    if (!Number.isInteger(k) || k < 0 || k >= this.length)
      throw new RangeError(`link test ${k} of ${this.length}`);
    return {
      device: this.device[k]!,
      links: this.links[k]!,
      unconfirmed: this.unconfirmed[k]!,
      expected: this.expected[k]!,
      variance: this.variance[k]!,
      score: this.score[k]!,
      flagged: this.flagged[k] === 1,
    };
  }

  *[Symbol.iterator](): Iterator<LinkStats> {
    for (let k = 0; k < this.length; k++) yield this.at(k);
  }

  private grow(): void {
    const n = this.device.length * 2;
    this.device = grown(this.device, n);
    this.links = grown(this.links, n);
    this.unconfirmed = grown(this.unconfirmed, n);
    this.expected = grown(this.expected, n);
    this.variance = grown(this.variance, n);
    this.score = grown(this.score, n);
    this.flagged = grown(this.flagged, n);
  }
}

/** A copy of `a` with room for `n` elements. */
function grown<T extends Int32Array | Uint32Array | Float64Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (length: number) => T)(n);
  b.set(a);
  return b;
}

/**
 * Every "W heard B" claim of an epoch, then the one-way test. `value` is the claim's
 * snr - txPower_B in tenths (the witness's margin needs W's own beacons, known later); the smallest
 * value of a link is kept (conservative: a weaker margin expects more misses).
 */
export class ClaimLog {
  /**
   * Packed claims; when full, each link's claims but its smallest are dropped (all the test reads).
   * Over a resizable buffer reserved for every claim the epoch can file: it grows in place, with no
   * second copy while it grows, and only the part filled is ever resident.
   */
  private readonly buffer: ResizableBuffer;
  /** Over the whole buffer, without a length: it follows the buffer's size as it grows. */
  private readonly packed: BigUint64Array;
  private length = 0;
  /** Claims filed by each device: a device with any claim was listening in the epoch. */
  private readonly filed: Uint32Array;

  /**
   * `capacity`: claims held before the first compaction (it grows when compacting frees too
   * little); `maxClaims`: at most this many are ever added (the epoch's valid witnesses).
   */
  constructor(capacity: number, deviceCount: number, maxClaims = capacity) {
    if (deviceCount > MAX_DEVICES)
      throw new RangeError(`one-way rule supports at most ${MAX_DEVICES} devices (got ${deviceCount})`);
    const held = Math.max(16, capacity);
    this.buffer = new (ArrayBuffer as unknown as ResizableBufferConstructor)(held * 8, {
      maxByteLength: Math.max(held, maxClaims) * 8,
    });
    this.packed = new BigUint64Array(this.buffer);
    this.filed = new Uint32Array(Math.max(1, deviceCount));
  }

  /** Claims held now (at most one per link after a compaction; tests). */
  get held(): number {
    return this.length;
  }

  /** Claims the buffer holds before the next compaction (tests). */
  get capacity(): number {
    return this.packed.length;
  }

  /**
   * Sorts the claims and keeps the first (smallest value) of each link: the memory is sized by
   * links, not by claims. Grows the buffer by half when that frees less than half of it (so it
   * stays under 3 slots a link), within what was reserved.
   */
  private compact(): void {
    const sorted = this.packed.subarray(0, this.length).sort();
    let kept = 0;
    let prevLink = -1n;
    for (let i = 0; i < sorted.length; i++) {
      const link = sorted[i]! >> VALUE_BITS;
      if (link === prevLink) continue;
      prevLink = link;
      this.packed[kept++] = sorted[i]!;
    }
    this.length = kept;
    const slots = this.packed.length;
    if (kept * 2 > slots) {
      const larger = Math.min(Math.ceil(slots * 1.5), this.buffer.maxByteLength / 8);
      if (larger === slots && kept === slots)
        throw new RangeError(`more distinct links than the ${slots} claims the log was sized for`);
      this.buffer.resize(larger * 8);
    }
  }

  add(witness: number, beaconer: number, valueTenths: number): void {
    const v = Math.max(-VALUE_OFFSET, Math.min(VALUE_OFFSET - 1, valueTenths)) + VALUE_OFFSET;
    if (this.length === this.packed.length) this.compact();
    this.packed[this.length++] =
      (BigInt(witness) << LINK_SHIFT) | (BigInt(beaconer) << VALUE_BITS) | BigInt(v);
    this.filed[witness]! += 1;
  }

  /**
   * The test over every device. `budget[w]` = min over W's accepted beacons of
   * (txPower - SNR floor of its spreading factor), tenths; `beacons[w]` = how many it sent (k).
   * Devices with no accepted beacon have no chance to be heard back and are not tested here.
   */
  test(
    budget: Int32Array,
    beacons: Uint32Array,
    rule: OneWayRule,
  ): { flagged: Set<number>; stats: LinkStatsTable } {
    const claims = this.packed.subarray(0, this.length).sort();
    const miss = new MissProbability(rule);
    const stats = new LinkStatsTable();
    const flagged = new Set<number>();
    let cur = -1;
    let links = 0;
    let unconfirmed = 0;
    let expected = 0;
    let variance = 0;
    const close = () => {
      if (cur < 0 || links === 0) return;
      const excess = unconfirmed - expected - rule.minExcess;
      const isFlagged = excess > rule.z * Math.sqrt(variance);
      const score = variance > 0 ? excess / Math.sqrt(variance) : excess > 0 ? Infinity : -Infinity;
      stats.push({ device: cur, links, unconfirmed, expected, variance, score, flagged: isFlagged });
      if (isFlagged) flagged.add(cur);
    };
    let prevLink = -1n;
    for (let i = 0; i < claims.length; i++) {
      const claim = claims[i]!;
      const link = claim >> VALUE_BITS;
      if (link === prevLink) continue; // sorted: the first of a link holds its smallest value
      prevLink = link;
      const w = Number(claim >> LINK_SHIFT);
      const b = Number(link & DEVICE_MASK);
      if (w !== cur) {
        close();
        cur = w;
        links = unconfirmed = expected = variance = 0;
      }
      if (beacons[w]! === 0 || this.filed[b]! === 0) continue;
      const value = Number(claim & VALUE_MASK) - VALUE_OFFSET;
      const p = miss.of(value + budget[w]!, beacons[w]!);
      links++;
      expected += p;
      variance += p * (1 - p);
      if (!has(claims, (BigInt(b) << BigInt(DEVICE_BITS)) | BigInt(w))) unconfirmed++;
    }
    close();
    return { flagged, stats };
  }
}

/** ES2024's resizable ArrayBuffer (Node 20 and later; not in the es2023 lib this package is typed with). */
interface ResizableBuffer extends ArrayBuffer {
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}
type ResizableBufferConstructor = new (
  byteLength: number,
  options: { maxByteLength: number },
) => ResizableBuffer;

/** Whether the sorted claims hold any claim of `link` (witness << 26 | beaconer). */
function has(claims: BigUint64Array, link: bigint): boolean {
  const lo = link << VALUE_BITS;
  let a = 0;
  let z = claims.length;
  while (a < z) {
    const mid = (a + z) >>> 1;
    if (claims[mid]! < lo) a = mid + 1;
    else z = mid;
  }
  return a < claims.length && claims[a]! >> VALUE_BITS === link;
}
