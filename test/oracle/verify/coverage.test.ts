import { expect } from "chai";
import { ethers } from "ethers";
import * as h3 from "h3-js";

import {
  COVERAGE_STAGES,
  CoverageVerifier,
  DEFAULT_COVERAGE_PARAMS,
  REASONS,
  runCoverageEpoch,
  type CoverageOptions,
  type Reason,
  type Verdict,
} from "@hexmesh/oracle";
import {
  beaconPayload,
  ChainView,
  concatChunks,
  encodeReport,
  formatWad,
  payloadHash,
  signBeaconFields,
  signWitnessFields,
  toHex,
  type BeaconReport,
  type ReceivedReport,
  type WitnessReport,
} from "@hexmesh/protocol";

import {
  DOMAIN,
  EPOCH_END,
  EPOCH_START,
  localEntropy,
  makeBeacon,
  makeWitness,
  received,
  secpSignerFromSeed,
  shuffled,
  World,
  type TestDevice,
} from "../../helpers/oracle.js";

const T0 = EPOCH_START + 3_600_000; // 01:00, inside the first 6 h window
const reached = new Set<Reason | "valid">();

function world() {
  const w = new World();
  const a = w.addDevice("beaconer");
  const witnesses = Array.from({ length: 6 }, (_, i) =>
    w.addDevice(`w${i}`, { kind: i % 2 === 0 ? "p256" : "secp256k1", northM: 800 + 400 * i, eastM: 300 * i }),
  );
  const e = w.publishEntropy(T0 - 30_000);
  return { w, a, witnesses, e };
}

async function verify(w: World, reports: readonly ReceivedReport[], options: CoverageOptions = {}) {
  const work = await new CoverageVerifier({ preparer: "inline", ...options }).verify(
    new ChainView(w.chain()),
    {
      reports,
      entropy: w.entropy,
    },
  );
  for (const v of work.verdicts) reached.add(v.reason ?? "valid");
  return work;
}

/** The verdict of the report received at `at` (tests give each report its own receive time). */
function at(verdicts: readonly Verdict[], time: number): Verdict {
  const found = verdicts.filter((v) => v.receivedAt === time);
  expect(found.length, `one verdict at ${time}`).to.equal(1);
  return found[0]!;
}

async function reasonOf(
  w: World,
  reports: readonly ReceivedReport[],
  time: number,
  options: CoverageOptions = {},
) {
  return at((await verify(w, reports, options)).verdicts, time).reason;
}

