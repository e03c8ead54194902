import { expect } from "chai";

import { SignatureChecker } from "@hexmesh/oracle/verify/signatures";
import {
  beaconDigest,
  parseReport,
  separatorOf,
  witnessDigest,
  type Hex,
  type ReceivedReport,
} from "@hexmesh/protocol";
import { simulateEpochOnThreads } from "@hexmesh/sim/epoch-threads";
import {
  fleetDevice,
  makeFleet,
  planEpoch,
  simulateChunk,
  simulateEpoch,
  type EpochSimOptions,
} from "@hexmesh/sim/fleet";

describe("sim / an epoch in parts (planEpoch, simulateChunk, simulateEpochOnThreads)", function () {
  this.timeout(120_000);
  const fleetOptions = { devices: 90, p256Share: 0.2, spacingM: 400, seed: "parts" };
  const fleet = makeFleet(fleetOptions);
  const epoch: EpochSimOptions = {
    domain: { chainId: 31337n, verifyingContract: "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex },
    epochStart: Date.UTC(2026, 0, 1),
    epochEnd: Date.UTC(2026, 0, 2),
    beaconsPerDevice: 4,
    witnessesPerBeacon: 6,
    seed: "parts",
  };
  const whole = simulateEpoch(fleet, epoch);

  it("parts of any size, simulated apart and concatenated in plan order, are simulateEpoch's reports", () => {
    expect(whole.reports.length).to.be.greaterThan(1_000);
    for (const size of [1, 7, 64, 1_000]) {
      const plan = planEpoch(fleet.length, epoch, size);
      expect(plan.chunks.length).to.equal(4 * Math.ceil(90 / size));
      expect(plan.entropy).to.deep.equal(whole.entropy);
      expect([plan.beacons, plan.witnesses]).to.deep.equal([whole.beacons, whole.witnesses]);
      // Each part on its own (from its random state alone), in reverse, then put back in order.
      const parts = [...plan.chunks].reverse().map((c) => simulateChunk(fleet, epoch, plan, c));
      parts.reverse();
      parts.forEach((p, i) => expect(p.length, `part ${i}`).to.equal(plan.chunks[i]!.reports));
      expect(parts.flat()).to.deep.equal(whole.reports);
    }
  });

  it("spoiling still draws from where the last part left the generator", () => {
    const spoiled = simulateEpoch(fleet, { ...epoch, invalidShare: 0.1 });
    const changed = spoiled.reports.filter(
      (r, i) => r.raw !== whole.reports[i]!.raw || r.receivedAt !== whole.reports[i]!.receivedAt,
    );
    expect(changed.length).to.be.within(50, 400);
  });

  it("on worker threads: the same reports, part by part in order", async () => {
    const threaded = simulateEpochOnThreads(fleetOptions, epoch, { threads: 2, devicesPerChunk: 16 });
    expect(threaded.reports).to.equal(whole.reports.length);
    expect(threaded.entropy).to.deep.equal(whole.entropy);
    const got: ReceivedReport[] = [];
    for await (const part of threaded.parts) {
      expect(part.length).to.be.within(1, 16 * 49);
      got.push(...part);
    }
    expect(got).to.deep.equal(whole.reports);
  });

  it("with p256Nonce random, on threads: the same reports but for the P-256 signatures, all valid", async () => {
    const checker = new SignatureChecker();
    const separator = separatorOf(epoch.domain);
    const fast = simulateEpochOnThreads({ ...fleetOptions, p256Nonce: "random" }, epoch, {
      threads: 2,
      devicesPerChunk: 32,
    });
    const got: ReceivedReport[] = [];
    for await (const part of fast.parts) got.push(...part);
    expect(got.length).to.equal(whole.reports.length);
    const unsigned = (raw: string) => raw.replace(/"signature":"0x[0-9a-f]+"\}$/, "");
    let p256 = 0;
    got.forEach((r, i) => {
      const want = whole.reports[i]!;
      expect(r.receivedAt).to.equal(want.receivedAt);
      expect(unsigned(r.raw)).to.equal(unsigned(want.raw));
      const parsed = parseReport(r.raw);
      if (!parsed.ok) throw new Error(`report ${i}: ${parsed.error.code}`);
      const { report } = parsed;
      const signer = fleet.find(
        (d) => d.signer.keyId === (report.type === "beacon" ? report.device : report.witness),
      )!;
      const digest =
        report.type === "beacon" ? beaconDigest(separator, report) : witnessDigest(separator, report);
      expect(checker.verify(signer.record.key, digest, report.signature), `report ${i}`).to.equal(true);
      if (signer.record.key.type === "p256") {
        p256++;
        expect(r.raw, `report ${i}: a fresh nonce`).to.not.equal(want.raw);
      } else expect(r.raw).to.equal(want.raw);
    });
    expect(p256).to.be.within(got.length * 0.1, got.length * 0.3);
  });

  it("fleetDevice(o, i) is makeFleet(o)[i], whatever the P-256 nonce", () => {
    for (const i of [0, 1, 37, 89]) {
      expect(fleetDevice(fleetOptions, i).record).to.deep.equal(fleet[i]!.record);
      expect(fleetDevice({ ...fleetOptions, p256Nonce: "random" }, i).record).to.deep.equal(fleet[i]!.record);
    }
  });

  it("refuses a part size that is not a positive integer, spoiling on threads, and no threads", () => {
    for (const size of [0, -1, 1.5, Number.NaN])
      expect(() => planEpoch(90, epoch, size)).to.throw(
        RangeError,
        `devicesPerChunk must be a positive integer, not ${size}`,
      );
    expect(() =>
      simulateEpochOnThreads(fleetOptions, { ...epoch, invalidShare: 0.1 }, { threads: 2 }),
    ).to.throw(RangeError, "simulateEpochOnThreads does not spoil reports (invalidShare must be 0)");
    expect(() => simulateEpochOnThreads(fleetOptions, epoch, { threads: 0 })).to.throw(
      RangeError,
      "threads must be a positive integer, not 0",
    );
  });
});
