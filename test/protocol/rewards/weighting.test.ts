import { expect } from "chai";

import {
  ChainView,
  COVERAGE_METRICS,
  coverageDensity,
  coveragePools,
  CoverageWeighting,
  WAD,
  type DeviceEntry,
  type DeviceWork,
} from "@hexmesh/protocol";

import { World } from "../../helpers/oracle.js";

const THIRD = 333_333_333_333_333_333n; // 1/3 at 18 decimals, rounded down
const byId = (ds: readonly DeviceWork[]) => [...ds].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));

/** A beaconer sharing its res-10 hex with two other active devices (scale 1/3), and six lone devices. */
function setup() {
  const world = new World();
  world.addDevice("beaconer");
  world.addDevice("crowd-1", { eastM: 1 });
  world.addDevice("crowd-2", { eastM: 2 });
  for (let k = 1; k <= 6; k++) world.addDevice(`lone-${k}`, { northM: 5_000 * k });
  // not counted in the density: a suspended device next to lone-1, and a device never asserted
  world.addDevice("suspended", { northM: 5_001, status: "suspended" });
  world.addDevice("unasserted", { asserted: false });
  const chain = new ChainView(world.chain());
  const entry = (id: bigint): DeviceEntry => chain.devices.find((d) => d.record.id === id)!;
  return { chain, beaconer: entry(1n), lone: [4n, 5n, 6n, 7n, 8n, 9n].map(entry) };
}

describe("protocol / rewards / coverage weighting", function () {
  it("pools: beacons get the basis points, witnesses the rest; three metrics per device", function () {
    expect(coveragePools(2_000)).to.deep.equal([
      { name: "beacon", bps: 2_000 },
      { name: "witness", bps: 8_000 },
    ]);
    expect(COVERAGE_METRICS).to.deep.equal(["beaconUnits", "witnessUnits", "scale"]);
  });

  it("density counts active devices with an asserted location only", function () {
    const { chain, beaconer, lone } = setup();
    const density = coverageDensity(chain);
    expect(density.scaleOf(beaconer.cell!)).to.deep.equal({ num: 1n, den: 3n });
    expect(density.scaleOf(lone[0]!.cell!)).to.deep.equal({ num: 1n, den: 1n }); // the suspended one is not counted
  });

  it("weight = HIP-15 units x scale, a witness scaled at the beaconer's hex", function () {
    const { chain, beaconer, lone } = setup();
    const weighting = new CoverageWeighting(chain, 14);
    // n = 5: beaconer 1.2, witnesses 0.76 each
    const units = weighting.addBeacon(beaconer, lone.slice(0, 5));
    expect(units).to.deep.equal({ beaconer: 1_200_000_000_000_000_000n, witness: 760_000_000_000_000_000n });
    const devices = byId(weighting.devices());
    expect(devices.map((d) => d.deviceId)).to.deep.equal([1n, 4n, 5n, 6n, 7n, 8n]);
    expect(devices[0]).to.deep.equal({
      deviceId: 1n,
      weights: [units.beaconer * THIRD, 0n],
      metrics: [units.beaconer, 0n, THIRD],
    });
    for (const d of devices.slice(1)) {
      // the witness's own hex is uncrowded (scale 1), but it is paid at the beaconer's 1/3
      expect(d.weights).to.deep.equal([0n, units.witness * THIRD]);
      expect(d.metrics).to.deep.equal([0n, units.witness, WAD]);
    }
  });

  it("sums a device's beacons and witness reports, in any order of beacons", function () {
    const { chain, beaconer, lone } = setup();
    const beacons: [DeviceEntry, DeviceEntry[]][] = [
      [beaconer, [lone[0]!, lone[1]!]], // n = 2: beaconer 0.5, witnesses 1, at scale 1/3
      [lone[0]!, [lone[1]!, beaconer, lone[2]!, lone[3]!, lone[4]!, lone[5]!]], // n = 6: 1.36, 3.64/6, at scale 1
      [lone[1]!, []], // nobody heard it: earns nothing, credits nobody
    ];
    const run = (order: typeof beacons) => {
      const w = new CoverageWeighting(chain, 14);
      for (const [b, ws] of order) w.addBeacon(b, ws);
      return byId(w.devices());
    };
    const forward = run(beacons);
    expect(run([...beacons].reverse())).to.deep.equal(forward);
    const six = 606_666_666_666_666_666n;
    const lone2 = forward.find((d) => d.deviceId === 5n)!;
    expect(lone2.metrics).to.deep.equal([0n, WAD + six, WAD]);
    expect(lone2.weights).to.deep.equal([0n, WAD * THIRD + six * WAD]);
    const b = forward.find((d) => d.deviceId === 1n)!;
    expect(b.metrics).to.deep.equal([WAD / 2n, six, THIRD]);
    expect(b.weights).to.deep.equal([(WAD / 2n) * THIRD, six * WAD]);
  });

  it("a beacon nobody witnessed earns nothing; more witnesses than the cap is refused; devices are taken once", function () {
    const { chain, beaconer, lone } = setup();
    const w = new CoverageWeighting(chain, 2);
    expect(w.addBeacon(beaconer, [])).to.deep.equal({ beaconer: 0n, witness: 0n });
    expect(() => w.addBeacon(beaconer, lone.slice(0, 3))).to.throw(RangeError, /at most 2/);
    expect(w.devices()).to.deep.equal([]);
    expect(() => w.devices(), "its sums are freed as they are taken").to.throw(Error, /taken once/);
    expect(() => w.addBeacon(beaconer, lone.slice(0, 1))).to.throw(Error, /credits no more beacons/);
  });
});