describe("oracle / verification rules", function () {
  describe("a valid beacon with five witnesses", function () {
    it("passes every check and earns HIP-15 units (n = 5: beaconer 1.2, witnesses 0.76 each)", async function () {
      const { w, a, witnesses, e } = world();
      const beacon = makeBeacon(a, e);
      const extra = w.addDevice("w-extra", { northM: -1_500, eastM: -900 });
      const reports = [
        received(beacon, T0),
        ...witnesses.slice(0, 4).map((x, i) => received(makeWitness(x, a, beacon), T0 + 100 + i)),
        received(makeWitness(extra, a, beacon), T0 + 200),
      ];
      const work = await verify(w, reports);
      expect(work.verdicts.map((v) => v.reason)).to.deep.equal([null, null, null, null, null, null]);
      expect(work.verdicts.every((v) => v.selected)).to.equal(true);
      expect(formatWad(at(work.verdicts, T0).units)).to.equal("1.2");
      expect(formatWad(at(work.verdicts, T0 + 100).units)).to.equal("0.76");
      expect(at(work.verdicts, T0).beacon).to.equal(payloadHash(beacon.payload));
      // one device in each res-10 hex, all far apart: scale 1; weight = units x scale (36 decimals)
      const beaconer = work.devices.find((d) => d.deviceId === a.record.id)!;
      expect(beaconer.metrics).to.deep.equal([1_200_000_000_000_000_000n, 0n, 10n ** 18n]);
      expect(beaconer.weights).to.deep.equal([1_200_000_000_000_000_000n * 10n ** 18n, 0n]);
      expect(work.pools).to.deep.equal([
        { name: "beacon", bps: 2_000 },
        { name: "witness", bps: 8_000 },
      ]);
    });

    it("n <= 4: beaconer n/4, witnesses 1; a beacon nobody witnessed earns nothing", async function () {
      const { w, a, witnesses, e } = world();
      const beacon = makeBeacon(a, e);
      const lone = makeBeacon(witnesses[5]!, e);
      const work = await verify(w, [
        received(beacon, T0),
        received(makeWitness(witnesses[0]!, a, beacon), T0 + 1),
        received(makeWitness(witnesses[1]!, a, beacon), T0 + 2),
        received(lone, T0 + 3),
      ]);
      expect(formatWad(at(work.verdicts, T0).units)).to.equal("0.5");
      expect(formatWad(at(work.verdicts, T0 + 1).units)).to.equal("1");
      expect(at(work.verdicts, T0 + 3)).to.include({ reason: null, selected: true, units: 0n });
      expect(work.devices.find((d) => d.deviceId === witnesses[5]!.record.id)).to.equal(undefined);
    });
  });

  describe("beacon checks", function () {
    it("malformed: text that is not a canonical report", async function () {
      const { w } = world();
      const work = await verify(w, [{ raw: "{nope", receivedAt: T0 }]);
      expect(work.verdicts[0]).to.include({
        kind: "malformed",
        reason: "malformed",
        detail: "not_json",
        device: null,
      });
      expect(work.verdicts[0]!.id).to.equal(ethers.keccak256(ethers.toUtf8Bytes("{nope")));
    });

    it("outside_epoch: received before the epoch or at its end", async function () {
      const { w, a, e } = world();
      const b = makeBeacon(a, e);
      expect(await reasonOf(w, [received(b, EPOCH_END)], EPOCH_END)).to.equal("outside_epoch");
      expect(await reasonOf(w, [received(b, EPOCH_START - 1)], EPOCH_START - 1)).to.equal("outside_epoch");
    });

    it("gateway_not_found: the key is not registered", async function () {
      const { w, e } = world();
      const stranger: TestDevice = {
        ...w.devices[0]!,
        signer: secpSignerFromSeed("stranger"),
        keyId: secpSignerFromSeed("stranger").keyId,
      };
      expect(await reasonOf(w, [received(makeBeacon(stranger, e), T0)], T0)).to.equal("gateway_not_found");
    });

    it("bad_signature: signed by another key than the one it names", async function () {
      const { w, a, e } = world();
      const good = makeBeacon(a, e);
      const { type: _t, signature: _s, ...fields } = good;
      const forged = signBeaconFields(secpSignerFromSeed("mallory"), DOMAIN, fields);
      expect(forged.device).to.equal(a.keyId);
      expect(await reasonOf(w, [received(forged, T0)], T0)).to.equal("bad_signature");
      // signed for another chain / registry: replay across deployments fails
      const otherChain = makeBeacon(a, e, {}, { ...DOMAIN, chainId: 1n });
      expect(await reasonOf(w, [received(otherChain, T0)], T0)).to.equal("bad_signature");
    });

    it("denied, not_active, not_asserted: suspended, retired, never asserted or invalid location", async function () {
      const { w, e } = world();
      const suspended = w.addDevice("s", { status: "suspended", northM: 5_000 });
      const retired = w.addDevice("r", { status: "retired", northM: 6_000 });
      const unasserted = w.addDevice("u", { asserted: false });
      const res11 = w.addDevice("x", { location: BigInt(`0x${h3.latLngToCell(40.1, -105.1, 11)}`) });
      const work = await verify(w, [
        received(makeBeacon(suspended, e), T0),
        received(makeBeacon(retired, e), T0 + 1),
        received(makeBeacon(unasserted, e), T0 + 2),
        received(makeBeacon(res11, e), T0 + 3),
      ]);
      expect(work.verdicts.map((v) => v.reason)).to.deep.equal([
        "denied",
        "not_active",
        "not_asserted",
        "not_asserted",
      ]);
    });

    it("bad_entropy and entropy_expired", async function () {
      const { w, a, e } = world();
      const unknown = makeBeacon(a, { ...e, value: localEntropy("never published") });
      expect(await reasonOf(w, [received(unknown, T0)], T0)).to.equal("bad_entropy");
      const published = e.timestamp * 1000;
      const b = makeBeacon(a, e);
      expect(await reasonOf(w, [received(b, published + 180_000)], published + 180_000)).to.equal(null);
      expect(await reasonOf(w, [received(b, published + 180_001)], published + 180_001)).to.equal(
        "entropy_expired",
      );
      expect(await reasonOf(w, [received(b, published - 1)], published - 1)).to.equal("entropy_expired");
    });

    it("invalid_packet: the payload does not rebuild from the two entropies and the key id", async function () {
      const { w, a, e } = world();
      const { type: _t, signature: _s, ...fields } = makeBeacon(a, e);
      const b = signBeaconFields(a.signer, DOMAIN, { ...fields, payload: localEntropy("other") });
      expect(b.payload).to.not.equal(beaconPayload(b.remoteEntropy, b.localEntropy, b.device));
      expect(await reasonOf(w, [received(b, T0)], T0)).to.equal("invalid_packet");
    });

    it("invalid_region: a location outside every region plan", async function () {
      const { w, e } = world();
      const sydney = w.addDevice("syd", { lat: -33.87, lng: 151.21 });
      expect(await reasonOf(w, [received(makeBeacon(sydney, e), T0)], T0)).to.equal("invalid_region");
    });

    it("invalid_frequency: off the channel's frequency, or no such channel", async function () {
      const { w, a, e } = world();
      const off = makeBeacon(a, e, { frequency: 903_900_001 });
      const noChannel = makeBeacon(a, e, { channel: 72 });
      expect(await reasonOf(w, [received(off, T0)], T0)).to.equal("invalid_frequency");
      expect(await reasonOf(w, [received(noChannel, T0)], T0)).to.equal("invalid_frequency");
      const ok = makeBeacon(a, e, { channel: 65, frequency: 904_600_000, dataRate: 4 });
      expect(await reasonOf(w, [received(ok, T0)], T0)).to.equal(null);
    });

    it("invalid_data_rate: a data rate the channel does not allow", async function () {
      const { w, a, e } = world();
      expect(await reasonOf(w, [received(makeBeacon(a, e, { dataRate: 4 }), T0)], T0)).to.equal(
        "invalid_data_rate",
      );
      expect(await reasonOf(w, [received(makeBeacon(a, e, { dataRate: 9 }), T0)], T0)).to.equal(
        "invalid_data_rate",
      );
    });

    it("invalid_tx_power: above the conducted limit or, with the antenna gain, the EIRP limit", async function () {
      const { w, a, e } = world();
      const big = w.addDevice("big-antenna", { gain: 80, northM: 9_000 });
      expect(await reasonOf(w, [received(makeBeacon(a, e, { txPower: 301 }), T0)], T0)).to.equal(
        "invalid_tx_power",
      );
      expect(await reasonOf(w, [received(makeBeacon(a, e, { txPower: 300 }), T0)], T0)).to.equal(null);
      // 29 dBm + 8 dBi = 37 dBm EIRP > 36
      expect(await reasonOf(w, [received(makeBeacon(big, e, { txPower: 290 }), T0)], T0)).to.equal(
        "invalid_tx_power",
      );
      expect(await reasonOf(w, [received(makeBeacon(big, e, { txPower: 280 }), T0)], T0)).to.equal(null);
      // EU868: 14 dBm + 3 dBi = 17 dBm > 16 dBm EIRP
      const paris = w.addDevice("paris", { lat: 48.8566, lng: 2.3522 });
      const eu = { channel: 0, frequency: 868_100_000, dataRate: 5 };
      expect(await reasonOf(w, [received(makeBeacon(paris, e, { ...eu, txPower: 140 }), T0)], T0)).to.equal(
        "invalid_tx_power",
      );
      expect(await reasonOf(w, [received(makeBeacon(paris, e, { ...eu, txPower: 130 }), T0)], T0)).to.equal(
        null,
      );
    });

    it("duplicate: the same beacon again; the earliest receipt wins", async function () {
      const { w, a, e } = world();
      const b = makeBeacon(a, e);
      const work = await verify(w, [received(b, T0 + 20), received(b, T0 + 10)]);
      expect(work.verdicts.map((v) => [v.receivedAt, v.reason])).to.deep.equal([
        [T0 + 10, null],
        [T0 + 20, "duplicate"],
      ]);
    });

    it("invalid_packet: another device re-signing an overheard beacon as its own, however fast", async function () {
      const { w, a, witnesses, e } = world();
      const b = makeBeacon(a, e);
      const thief = witnesses[0]!;
      // the payload binds the beaconer's key id: the same entropies give the thief another payload
      expect(makeBeacon(thief, e, { localEntropy: b.localEntropy }).payload).to.not.equal(b.payload);
      const { type: _t, signature: _s, ...fields } = b;
      const stolen = signBeaconFields(thief.signer, DOMAIN, { ...fields, device: thief.keyId });
      expect(stolen.payload).to.equal(b.payload);
      const witness = makeWitness(witnesses[1]!, a, b);
      // the copy arrives first: it is refused, and the victim keeps its beacon and its witness
      const work = await verify(w, [
        received(stolen, T0 + 5),
        received(b, T0 + 10),
        received(witness, T0 + 11),
      ]);
      expect(work.verdicts.map((v) => [v.device, v.reason])).to.deep.equal([
        [thief.keyId, "invalid_packet"],
        [a.keyId, null],
        [witnesses[1]!.keyId, null],
      ]);
    });

    it("irregular_interval: one beacon per device per 6-hour window", async function () {
      const { w, a, e } = world();
      const later = w.publishEntropy(EPOCH_START + 6 * 3_600_000 + 10_000);
      const first = makeBeacon(a, e);
      const second = makeBeacon(a, e, { localEntropy: localEntropy("second") });
      const nextWindow = makeBeacon(a, later);
      const work = await verify(w, [
        received(second, T0 + 2),
        received(first, T0 + 1),
        received(nextWindow, later.timestamp * 1000 + 1_000),
      ]);
      expect(work.verdicts.map((v) => v.reason)).to.deep.equal([null, "irregular_interval", null]);
      // a refused first beacon does not use up the window
      const badFirst = makeBeacon(a, { ...e, value: localEntropy("unknown") });
      const work2 = await verify(w, [received(badFirst, T0 + 1), received(second, T0 + 2)]);
      expect(work2.verdicts.map((v) => v.reason)).to.deep.equal(["bad_entropy", null]);
    });
  });

  describe("witness checks", function () {
    async function witnessReason(
      build: (ctx: ReturnType<typeof world> & { beacon: BeaconReport }) => WitnessReport | ReceivedReport,
      receivedAt = T0 + 500,
      options: CoverageOptions = {},
    ) {
      const ctx = world();
      const beacon = makeBeacon(ctx.a, ctx.e);
      const built = build({ ...ctx, beacon });
      const report = "raw" in built ? built : received(built, receivedAt);
      return reasonOf(ctx.w, [received(beacon, T0), report], report.receivedAt, options);
    }

    it("passes with plausible figures from 0.8 to 3 km", async function () {
      for (let i = 0; i < 6; i++) {
        expect(
          await witnessReason(({ a, witnesses, beacon }) => makeWitness(witnesses[i]!, a, beacon)),
        ).to.equal(null);
      }
    });

    it("outside_epoch, gateway_not_found, bad_signature, denied, not_active, not_asserted", async function () {
      expect(
        await witnessReason(({ a, witnesses, beacon }) =>
          received(makeWitness(witnesses[0]!, a, beacon), EPOCH_END + 4_000),
        ),
      ).to.equal("outside_epoch");
      expect(
        await witnessReason(({ a, beacon, w }) => {
          const s = secpSignerFromSeed("ghost");
          return makeWitness({ ...w.devices[1]!, signer: s, keyId: s.keyId }, a, beacon);
        }),
      ).to.equal("gateway_not_found");
      expect(
        await witnessReason(({ a, witnesses, beacon }) => {
          const { type: _t, signature: _s, ...fields } = makeWitness(witnesses[1]!, a, beacon);
          return signWitnessFields(witnesses[2]!.signer, DOMAIN, fields);
        }),
      ).to.equal("bad_signature");
      for (const [status, reason] of [
        ["suspended", "denied"],
        ["retired", "not_active"],
      ] as const) {
        expect(
          await witnessReason(({ a, beacon, w }) =>
            makeWitness(w.addDevice("z", { status, northM: 2_000 }), a, beacon),
          ),
        ).to.equal(reason);
      }
      expect(
        await witnessReason(({ a, beacon, w }) => {
          const u = w.addDevice("z", { asserted: false });
          return signWitnessFields(u.signer, DOMAIN, {
            witness: u.keyId,
            beaconPayloadHash: payloadHash(beacon.payload),
            signal: -900,
            snr: 50,
            frequency: beacon.frequency,
            dataRate: beacon.dataRate,
            timestamp: 1n,
          });
        }),
      ).to.equal("not_asserted");
    });

    it("unknown_beacon and invalid_beacon", async function () {
      expect(
        await witnessReason(({ a, witnesses, beacon }) =>
          makeWitness(witnesses[0]!, a, beacon, { beaconPayloadHash: localEntropy("nothing") }),
        ),
      ).to.equal("unknown_beacon");
      const { w, a, witnesses, e } = world();
      const refused = makeBeacon(a, e, { txPower: 400 });
      const work = await verify(w, [
        received(refused, T0),
        received(makeWitness(witnesses[0]!, a, refused), T0 + 1),
      ]);
      expect(work.verdicts.map((v) => v.reason)).to.deep.equal(["invalid_tx_power", "invalid_beacon"]);
    });

    it("self_witness", async function () {
      expect(await witnessReason(({ a, beacon }) => makeWitness(a, a, beacon, { signal: -500 }))).to.equal(
        "self_witness",
      );
    });

    it("too_late / too_early: more than 4,000 ms from the beacon's receipt (oracle clock)", async function () {
      const make = ({ a, witnesses, beacon }: ReturnType<typeof world> & { beacon: BeaconReport }) =>
        makeWitness(witnesses[0]!, a, beacon);
      expect(await witnessReason(make, T0 + 4_000)).to.equal(null);
      expect(await witnessReason(make, T0 + 4_001)).to.equal("too_late");
      expect(await witnessReason(make, T0 - 4_000)).to.equal(null);
      expect(await witnessReason(make, T0 - 4_001)).to.equal("too_early");
    });

    it("invalid_region: the witness is in another region", async function () {
      expect(
        await witnessReason(({ a, beacon, w }) =>
          makeWitness(w.addDevice("paris", { lat: 48.8566, lng: 2.3522 }), a, beacon, { signal: -1300 }),
        ),
      ).to.equal("invalid_region");
    });

    it("invalid_frequency: more than 100 kHz from the beacon", async function () {
      const make = (df: number) => (ctx: ReturnType<typeof world> & { beacon: BeaconReport }) =>
        makeWitness(ctx.witnesses[0]!, ctx.a, ctx.beacon, { frequency: ctx.beacon.frequency + df });
      expect(await witnessReason(make(100_000))).to.equal(null);
      expect(await witnessReason(make(-100_000))).to.equal(null);
      expect(await witnessReason(make(100_001))).to.equal("invalid_frequency");
      expect(await witnessReason(make(-100_001))).to.equal("invalid_frequency");
    });

    it("invalid_data_rate: heard at another data rate than sent", async function () {
      expect(
        await witnessReason(({ a, witnesses, beacon }) =>
          makeWitness(witnesses[0]!, a, beacon, { dataRate: 3 }),
        ),
      ).to.equal("invalid_data_rate");
    });

    it("below_min_distance: H3 res-11 grid distance < 8 (~300 m)", async function () {
      const near = (m: number) => (ctx: ReturnType<typeof world> & { beacon: BeaconReport }) =>
        makeWitness(
          ctx.w.addDevice("near", { northM: m }),
          ctx.a,
          ctx.beacon,
          m === 0 ? { signal: -500 } : {},
        );
      expect(await witnessReason(near(150))).to.equal("below_min_distance");
      expect(await witnessReason(near(0))).to.equal("below_min_distance");
      expect(await witnessReason(near(600))).to.equal(null);
      // the rule is the grid distance, checked independently here
      const { w, a } = world();
      const d = w.addDevice("near", { northM: 150 });
      const grid = h3.gridDistance(
        h3.cellToParent(a.record.location!.toString(16), 11),
        h3.cellToParent(d.record.location!.toString(16), 11),
      );
      expect(grid).to.be.lessThan(8);
    });

    it("max_distance_exceeded: more than 100 km", async function () {
      expect(
        await witnessReason(({ a, beacon, w }) =>
          makeWitness(w.addDevice("far", { northM: 101_000 }), a, beacon),
        ),
      ).to.equal("max_distance_exceeded");
      expect(
        await witnessReason(({ a, beacon, w }) =>
          makeWitness(w.addDevice("far", { northM: 99_000 }), a, beacon),
        ),
      ).to.equal(null);
    });

    it("bad_rssi: stronger than free space allows, beyond the 3 dB tolerance", async function () {
      // Witness 2 km north. Bound with the 25 m position slack: d = 1,975 m at 903.9 MHz,
      // FSPL = 20 log10(4 pi 1975 903.9e6 / c) = 97.481 dB; max = 27 + 3 - 97.481 + 3 = -64.481 dBm;
      // with the 3 dB tolerance signals up to -61.481 dBm pass: -615 tenths passes, -614 fails.
      const ctx = world();
      const wit = ctx.w.addDevice("two-km", { northM: 2_000 });
      const centres = [ctx.a, wit].map((d) => h3.cellToLatLng(d.record.location!.toString(16)));
      const dist = h3.greatCircleDistance(centres[0]!, centres[1]!, "m");
      const fspl = 20 * Math.log10((4 * Math.PI * (dist - 25) * 903.9e6) / 299_792_458);
      const limitTenths = Math.floor((27 + 3 - fspl + 3 + 3) * 10);
      expect(limitTenths).to.be.within(-620, -610); // the cell centres are ~2 km apart
      const beacon = makeBeacon(ctx.a, ctx.e);
      const run = async (signal: number) =>
        reasonOf(
          ctx.w,
          [received(beacon, T0), received(makeWitness(wit, ctx.a, beacon, { signal, snr: 50 }), T0 + 9)],
          T0 + 9,
        );
      expect(await run(limitTenths)).to.equal(null);
      expect(await run(limitTenths + 1)).to.equal("bad_rssi");
    });

    it("publishes the numbers behind distance and signal verdicts in their detail (not in the record)", async function () {
      const ctx = world();
      const wit = ctx.w.addDevice("two-km", { northM: 2_000 });
      const near = ctx.w.addDevice("near", { northM: 150 });
      const centres = [ctx.a, wit].map((d) => h3.cellToLatLng(d.record.location!.toString(16)));
      const dist = h3.greatCircleDistance(centres[0]!, centres[1]!, "m");
      const bound = 27 + 3 - 20 * Math.log10((4 * Math.PI * (dist - 25) * 903.9e6) / 299_792_458) + 3;
      const beacon = makeBeacon(ctx.a, ctx.e);
      const signal = Math.ceil((bound + 3) * 10) + 5; // 0.5-1.5 dB over the bound + tolerance
      const reports = [
        received(beacon, T0),
        received(makeWitness(wit, ctx.a, beacon, { signal, snr: 50 }), T0 + 9),
        received(makeWitness(near, ctx.a, beacon, { signal: -900, snr: 50 }), T0 + 10),
      ];
      const result = await verify(ctx.w, reports);
      const rssi = at(result.verdicts, T0 + 9);
      expect(rssi.reason).to.equal("bad_rssi");
      const f1 = (x: number) => x.toFixed(1);
      expect(rssi.detail).to.equal(
        `distance ${f1(dist)} m (maximum 100000 m); grid distance not computed (>= 1000 m); ` +
          `free-space bound ${f1(bound)} dBm at ${f1(dist - 25)} m (distance - 25 m position slack) ` +
          `+ 3.0 dB tolerance = ${f1(bound + 3)} dBm; signal ${f1(signal / 10)} dBm, margin ${f1(bound + 3 - signal / 10)} dB`,
      );
      const close = at(result.verdicts, T0 + 10);
      expect(close.reason).to.equal("below_min_distance");
      const grid = h3.gridDistance(
        h3.cellToParent(ctx.a.record.location!.toString(16), 11),
        h3.cellToParent(near.record.location!.toString(16), 11),
      );
      expect(close.detail).to.match(
        new RegExp(
          `^distance 1[45][0-9]\\.[0-9] m .*; grid distance ${grid} at res 11 \\(minimum 8, margin ${grid - 8}\\);`,
        ),
      );
    });

    it("bad_snr: below the SF8 demodulation floor, or above what the signal allows", async function () {
      // SF8 floor -10 dB, tolerance 1 dB: -110 tenths passes, -111 fails.
      // Ceiling: signal - noise floor (-117.03 dBm at 125 kHz, NF 6 dB) + 1 dB:
      // at -1100 tenths (-110 dBm) SNR up to 8.03 dB passes: 80 passes, 81 fails.
      const run = (signal: number, snr: number) =>
        witnessReason(({ a, witnesses, beacon }) => makeWitness(witnesses[0]!, a, beacon, { signal, snr }));
      expect(await run(-1000, -110)).to.equal(null);
      expect(await run(-1000, -111)).to.equal("bad_snr");
      expect(await run(-1100, 80)).to.equal(null);
      expect(await run(-1100, 81)).to.equal("bad_snr");
    });

    it("duplicate: the same witness device twice for one beacon; the earliest counts", async function () {
      const { w, a, witnesses, e } = world();
      const beacon = makeBeacon(a, e);
      const one = makeWitness(witnesses[0]!, a, beacon);
      const two = makeWitness(witnesses[0]!, a, beacon, { timestamp: one.timestamp + 1n });
      const work = await verify(w, [received(two, T0 + 20), received(one, T0 + 10), received(beacon, T0)]);
      expect(work.verdicts.map((v) => [v.receivedAt - T0, v.reason])).to.deep.equal([
        [0, null],
        [10, null],
        [20, "duplicate"],
      ]);
      // the identical text twice is a duplicate too
      const again = await verify(w, [received(beacon, T0), received(one, T0 + 10), received(one, T0 + 11)]);
      expect(at(again.verdicts, T0 + 11).reason).to.equal("duplicate");
    });
  });

  describe("witness selection", function () {
    it("rewards at most 14 witnesses, ranked by keccak256(remoteEntropy ‖ beaconer ‖ witness), not by arrival", async function () {
      const { w, a, e } = world();
      const many = Array.from({ length: 17 }, (_, i) =>
        w.addDevice(`m${i}`, {
          northM: 1_000 + 350 * (i % 6),
          eastM: -2_000 + 450 * Math.floor(i / 6) * (i % 2 ? 1 : -1),
        }),
      );
      const beacon = makeBeacon(a, e);
      const witnessReports = many.map((d) => makeWitness(d, a, beacon));
      const rank = (d: TestDevice) =>
        ethers.solidityPackedKeccak256(["bytes32", "address", "address"], [e.value, a.keyId, d.keyId]);
      const expected = new Set(
        [...many]
          .sort((x, y) => (rank(x) < rank(y) ? -1 : 1))
          .slice(0, 14)
          .map((d) => d.keyId),
      );

      for (const seed of [1, 2, 3]) {
        const order = shuffled(witnessReports, seed);
        const work = await verify(w, [received(beacon, T0), ...order.map((r, i) => received(r, T0 + 1 + i))]);
        const valid = work.verdicts.filter((v) => v.kind === "witness");
        expect(valid.every((v) => v.reason === null)).to.equal(true);
        const chosen = new Set(valid.filter((v) => v.selected).map((v) => v.device));
        expect(chosen).to.deep.equal(expected);
        // n = 14: beaconer 2 - 0.8^10, each selected witness (4 - (1 - 0.8^10)) / 14, the others 0
        expect(formatWad(at(work.verdicts, T0).units)).to.equal("1.8926258176");
        expect(valid.filter((v) => v.selected).every((v) => v.units === 221_955_298_742_857_142n)).to.equal(
          true,
        );
        expect(valid.filter((v) => !v.selected).every((v) => v.units === 0n)).to.equal(true);
      }
    });

    it("the selection size follows the parameters", async function () {
      const { w, a, witnesses, e } = world();
      const beacon = makeBeacon(a, e);
      const work = await verify(
        w,
        [received(beacon, T0), ...witnesses.map((d, i) => received(makeWitness(d, a, beacon), T0 + 1 + i))],
        { params: { ...new CoverageVerifier().params, maxWitnessesPerBeacon: 2 } },
      );
      expect(work.verdicts.filter((v) => v.selected && v.kind === "witness").length).to.equal(2);
      expect(formatWad(at(work.verdicts, T0).units)).to.equal("0.5");
    });
  });

  describe("input handling", function () {
    it("refuses a bad receive time from the store with an exception (a bug upstream, not a report)", async function () {
      const { w } = world();
      let error: unknown;
      try {
        await verify(w, [{ raw: "{}", receivedAt: 1.5 }]);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(TypeError);
    });

    it("ties on receive time and id (a forged copy in the same millisecond) do not depend on input order", async function () {
      const { w, a, witnesses, e } = world();
      const beacon = makeBeacon(a, e);
      const { type: _t, signature: _s, ...fields } = beacon;
      const forged = signBeaconFields(secpSignerFromSeed("mallory"), DOMAIN, fields);
      const witness = makeWitness(witnesses[0]!, a, beacon);
      const reports = [
        received(beacon, T0),
        received(forged, T0),
        received(beacon, T0),
        received(witness, T0 + 1),
      ];
      const records = new Set<string>();
      for (const seed of [1, 2, 3, 4, 5]) {
        const work = await verify(w, shuffled(reports, seed));
        expect(work.verdicts.map((v) => v.reason).sort()).to.deep.equal(
          ["bad_signature", "duplicate", null, null].sort(),
        );
        records.add(toHex(concatChunks(work.record)));
      }
      expect(records.size).to.equal(1);
    });

    it("tells each stage's end in order with the items it went over; the result does not depend on it", async function () {
      const { w, a, witnesses, e } = world();
      const beacon = makeBeacon(a, e);
      const reports = [
        received(beacon, T0),
        ...witnesses.slice(0, 3).map((x, i) => received(makeWitness(x, a, beacon), T0 + 100 + i)),
        received(makeWitness(witnesses[3]!, a, beacon), T0 + 100), // another witness in the same ms
        { raw: "x", receivedAt: T0 + 5 },
      ];
      const told: [string, number, number][] = [];
      const chain = new ChainView(w.chain());
      // chunks of 2 reports: stage 1 tells "prepare" three times, the last at 6 of 6
      const options: CoverageOptions = { preparer: "inline", spill: { chunkRows: 2 } };
      const quiet = await runCoverageEpoch(chain, { reports, entropy: w.entropy }, options);
      const result = await runCoverageEpoch(
        chain,
        { reports, entropy: w.entropy },
        { ...options, progress: (step, done, total) => told.push([step, done, total]) },
      );
      expect(told).to.deep.equal([
        ["prepare", 2, 6],
        ["prepare", 4, 6],
        ["prepare", 6, 6],
        ["beacons", 1, 1], // beacons of any verdict
        ["witnesses", 4, 4], // witnesses that passed the per-report checks
        ["reciprocity", 4, 4], // witness entries of the accepted beacons' lists
        ["one-way", 0, 0], // devices the one-way test scored: none (no witness beaconed)
        ["selection", 1, 1], // accepted beacons
        ["payout", 5, 5], // credited devices
        ["commit", 5, 5], // owners paid
      ]);
      expect(result.commit.epochRoot).to.deep.equal(quiet.commit.epochRoot);
      // an epoch with no report still tells each stage once
      told.length = 0;
      await new CoverageVerifier({
        preparer: "inline",
        progress: (step, done, total) => told.push([step, done, total]),
      }).verify(chain, { reports: [], entropy: w.entropy });
      // the verifier's stages (payout and commit are runEpoch's)
      expect(told.map(([step]) => step)).to.deep.equal(COVERAGE_STAGES.slice(0, -2));
      expect(told.every(([, done, total]) => done === 0 && total === 0)).to.equal(true);
    });

    it("the verdict record is 8 + 104 bytes per report", async function () {
      const { w, a, e } = world();
      const work = await verify(w, [received(makeBeacon(a, e), T0), { raw: "x", receivedAt: T0 + 1 }]);
      expect(concatChunks(work.record).length).to.equal(8 + 2 * 104);
    });

    it("accepts any text as a report: malformed texts get their own verdicts", async function () {
      const { w, a, e } = world();
      const good = encodeReport(makeBeacon(a, e));
      const work = await verify(w, [
        { raw: good, receivedAt: T0 },
        { raw: good.toUpperCase(), receivedAt: T0 + 1 },
        { raw: "", receivedAt: T0 + 2 },
      ]);
      expect(work.verdicts.map((v) => v.reason)).to.deep.equal([null, "malformed", "malformed"]);
      expect(toHex(new Uint8Array(0))).to.equal("0x");
    });
  });

  describe("hardening rules (found by the network simulator)", function () {
    it("same_owner: a witness of a beacon of a device with the same owner is refused", async function () {
      const w = new World();
      const ring = `0x${"ab".repeat(20)}` as const;
      const a = w.addDevice("ring-a", { owner: ring });
      const b = w.addDevice("ring-b", { owner: ring, northM: 2_000 });
      const c = w.addDevice("other", { northM: -2_000 });
      const e = w.publishEntropy(T0 - 30_000);
      const beacon = makeBeacon(a, e);
      const reports = [
        received(beacon, T0),
        received(makeWitness(b, a, beacon), T0 + 1),
        received(makeWitness(c, a, beacon), T0 + 2),
      ];
      const work = await verify(w, reports);
      expect(work.verdicts.map((v) => v.reason)).to.deep.equal([null, "same_owner", null]);
      // the rule is a parameter: off, the ring's witness passes
      const off = await verify(w, reports, {
        params: { ...DEFAULT_COVERAGE_PARAMS, refuseSameOwnerWitness: false },
      });
      expect(off.verdicts.map((v) => v.reason)).to.deep.equal([null, null, null]);
    });

    /**
     * X and four neighbours witness each other once each; X reports their beacons `gapDb` stronger
     * (relative to the free-space bound) than they report X's.
     */
    async function reciprocityCase(gapDb: number, neighbours = 4, options: CoverageOptions = {}) {
      const w = new World();
      const x = w.addDevice("x");
      const ys = Array.from({ length: neighbours }, (_, i) =>
        w.addDevice(`y${i}`, { northM: 1_500 * Math.cos(i), eastM: 1_500 * Math.sin(i) + 400 * i }),
      );
      const e = w.publishEntropy(T0 - 30_000);
      const reports: ReceivedReport[] = [];
      const xb = makeBeacon(x, e);
      reports.push(received(xb, T0));
      ys.forEach((y, i) => {
        const yb = makeBeacon(y, e);
        reports.push(received(yb, T0 + 10 * (i + 1)));
        reports.push(received(makeWitness(x, y, yb, { marginDb: 10 }), T0 + 10 * (i + 1) + 1));
        reports.push(received(makeWitness(y, x, xb, { marginDb: 10 + gapDb }), T0 + 2 + i));
      });
      const work = await verify(w, reports, options);
      const ofX = work.verdicts.filter((v) => v.kind === "witness" && v.device === x.keyId);
      const others = work.verdicts.filter((v) => v.kind !== "witness" || v.device !== x.keyId);
      return { ofX, others };
    }

    it("nonreciprocal_signal: a device hearing others 20 dB better than they hear it loses its witnesses", async function () {
      const { ofX, others } = await reciprocityCase(20);
      expect(ofX.map((v) => v.reason)).to.deep.equal(Array(4).fill("nonreciprocal_signal"));
      expect(ofX.every((v) => !v.selected && v.units === 0n)).to.equal(true);
      // every beacon (its own too) and its neighbours' witness reports are untouched
      expect(others.length).to.equal(5 + 4);
      expect(others.every((v) => v.reason === null)).to.equal(true);
    });

    it("nonreciprocal_signal: within the tolerance, with too few pairs, or switched off, nothing is refused", async function () {
      expect((await reciprocityCase(8)).ofX.map((v) => v.reason)).to.deep.equal(Array(4).fill(null));
      // two reciprocal pairs are fewer than minPairs (3): no judgement
      expect((await reciprocityCase(20, 2)).ofX.map((v) => v.reason)).to.deep.equal([null, null]);
      const off = await reciprocityCase(20, 4, { params: { ...DEFAULT_COVERAGE_PARAMS, reciprocity: null } });
      expect(off.ofX.map((v) => v.reason)).to.deep.equal(Array(4).fill(null));
    });
    /**
     * A relay X, 20 km from a cluster of `far` devices that hear a hub H (and H hears them: they
     * are listening). X files witness reports of every far beacon; `confirmed` of the far devices
     * witness X's beacon back. X and H also hear each other.
     */
    async function oneWayCase(
      far: number,
      confirmed: number,
      options: CoverageOptions & { xBeacons?: boolean; listening?: boolean } = {},
    ) {
      const w = new World();
      const x = w.addDevice("relay", { northM: 20_000 });
      const hub = w.addDevice("hub", { northM: 10_000 });
      const ys = Array.from({ length: far }, (_, i) =>
        w.addDevice(`far${i}`, { northM: 700 * Math.cos(i), eastM: 700 * Math.sin(i) + 600 * i }),
      );
      const e = w.publishEntropy(T0 - 30_000);
      const reports: ReceivedReport[] = [];
      let t = T0;
      const xb = makeBeacon(x, e);
      if (options.xBeacons !== false) reports.push(received(xb, t++));
      const hb = makeBeacon(hub, e);
      reports.push(received(hb, t++));
      reports.push(received(makeWitness(x, hub, hb), t++));
      if (options.xBeacons !== false) reports.push(received(makeWitness(hub, x, xb), t++));
      ys.forEach((y, i) => {
        const yb = makeBeacon(y, e);
        reports.push(received(yb, t++));
        reports.push(received(makeWitness(x, y, yb, { marginDb: 20 }), t++));
        reports.push(received(makeWitness(hub, y, yb), t++));
        if (options.listening !== false) reports.push(received(makeWitness(y, hub, hb), t++));
        if (i < confirmed && options.xBeacons !== false) reports.push(received(makeWitness(y, x, xb), t++));
      });
      const work = await verify(w, reports, options);
      const ofX = work.verdicts.filter((v) => v.kind === "witness" && v.device === x.keyId);
      const others = work.verdicts.filter((v) => v.kind !== "witness" || v.device !== x.keyId);
      return { ofX, others };
    }

    it("one_way_links: a device claiming six links nobody confirms loses every witness report of the epoch", async function () {
      const { ofX, others } = await oneWayCase(6, 0);
      // its six unconfirmed claims and its confirmed link to the hub alike
      expect(ofX.map((v) => v.reason)).to.deep.equal(Array(7).fill("one_way_links"));
      expect(ofX.every((v) => !v.selected && v.units === 0n)).to.equal(true);
      // beacons (its own too), the hub's and the far devices' reports are untouched
      expect(others.every((v) => v.reason === null)).to.equal(true);
    });

    it("one_way_links: confirmed links, few unconfirmed ones, deaf ends, no own beacon or the rule off refuse nothing", async function () {
      const none = (n: number) => Array(n).fill(null);
      // every far device heard X back
      expect((await oneWayCase(6, 6)).ofX.map((v) => v.reason)).to.deep.equal(none(7));
      // three unconfirmed of six: within minExcess (fading, an antenna pattern, a noisy site)
      expect((await oneWayCase(6, 3)).ofX.map((v) => v.reason)).to.deep.equal(none(7));
      // the far devices filed nothing in the epoch: they were not shown to be listening
      expect((await oneWayCase(6, 0, { listening: false })).ofX.map((v) => v.reason)).to.deep.equal(none(7));
      // X sent no beacon: nobody had a chance to hear it
      expect((await oneWayCase(6, 0, { xBeacons: false })).ofX.map((v) => v.reason)).to.deep.equal(none(7));
      const off = await oneWayCase(6, 0, { params: { ...DEFAULT_COVERAGE_PARAMS, oneWayLinks: null } });
      expect(off.ofX.map((v) => v.reason)).to.deep.equal(none(7));
    });
  });

  describe("completeness", function () {
    it("every reason code was reached by a crafted report above, and valid reports passed", function () {
      // Runs after the suites above (mocha keeps their order); filtered out with them under --grep.
      expect([...reached].sort()).to.deep.equal([...REASONS, "valid"].sort());
    });
  });
});
