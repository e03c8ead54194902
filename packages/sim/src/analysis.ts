/**
 * Runs a simulated epoch through the oracle (verify, rewards, commit) and scores the verdicts
 * against the ground truth: per device kind, the share of its reports refused and why, and the
 * reward it captured against honest devices of the same hardware; for honest devices, the share
 * of their valid reports wrongly refused.
 */
import { REASONS, runCoverageEpoch, type CoverageOptions, type CoverageWork } from "@hexmesh/oracle";
import { toHex, type ChainIndex, type EpochResult } from "@hexmesh/protocol";

import { ACTS, simulateNetworkEpoch, type SimulatedNetworkEpoch } from "./network.js";
import {
  buildWorld,
  DEVICE_KINDS,
  HARDWARE,
  worldChainIndex,
  type DeviceKind,
  type World,
  type WorldOptions,
} from "./world.js";

export const SIM_EPOCH_START = Date.UTC(2026, 0, 1);
export const SIM_EPOCH_MS = 86_400_000;
/** 100,000 MESH for the coverage pool of the simulated epoch. */
export const SIM_POOL = 100_000n * 10n ** 18n;

export interface SimRunOptions extends WorldOptions {
  /** Beacon windows (default: 4, a whole day). */
  readonly windows?: number;
  readonly coverage?: CoverageOptions;
}

export interface SimRun {
  readonly world: World;
  readonly index: ChainIndex;
  readonly epoch: SimulatedNetworkEpoch;
  readonly result: EpochResult<CoverageWork>;
  /** Verdict reason code (0 valid) per report, in the order of `epoch.reports`. */
  readonly reason: Uint8Array;
  /** Selected (beacon valid / witness among the rewarded) per report. */
  readonly selected: Uint8Array;
  /** Reward of each device (wei), by device index. */
  readonly reward: bigint[];
  readonly windows: number;
  readonly timings: { readonly worldMs: number; readonly reportsMs: number; readonly oracleMs: number };
}

