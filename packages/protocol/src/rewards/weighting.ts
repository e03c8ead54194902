/**
 * Coverage reward weighting: each device's weight in the beacon and witness pools, from the beacons
 * the verifier accepted and the witnesses it selected for them.
 *
 * - Units (HIP-15, hip15.ts): a beacon with n selected witnesses earns its beaconer beaconer[n] and
 *   each of those witnesses witness[n]; a beacon nobody witnessed earns nothing.
 * - Scale (HIP-17/104 hex density, density.ts): over every active device with a valid asserted
 *   location.
 * - Weight = units x scale (both 18 decimals, so 36), summed per device and pool. A witness is scaled
 *   at the beaconer's hex: the coverage it proves is there.
 * - Pools: beacons get `beaconPoolBps`, witnesses the rest (split by payout.ts).
 * Published per device (COVERAGE_METRICS): beacon units, witness units and the device's own scale.
 *
 * Anyone holding the chain index and an epoch's verdict record (valid beacons, selected witnesses
 * and the beacon payload hash each cites) recomputes the weights with this, in any order of beacons.
 */
import type { ChainView, DeviceEntry } from "../chain/view.js";
import type { DeviceWork, PoolShare } from "../work.js";
import { buildDensity, type DensityMap } from "./density.js";
import { enumerableGetters } from "./fields.js";
import { toWad, type Fraction } from "./fixed.js";
import { hip15Table } from "./hip15.js";
import { LimbColumns, mulLimbs, toLimbs } from "./limbs.js";

/** Per-device figures a coverage WorkResult publishes, in this order. */
export const COVERAGE_METRICS = ["beaconUnits", "witnessUnits", "scale"] as const;

/** The coverage pools: beacons `beaconPoolBps` basis points, witnesses the rest. */
export function coveragePools(beaconPoolBps: number): PoolShare[] {
  return [
    { name: "beacon", bps: beaconPoolBps },
    { name: "witness", bps: 10_000 - beaconPoolBps },
  ];
}

/** Hex density over every active device with a valid asserted location. */
export function coverageDensity(chain: ChainView): DensityMap {
  const cells: string[] = [];
  for (const d of chain.devices) if (d.record.status === "active" && d.located) cells.push(d.cell!);
  return buildDensity(cells);
}

/** HIP-15 units (18 decimals) one beacon's reports earn. */
export interface BeaconUnits {
  /** The beacon's. */
  readonly beaconer: bigint;
  /** Each selected witness's. */
  readonly witness: bigint;
}

/** Limbs of 24 bits: units (18 decimals, at most 2) and scales (at most 1) fit 3, their products 6. */
const WAD_LIMBS = 3;
const WEIGHT_LIMBS = 2 * WAD_LIMBS;

/**
 * Accumulates the beacons of one epoch into per-device weights (coverage's DeviceWork). Each credited
 * device gets a slot, in the order first credited, and its sums are limb columns by slot
 * (rewards/limbs.ts): crediting a witness allocates nothing, where bigint sums made four bigints (every
 * device of a large epoch is credited, tens of millions of times a day at Helium's size).
 *
 * A beacon weight is kept as the beacon units alone: the beaconer's scale is the same for each of its
 * beacons, so its weight is its units times its scale, exactly.
 */
export class CoverageWeighting {
  private readonly maxWitnesses: number;
  private readonly beaconerLimbs: readonly Float64Array[];
  private readonly witnessLimbs: readonly Float64Array[];
  private readonly density: DensityMap;
  private readonly chain: ChainView;
  /** Each device's slot by its index in the view, -1 until credited (a map took ~40 bytes a device). */
  private readonly slots: Int32Array;
  private readonly credited: DeviceEntry[] = [];
  /** Each credited device's scale, by slot: one of the density's few distinct scales. */
  private readonly scales: Scale[] = [];
  /** The density's scales as 18-decimal integers and their limbs, each made once. */
  private readonly scaleOfFraction = new Map<Fraction, Scale>();
  private readonly beaconUnits = new LimbColumns(WAD_LIMBS);
  private readonly witnessUnits = new LimbColumns(WAD_LIMBS);
  private readonly witnessWeights = new LimbColumns(WEIGHT_LIMBS);
  private readonly weightScratch = new Float64Array(WEIGHT_LIMBS);
  /** Whether devices() was called: the sums are freed. */
  private taken = false;
  /** What a beacon with n witnesses earns, one object per n (returned, never rebuilt). */
  private readonly earned: readonly BeaconUnits[];

  /** `chain` gives the density; at most `maxWitnessesPerBeacon` witnesses are rewarded per beacon. */
  constructor(chain: ChainView, maxWitnessesPerBeacon: number) {
    this.maxWitnesses = maxWitnessesPerBeacon;
    const table = hip15Table(maxWitnessesPerBeacon);
    this.beaconerLimbs = table.beaconer.map((u) => toLimbs(u, WAD_LIMBS));
    this.witnessLimbs = table.witness.map((u) => toLimbs(u, WAD_LIMBS));
    this.earned = table.beaconer.map((beaconer, n) =>
      Object.freeze({ beaconer, witness: table.witness[n]! }),
    );
    this.density = coverageDensity(chain);
    this.chain = chain;
    this.slots = new Int32Array(chain.devices.length).fill(-1);
  }

