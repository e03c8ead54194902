import { expect } from "chai";
import * as h3 from "h3-js";

import { DEFAULT_COVERAGE_PARAMS, REASONS, type Reason } from "@hexmesh/oracle";
import { haversineM } from "@hexmesh/protocol";
import { analyse, runSimulation, type SimRun } from "@hexmesh/sim/analysis";
import { ACTS, simulateNetworkEpoch } from "@hexmesh/sim/network";
import { buildReport } from "@hexmesh/sim/report";
import { ADVERSARY_KINDS, buildWorld, FARM_SIZE, RING_SIZE, type DeviceKind } from "@hexmesh/sim/world";

import { near } from "../helpers/approx.js";

const SHARES = {
  location_spoofer: 0.04,
  signal_forger: 0.04,
  witness_farm: 0.04,
  replayer: 0.03,
  late_relay: 0.03,
  colluding_wallet: 0.06,
};
const OPTIONS = {
  devices: 400,
  seed: "sim-test",
  windows: 4,
  adversaryShares: SHARES,
  coverage: { preparer: "inline" as const },
};
const rad = Math.PI / 180;

function cellCentre(location: bigint | null): [number, number] {
  return h3.cellToLatLng(location!.toString(16));
}

describe("sim / network", function () {
  this.timeout(600_000);
  let run: SimRun;

  before(async function () {
    run = await runSimulation(OPTIONS);
  });

  const reasonsOf = (pick: (i: number) => boolean): Map<Reason | "valid", number> => {
    const out = new Map<Reason | "valid", number>();
    for (let i = 0; i < run.reason.length; i++) {
      if (!pick(i)) continue;
      const r = run.reason[i] === 0 ? "valid" : REASONS[run.reason[i]! - 1]!;
      out.set(r, (out.get(r) ?? 0) + 1);
    }
    return out;
  };
  const kindOf = (i: number): DeviceKind => run.world.devices[run.epoch.truth.device[i]!]!.kind;
  const act = (i: number) => ACTS[run.epoch.truth.act[i]!];

  describe("determinism", function () {
    it("the same seed gives the same world and the same signed reports; another seed does not", function () {
      const a = buildWorld({ devices: 120, seed: "d" });
      const b = buildWorld({ devices: 120, seed: "d" });
      const c = buildWorld({ devices: 120, seed: "e" });
      expect(a.devices.map((d) => d.record)).to.deep.equal(b.devices.map((d) => d.record));
      expect(a.devices.map((d) => d.kind)).to.deep.equal(b.devices.map((d) => d.kind));
      expect(c.devices.map((d) => d.record.location)).to.not.deep.equal(
        a.devices.map((d) => d.record.location),
      );
      const o = { epochStart: Date.UTC(2026, 0, 1), epochEnd: Date.UTC(2026, 0, 2), windows: 1 };
      const ea = simulateNetworkEpoch(a, o);
      const eb = simulateNetworkEpoch(b, o);
      // secp256k1 signatures are RFC 6979 (deterministic); P-256 ones come from node:crypto, which
      // draws a random nonce like a secure element does: compare those texts without the signature
      const p256 = new Set(a.devices.filter((d) => d.signer.key.type === "p256").map((d) => d.index));
      expect(p256.size).to.be.greaterThan(0);
      const comparable = (e: typeof ea) =>
        e.reports.map((r, i) => ({
          receivedAt: r.receivedAt,
          raw: p256.has(e.truth.device[i]!) ? r.raw.replace(/"signature":"0x[0-9a-f]+"/, "") : r.raw,
        }));
      expect(comparable(ea)).to.deep.equal(comparable(eb));
      expect(ea.truth).to.deep.equal(eb.truth); // includes every report's EIP-712 digest
      expect(simulateNetworkEpoch(c, o).reports).to.not.deep.equal(ea.reports);
    });

    it("the report (markdown and every chart) is byte-identical on a rerun from the seed", async function () {
      const again = await runSimulation(OPTIONS);
      const [x, y] = await Promise.all([buildReport(analyse(run)), buildReport(analyse(again))]);
      expect(y.markdown).to.equal(x.markdown);
      expect([...y.charts.keys()]).to.deep.equal(["rejections.svg", "rewards.svg", "honest.svg"]);
      for (const [name, svg] of x.charts) {
        expect(svg.startsWith("<svg"), name).to.equal(true);
        expect(y.charts.get(name), name).to.equal(svg);
      }
      expect(again.result.commit.epochRoot).to.deep.equal(run.result.commit.epochRoot);
    });
  });

  describe("ground truth", function () {
    it("every adversary kind is present in its share, groups whole", function () {
      const count = (k: DeviceKind) => run.world.devices.filter((d) => d.kind === k).length;
      for (const kind of ADVERSARY_KINDS) expect(count(kind), kind).to.be.greaterThan(0);
      expect(count("witness_farm") % FARM_SIZE).to.equal(0);
      expect(count("colluding_wallet") % RING_SIZE).to.equal(0);
      expect(count("location_spoofer")).to.equal(Math.round(SHARES.location_spoofer * 400));
      expect(count("honest")).to.be.greaterThan(300);
    });

    it("honest devices assert the cell they are in; spoofers a cell 15 km or more away", function () {
      for (const d of run.world.devices) {
        const [lat, lng] = cellCentre(d.record.location);
        const off = haversineM(lat * rad, lng * rad, d.lat * rad, d.lng * rad);
        if (d.kind === "location_spoofer") expect(off).to.be.greaterThan(14_000);
        else if (d.kind !== "witness_farm") expect(off, d.kind).to.be.lessThan(15);
        expect(h3.getResolution(d.record.location!.toString(16))).to.equal(12);
      }
    });

    it("a farm sits in one room behind spread-out cells and several wallets; a ring is one wallet", function () {
      const farms = new Map<number, typeof run.world.devices>();
      for (const d of run.world.devices.filter((x) => x.kind === "witness_farm")) {
        farms.set(d.group, [...(farms.get(d.group) ?? []), d]);
      }
      for (const members of farms.values()) {
        expect(members).to.have.length(FARM_SIZE);
        const first = members[0]!;
        for (const m of members) {
          expect(haversineM(m.lat * rad, m.lng * rad, first.lat * rad, first.lng * rad)).to.be.lessThan(5);
        }
        expect(new Set(members.map((m) => m.record.location)).size).to.equal(FARM_SIZE);
        expect(new Set(members.map((m) => m.record.owner)).size).to.equal(FARM_SIZE);
      }
      const rings = new Set(
        run.world.devices.filter((d) => d.kind === "colluding_wallet").map((d) => d.record.owner),
      );
      expect(rings.size).to.equal(
        run.world.devices.filter((d) => d.kind === "colluding_wallet").length / RING_SIZE,
      );
      const forgers = run.world.devices.filter((d) => d.kind === "signal_forger");
      expect(forgers.every((d) => d.extraRxGainDb >= 15 && d.extraRxGainDb <= 25)).to.equal(true);
    });

    it("every report is labelled, and only adversaries file illicit reports", function () {
      const t = run.epoch.truth;
      expect(t.device.length).to.equal(run.epoch.reports.length);
      expect(t.ids.length).to.equal(32 * run.epoch.reports.length);
      for (let i = 0; i < t.device.length; i++) {
        const raw = run.epoch.reports[i]!.raw;
        expect(raw.includes('"type":"beacon"')).to.equal(t.type[i] === 0);
        if (act(i) !== "genuine") expect(kindOf(i)).to.not.equal("honest");
      }
    });
  });

  describe("each adversary is caught as the report says", function () {
    const illicit = (kind: DeviceKind, a: (typeof ACTS)[number]) =>
      reasonsOf((i) => kindOf(i) === kind && act(i) === a);

    it("replayer: stale beacons -> entropy_expired, old witness reports -> unknown_beacon", function () {
      expect([...illicit("replayer", "stale_beacon").keys()]).to.deep.equal(["entropy_expired"]);
      expect([...illicit("replayer", "old_witness").keys()]).to.deep.equal(["unknown_beacon"]);
      // a stolen beacon sent faster than its owner's: the payload binds the owner's key id
      const stolen = illicit("replayer", "stolen_beacon");
      expect([...stolen.keys()]).to.deep.equal(["invalid_packet"]);
      expect(stolen.get("invalid_packet")).to.be.greaterThan(0);
      // and every victim keeps its beacon
      const t = run.epoch.truth;
      const victims = new Set<number>();
      for (let i = 0; i < run.reason.length; i++)
        if (act(i) === "stolen_beacon") victims.add(t.counterpart[i]!);
      const victimBeacons = reasonsOf(
        (i) => t.type[i] === 0 && act(i) === "genuine" && victims.has(t.device[i]!),
      );
      expect(victimBeacons.get("duplicate") ?? 0).to.equal(0);
    });

    it("colluding wallet: every fabricated witness of a ring-mate is refused as same_owner", function () {
      const r = illicit("colluding_wallet", "fabricated");
      expect(r.get("same_owner") ?? 0).to.be.greaterThan(0);
      expect(r.get("valid") ?? 0).to.equal(0);
    });

    it("late relay: relayed witness reports are too_late past 4 s, one_way_links within; honest devices never", function () {
      const t = run.epoch.truth;
      let late = 0;
      for (let i = 0; i < run.reason.length; i++) {
        if (act(i) !== "relayed" || t.counterpart[i]! < 0) continue;
        const r = run.reason[i] === 0 ? null : REASONS[run.reason[i]! - 1];
        if (r === "too_late") late++;
      }
      expect(late).to.be.greaterThan(0);
      const relayed = illicit("late_relay", "relayed");
      expect(relayed.get("one_way_links") ?? 0).to.be.greaterThan(0);
      // over a day (k = 4 beacons each) the test catches nearly every relay
      const total = [...relayed.values()].reduce((a, b) => a + b, 0);
      expect(relayed.get("valid") ?? 0).to.be.lessThan(0.05 * total);
      expect(reasonsOf((i) => kindOf(i) === "honest").get("one_way_links") ?? 0).to.equal(0);
    });

    it("signal forger: its witness reports are refused as nonreciprocal_signal; honest devices' never", function () {
      const forger = reasonsOf((i) => kindOf(i) === "signal_forger" && run.epoch.truth.type[i] === 1);
      expect(forger.get("nonreciprocal_signal") ?? 0).to.be.greaterThan((forger.get("valid") ?? 0) * 2);
      const honest = reasonsOf((i) => kindOf(i) === "honest");
      expect(honest.get("nonreciprocal_signal") ?? 0).to.equal(0);
    });

    it("witness farm without attenuators: its members' mutual reports are bad_rssi", function () {
      const raw = run.world.devices.filter((d) => d.kind === "witness_farm" && d.attenuationDb === 0);
      if (raw.length === 0) this.skip();
      const ids = new Set(raw.map((d) => d.index));
      const t = run.epoch.truth;
      const r = reasonsOf((i) => ids.has(t.device[i]!) && t.type[i] === 1 && ids.has(t.counterpart[i]!));
      expect(r.get("bad_rssi") ?? 0).to.be.greaterThan(0);
      expect(r.get("valid") ?? 0).to.equal(0);
    });

    it("location spoofer: its links from another city are max_distance_exceeded", function () {
      const r = reasonsOf((i) => kindOf(i) === "location_spoofer");
      expect(r.get("max_distance_exceeded") ?? 0).to.be.greaterThan(0);
    });
  });

  describe("scores", function () {
    it("honest devices lose under 2% of their valid reports; the analysis adds up", function () {
      const a = analyse(run);
      expect(a.honest.valid).to.be.greaterThan(1_000);
      expect(a.honest.wronglyRejected / a.honest.valid).to.be.lessThan(0.02);
      const reports = a.kinds.reduce((s, k) => s + k.reports, 0);
      expect(reports).to.equal(run.epoch.reports.length);
      const shares = a.kinds.reduce((s, k) => s + k.rewardShare, 0);
      near(shares, 1, 1e-6);
      near(a.kinds.find((k) => k.kind === "honest")!.rewardRatio, 1, 1e-9);
    });

    it("one-way-link test: nearly every honest device tested and none flagged; late relays flagged", function () {
      const a = analyse(run);
      const of = (kind: DeviceKind) => a.oneWay.find((k) => k.kind === kind)!;
      const honest = run.world.devices.filter((d) => d.kind === "honest").length;
      expect(of("honest").tested).to.be.greaterThan(0.9 * honest);
      expect(of("honest").flagged).to.equal(0);
      expect(of("honest").maxUnflaggedScore!).to.be.below(DEFAULT_COVERAGE_PARAMS.oneWayLinks!.z);
      expect(of("late_relay").flagged).to.be.greaterThan(0);
      expect(of("late_relay").minFlaggedScore!).to.be.above(DEFAULT_COVERAGE_PARAMS.oneWayLinks!.z);
      // every report refused one_way_links is a flagged device's (the others had none left: a
      // signal forger's were already refused nonreciprocal_signal)
      const flagged = new Set(
        run.result.work.linkTests!.filter((s) => s.flagged).map((s) => Number(s.deviceId) - 1),
      );
      let refused = 0;
      for (let i = 0; i < run.reason.length; i++) {
        if (REASONS[run.reason[i]! - 1] !== "one_way_links") continue;
        refused++;
        expect(flagged.has(run.epoch.truth.device[i]!)).to.equal(true);
      }
      expect(refused).to.be.greaterThan(0);
    });

    it("the rules the simulator motivated are on by default", function () {
      expect(DEFAULT_COVERAGE_PARAMS.refuseSameOwnerWitness).to.equal(true);
      expect(DEFAULT_COVERAGE_PARAMS.reciprocity).to.deep.equal({ minPairs: 3, maxMedianDb: 10 });
      expect(DEFAULT_COVERAGE_PARAMS.oneWayLinks).to.deep.equal({
        linkSigmaDb: 3,
        packetSigmaDb: 3,
        z: 4,
        minExcess: 3,
      });
    });
  });
});