export async function runSimulation(o: SimRunOptions): Promise<SimRun> {
  let t = performance.now();
  const world = buildWorld(o);
  const worldMs = performance.now() - t;
  t = performance.now();
  const epoch = simulateNetworkEpoch(world, {
    epochStart: SIM_EPOCH_START,
    epochEnd: SIM_EPOCH_START + SIM_EPOCH_MS,
    windows: o.windows ?? 4,
  });
  const reportsMs = performance.now() - t;
  const index = worldChainIndex(world, {
    epoch: 1n,
    epochStart: SIM_EPOCH_START,
    epochEnd: SIM_EPOCH_START + SIM_EPOCH_MS,
    pool: SIM_POOL,
  });
  t = performance.now();
  const result = await runCoverageEpoch(
    index,
    { reports: epoch.reports, entropy: epoch.entropy },
    o.coverage,
  );
  const oracleMs = performance.now() - t;

  // verdicts are in canonical order: map them back to reports by id
  const n = epoch.reports.length;
  const byPrefix = new Map<number, number | number[]>();
  const ids = epoch.truth.ids;
  const prefix = (b: Uint8Array, o: number) =>
    b[o]! * 2 ** 40 +
    b[o + 1]! * 2 ** 32 +
    (((b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!) >>> 0);
  const prefixOf = (i: number) => prefix(ids, i * 32);
  for (let i = 0; i < n; i++) {
    const key = prefixOf(i);
    const found = byPrefix.get(key);
    if (found === undefined) byPrefix.set(key, i);
    else if (typeof found === "number") byPrefix.set(key, [found, i]);
    else found.push(i);
  }
  const reason = new Uint8Array(n);
  const selected = new Uint8Array(n);
  const seen = new Uint8Array(n);
  for (const v of result.work.verdicts) {
    const idBytes = Buffer.from(v.id.slice(2), "hex");
    const found = byPrefix.get(prefix(idBytes, 0));
    const candidates = found === undefined ? [] : typeof found === "number" ? [found] : found;
    const i = candidates.find((c) => seen[c] === 0 && toHex(ids.subarray(c * 32, c * 32 + 32)) === v.id);
    if (i === undefined) throw new Error(`verdict ${v.id} matches no simulated report`);
    seen[i] = 1;
    reason[i] = v.reason === null ? 0 : REASONS.indexOf(v.reason) + 1;
    selected[i] = v.selected ? 1 : 0;
  }

  const reward = world.devices.map(() => 0n);
  for (const d of result.payout.devices) reward[Number(d.deviceId) - 1] = d.amount;
  return {
    world,
    index,
    epoch,
    result,
    reason,
    selected,
    reward,
    windows: o.windows ?? 4,
    timings: { worldMs, reportsMs, oracleMs },
  };
}

export interface KindStats {
  readonly kind: DeviceKind;
  readonly devices: number;
  readonly reports: number;
  readonly rejected: number;
  /** Reason -> refused reports. */
  readonly reasons: ReadonlyMap<string, number>;
  /** Reports that were not genuine (fabricated, relayed, replayed, stolen) and how many were refused. */
  readonly illicit: number;
  readonly illicitRejected: number;
  /** Reward of all devices of the kind, MESH (float, for display only). */
  readonly rewardMesh: number;
  /** Share of the epoch's distributed rewards. */
  readonly rewardShare: number;
  /** Mean reward per device over that of honest devices of the same hardware (1 = same). */
  readonly rewardRatio: number;
}

export interface HonestLoss {
  /** Genuine honest reports the rules should accept on the true geometry, counterpart honest. */
  readonly valid: number;
  readonly wronglyRejected: number;
  readonly reasons: ReadonlyMap<string, number>;
  /** Genuine honest reports refused by a published rule on the true geometry (e.g. too close). */
  readonly policy: number;
  readonly policyRejected: number;
  /** Genuine honest reports about an adversary's beacon, and how many of those were refused. */
  readonly collateral: number;
  readonly collateralRejected: number;
}

export interface SimAnalysis {
  readonly seed: string;
  readonly devices: number;
  readonly windows: number;
  readonly reports: number;
  readonly beacons: number;
  readonly witnesses: number;
  readonly linksHeard: number;
  /** Median and 90th percentile of valid witnesses per accepted beacon. */
  readonly witnessesPerBeacon: { readonly median: number; readonly p90: number };
  readonly kinds: readonly KindStats[];
  readonly honest: HonestLoss;
  /** Honest mean reward per device by hardware (MESH). */
  readonly honestByHardware: readonly {
    readonly hardware: string;
    readonly devices: number;
    readonly meanMesh: number;
  }[];
  readonly distributedMesh: number;
  readonly root: string;
  /** Per kind of report (ACTS) and device kind: how many were filed and how many the oracle accepted. */
  readonly acts: readonly {
    readonly kind: DeviceKind;
    readonly act: string;
    readonly count: number;
    readonly accepted: number;
  }[];
  /** Genuine witness reports between members of one farm (attenuated farms / raw farms). */
  readonly farmMutual: { readonly attenuated: Tally; readonly raw: Tally };
  /** Honest beacons refused as duplicate because a thief's copy arrived first. */
  readonly stolenVictims: number;
  /** Honest reports refused by a timing rule (too_late, too_early). */
  readonly honestTiming: number;
  /** The one-way-link test per device kind (empty when the rule is off). */
  readonly oneWay: readonly OneWayKindStats[];
}

export interface OneWayKindStats {
  readonly kind: DeviceKind;
  /** Devices tested (they beaconed, and some link's other end was listening) and flagged. */
  readonly tested: number;
  readonly flagged: number;
  /** Links tested, never confirmed by the other end, and expected so under fading (sums). */
  readonly links: number;
  readonly unconfirmed: number;
  readonly expected: number;
  /** Highest score of a device not flagged, lowest of one flagged (null if none). */
  readonly maxUnflaggedScore: number | null;
  readonly minFlaggedScore: number | null;
}

export interface Tally {
  readonly count: number;
  readonly accepted: number;
}

const mesh = (wei: bigint) => Number(wei / 10n ** 12n) / 1e6;
const reasonName = (code: number) => (code === 0 ? "valid" : REASONS[code - 1]!);

export function analyse(run: SimRun): SimAnalysis {
  const { world, epoch, reason, reward } = run;
  const t = epoch.truth;
  const devices = world.devices;
  const n = epoch.reports.length;

  // honest mean reward per hardware class
  const hwSum = HARDWARE.map(() => 0n);
  const hwCount = HARDWARE.map(() => 0);
  for (const d of devices) {
    if (d.kind !== "honest") continue;
    hwSum[d.hardware]! += reward[d.index]!;
    hwCount[d.hardware]! += 1;
  }
  const hwMean = hwSum.map((s, h) => (hwCount[h]! > 0 ? mesh(s) / hwCount[h]! : 0));
  const distributed = reward.reduce((a, b) => a + b, 0n);

  const kinds: KindStats[] = DEVICE_KINDS.map((kind) => {
    const members = devices.filter((d) => d.kind === kind);
    const memberSet = new Uint8Array(devices.length);
    for (const d of members) memberSet[d.index] = 1;
    let reports = 0;
    let rejected = 0;
    let illicit = 0;
    let illicitRejected = 0;
    const reasons = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      if (memberSet[t.device[i]!] !== 1) continue;
      reports++;
      const bad = reason[i]! !== 0;
      if (bad) {
        rejected++;
        const r = reasonName(reason[i]!);
        reasons.set(r, (reasons.get(r) ?? 0) + 1);
      }
      if (t.act[i] !== 0) {
        illicit++;
        if (bad) illicitRejected++;
      }
    }
    let total = 0n;
    let expected = 0;
    for (const d of members) {
      total += reward[d.index]!;
      expected += hwMean[d.hardware]!;
    }
    return {
      kind,
      devices: members.length,
      reports,
      rejected,
      reasons,
      illicit,
      illicitRejected,
      rewardMesh: mesh(total),
      rewardShare: distributed > 0n ? mesh(total) / mesh(distributed) : 0,
      rewardRatio: expected > 0 ? mesh(total) / expected : 0,
    };
  });

  let valid = 0;
  let wronglyRejected = 0;
  let policy = 0;
  let policyRejected = 0;
  let collateral = 0;
  let collateralRejected = 0;
  const lossReasons = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const d = devices[t.device[i]!]!;
    if (d.kind !== "honest" || t.act[i] !== 0) continue;
    const bad = reason[i]! !== 0;
    if (t.policy[i] === 1) {
      policy++;
      if (bad) policyRejected++;
      continue;
    }
    const c = t.counterpart[i]!;
    if (t.type[i] === 1 && c >= 0 && devices[c]!.kind !== "honest") {
      collateral++;
      if (bad) collateralRejected++;
      continue;
    }
    valid++;
    if (bad) {
      wronglyRejected++;
      const r = reasonName(reason[i]!);
      lossReasons.set(r, (lossReasons.get(r) ?? 0) + 1);
    }
  }

  // witnesses per accepted beacon
  const perBeacon: number[] = [];
  for (const v of run.result.work.verdicts) {
    if (v.kind === "beacon" && v.reason === null) perBeacon.push(0);
  }
  {
    const counts = new Map<string, number>();
    for (const v of run.result.work.verdicts) {
      if (v.kind === "witness" && v.reason === null && v.beacon !== null)
        counts.set(v.beacon, (counts.get(v.beacon) ?? 0) + 1);
    }
    let k = 0;
    for (const v of run.result.work.verdicts) {
      if (v.kind === "beacon" && v.reason === null) perBeacon[k++] = counts.get(v.beacon!) ?? 0;
    }
  }
  perBeacon.sort((a, b) => a - b);
  const q = (p: number) => perBeacon[Math.min(perBeacon.length - 1, Math.floor(perBeacon.length * p))] ?? 0;

  let beacons = 0;
  for (let i = 0; i < n; i++) if (t.type[i] === 0) beacons++;

  const actMap = new Map<string, { kind: DeviceKind; act: string; count: number; accepted: number }>();
  const farmAtt = { count: 0, accepted: 0 };
  const farmRaw = { count: 0, accepted: 0 };
  const victims = new Set<number>();
  let honestTiming = 0;
  for (let i = 0; i < n; i++) {
    const d = devices[t.device[i]!]!;
    const act = ACTS[t.act[i]!]!;
    const key = `${d.kind}:${act}`;
    let e = actMap.get(key);
    if (e === undefined) actMap.set(key, (e = { kind: d.kind, act, count: 0, accepted: 0 }));
    e.count++;
    if (reason[i] === 0) e.accepted++;
    if (act === "stolen_beacon" && reason[i] === 0) victims.add(t.counterpart[i]!);
    const c = t.counterpart[i]!;
    if (
      d.kind === "witness_farm" &&
      t.type[i] === 1 &&
      c >= 0 &&
      devices[c]!.group === d.group &&
      devices[c]!.kind === "witness_farm"
    ) {
      const tally = d.attenuationDb > 0 ? farmAtt : farmRaw;
      tally.count++;
      if (reason[i] === 0) tally.accepted++;
    }
    if (d.kind === "honest") {
      const r = reasonName(reason[i]!);
      if (r === "too_late" || r === "too_early") honestTiming++;
    }
  }
  let stolenVictims = 0;
  for (let i = 0; i < n; i++) {
    if (
      t.type[i] === 0 &&
      t.act[i] === 0 &&
      victims.has(t.device[i]!) &&
      reasonName(reason[i]!) === "duplicate"
    )
      stolenVictims++;
  }
  const kindRank = (k: DeviceKind) => DEVICE_KINDS.indexOf(k);
  const acts = [...actMap.values()].sort(
    (x, y) =>
      kindRank(x.kind) - kindRank(y.kind) || ACTS.indexOf(x.act as never) - ACTS.indexOf(y.act as never),
  );
  return {
    seed: world.seed,
    devices: devices.length,
    windows: run.windows,
    reports: n,
    beacons,
    witnesses: n - beacons,
    linksHeard: epoch.linksHeard,
    witnessesPerBeacon: { median: q(0.5), p90: q(0.9) },
    kinds,
    honest: {
      valid,
      wronglyRejected,
      reasons: lossReasons,
      policy,
      policyRejected,
      collateral,
      collateralRejected,
    },
    honestByHardware: HARDWARE.map((hw, h) => ({
      hardware: hw.name,
      devices: hwCount[h]!,
      meanMesh: hwMean[h]!,
    })),
    distributedMesh: mesh(distributed),
    root: run.result.commit.epochRoot.root,
    acts,
    farmMutual: { attenuated: farmAtt, raw: farmRaw },
    stolenVictims,
    honestTiming,
    oneWay: oneWayByKind(run),
  };
}

function oneWayByKind(run: SimRun): OneWayKindStats[] {
  const tests = run.result.work.linkTests ?? [];
  if (tests.length === 0) return [];
  return DEVICE_KINDS.map((kind) => {
    // world device i has device id i + 1 (world.ts)
    const mine = tests.filter((s) => run.world.devices[Number(s.deviceId) - 1]!.kind === kind);
    const scores = (flagged: boolean) => mine.filter((s) => s.flagged === flagged).map((s) => s.score);
    const unflagged = scores(false);
    const flagged = scores(true);
    return {
      kind,
      tested: mine.length,
      flagged: flagged.length,
      links: mine.reduce((a, s) => a + s.links, 0),
      unconfirmed: mine.reduce((a, s) => a + s.unconfirmed, 0),
      expected: mine.reduce((a, s) => a + s.expected, 0),
      maxUnflaggedScore: unflagged.length === 0 ? null : Math.max(...unflagged),
      minFlaggedScore: flagged.length === 0 ? null : Math.min(...flagged),
    };
  });
}

export { ACTS };