  /**
   * Credits one accepted beacon of `beaconer` and the devices of its selected witnesses (at most
   * `maxWitnessesPerBeacon`; none: the beacon earns nothing and nobody is credited). Returns the
   * units the beacon and each of the witnesses earn.
   */
  addBeacon(beaconer: DeviceEntry, witnesses: readonly DeviceEntry[]): BeaconUnits {
    if (this.taken) throw new Error("a weighting's devices were taken: it credits no more beacons");
    const n = witnesses.length;
    if (n > this.maxWitnesses)
      throw new RangeError(
        `${n} witnesses selected for one beacon; at most ${this.maxWitnesses} are rewarded`,
      );
    if (n === 0) return this.earned[0]!;
    const b = this.slotOf(beaconer);
    this.beaconUnits.add(b, this.beaconerLimbs[n]!);
    // a witness is scaled at the beaconer's hex: one product for all of the beacon's witnesses
    const units = this.witnessLimbs[n]!;
    mulLimbs(units, this.scales[b]!.limbs, this.weightScratch);
    for (const w of witnesses) {
      const k = this.slotOf(w);
      this.witnessUnits.add(k, units);
      this.witnessWeights.add(k, this.weightScratch);
    }
    return this.earned[n]!;
  }

  /**
   * Every credited device, in the order first credited: weights (beacon, witness) and metrics. Taken
   * once. Each device's work is read from the weighting's sums when asked for (CreditedDeviceWork):
   * as bigints and arrays it took ~260 bytes a device, ~370 MB at 1.44M devices, held through the
   * payout and commit; the sums take ~100.
   */
  devices(): DeviceWork[] {
    if (this.taken) throw new Error("a weighting's devices are taken once");
    this.taken = true;
    // Only the sums and scales: the rows do not keep the density or the view's slots alive.
    const sums = new CreditSums(this.beaconUnits, this.witnessUnits, this.witnessWeights, this.scales);
    return this.credited.map((d, k) => new CreditedDeviceWork(d.record.id, sums, k));
  }

  /** The device's slot, made on its first credit with its density scale (18 decimals). */
  private slotOf(d: DeviceEntry): number {
    if (this.chain.devices[d.index] !== d)
      throw new RangeError(`device ${d.record.id} is not an entry of the weighting's chain view`);
    let k = this.slots[d.index]!;
    if (k < 0) {
      if (!d.located) throw new RangeError(`device ${d.record.id} has no asserted location`);
      const scale = this.scaleOf(this.density.scaleOf(d.cell!));
      k = this.credited.length;
      this.slots[d.index] = k;
      this.credited.push(d);
      this.scales.push(scale);
      this.beaconUnits.push();
      this.witnessUnits.push();
      this.witnessWeights.push();
    }
    return k;
  }

  /** A density scale as an 18-decimal integer and its limbs, made once per distinct scale. */
  private scaleOf(f: Fraction): Scale {
    let s = this.scaleOfFraction.get(f);
    if (s === undefined) {
      const wad = toWad(f);
      s = { wad, limbs: toLimbs(wad, WAD_LIMBS) };
      this.scaleOfFraction.set(f, s);
    }
    return s;
  }
}

/** A density scale (18 decimals) and its limbs. */
interface Scale {
  readonly wad: bigint;
  readonly limbs: Float64Array;
}

/** The credited devices' sums by slot, as a weighting leaves them once its devices are taken. */
class CreditSums {
  constructor(
    private readonly beaconUnits: LimbColumns,
    private readonly witnessUnits: LimbColumns,
    private readonly witnessWeights: LimbColumns,
    private readonly scales: readonly Scale[],
  ) {}

  /** (beacon units x scale, witness weight): the device's weight in each coverage pool. */
  weightsOf(slot: number): bigint[] {
    return [this.beaconUnits.get(slot) * this.scales[slot]!.wad, this.witnessWeights.get(slot)];
  }

  /** COVERAGE_METRICS: beacon units, witness units, scale. */
  metricsOf(slot: number): bigint[] {
    return [this.beaconUnits.get(slot), this.witnessUnits.get(slot), this.scales[slot]!.wad];
  }
}

/**
 * A credited device's work, its weights and metrics made from the sums each time they are read (the
 * same values every time: the sums no longer change). It reads like the plain object it replaces:
 * the fields are enumerable (for-in and deep-equality see deviceId, weights, metrics) and its state
 * is private; a spread or JSON.stringify copies own fields only, so read them by name.
 */
class CreditedDeviceWork implements DeviceWork {
  readonly #sums: CreditSums;
  readonly #slot: number;

  constructor(
    readonly deviceId: bigint,
    sums: CreditSums,
    slot: number,
  ) {
    this.#sums = sums;
    this.#slot = slot;
  }

  get weights(): readonly bigint[] {
    return this.#sums.weightsOf(this.#slot);
  }

  get metrics(): readonly bigint[] {
    return this.#sums.metricsOf(this.#slot);
  }
}
enumerableGetters(CreditedDeviceWork, ["weights", "metrics"]);
