import { expect } from "chai";
import fc from "fast-check";

import {
  cellText,
  ChainIndexError,
  ChainView,
  CoverageWeighting,
  keyIdOf,
  type ChainIndex,
  type DeviceRecord,
  type Hex,
} from "@hexmesh/protocol";

import { World } from "../../helpers/oracle.js";

/** The record as plain data, read through its getters (a view's records are not plain objects). */
const plain = (r: DeviceRecord): DeviceRecord => ({
  id: r.id,
  onboardOrder: r.onboardOrder,
  owner: r.owner,
  key: r.key,
  status: r.status,
  location: r.location,
  gain: r.gain,
  elevation: r.elevation,
});

const hexOf = (bytes: number[]) => `0x${bytes.map((b) => b.toString(16).padStart(2, "0")).join("")}` as Hex;
const bytes = (n: number) => fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n });

/** Random devices: both key types, every status, locations valid, absent, zero and out of the uint64 range. */
const arbitraryDevices = fc
  .uniqueArray(
    fc.record({
      id: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
      onboardOrder: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      owner: fc.integer({ min: 0, max: 5 }), // few owners: most own several devices
      key: fc.oneof(
        bytes(20).map((a) => ({ type: "secp256k1" as const, address: hexOf(a) })),
        fc.tuple(bytes(32), bytes(32)).map(([x, y]) => ({ type: "p256" as const, x: hexOf(x), y: hexOf(y) })),
      ),
      status: fc.constantFrom("active" as const, "suspended" as const, "retired" as const),
      location: fc.oneof(
        fc.constant(null),
        fc.constant(0n),
        fc.constant(0x8c2830828cf01ffn), // a valid resolution-12 cell
        fc.constant(0x8a2830828cf7fffn), // a valid cell at resolution 10, not 12
        fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
        fc.bigInt({ min: 1n << 64n, max: 1n << 70n }),
        fc.bigInt({ min: -(1n << 70n), max: -1n }),
      ),
      gain: fc.oneof(fc.integer({ min: 10, max: 150 }), fc.double({ noNaN: true })),
      elevation: fc.oneof(fc.integer({ min: -100, max: 10_000 }), fc.double({ noNaN: true })),
    }),
    { selector: (d) => d.id, maxLength: 40 },
  )
  .map((ds): DeviceRecord[] => {
    // onboard orders and key ids must be unique
    const seen = new Set<bigint>();
    const unseen = (o: bigint): bigint => {
      while (seen.has(o)) o = (o + 1n) % (1n << 64n);
      seen.add(o);
      return o;
    };
    return ds
      .map((d) => ({
        ...d,
        onboardOrder: unseen(d.onboardOrder),
        owner: `0x${String(d.owner).repeat(40)}` as Hex,
      }))
      .filter((d, i, all) => all.findIndex((e) => keyIdOf(e.key) === keyIdOf(d.key)) === i);
  });

function indexOf(devices: DeviceRecord[], overrides: Partial<ChainIndex> = {}): ChainIndex {
  const world = new World();
  return { ...world.chain(), devices, bonds: [], ...overrides };
}

describe("protocol / chain / view: devices in columns", function () {
  it("reads every device back exactly as given, sorted by id, with its key id, cell and index", function () {
    fc.assert(
      fc.property(arbitraryDevices, (devices) => {
        const chain = new ChainView(indexOf(devices));
        const sorted = [...devices].sort((a, b) => (a.id < b.id ? -1 : 1));
        expect(chain.devices.length).to.equal(sorted.length);
        chain.devices.forEach((d, i) => {
          const r = sorted[i]!;
          expect(plain(d.record)).to.deep.equal(r);
          expect(d.index).to.equal(i);
          expect(d.keyId).to.equal(keyIdOf(r.key));
          expect(d.cell).to.equal(cellText(r.location));
          expect(d.located).to.equal(cellText(r.location) !== null);
          expect(chain.deviceById(r.id)).to.equal(d);
          expect(chain.device(keyIdOf(r.key))).to.equal(d);
          // what the store writes: the plain record
          expect(JSON.stringify(d.record, (_, v) => (typeof v === "bigint" ? `${v}n` : v))).to.equal(
            JSON.stringify(r, (_, v) => (typeof v === "bigint" ? `${v}n` : v)),
          );
        });
      }),
      { numRuns: 60 },
    );
  });

  it("gives the keys of its devices in its order without building it (what a verification worker takes)", function () {
    fc.assert(
      fc.property(arbitraryDevices, fc.nat(), (devices, shift) => {
        // The index's own order does not matter: the view's is by id.
        const turned = devices.map((_, i) => devices[(i + shift) % devices.length]!);
        const index = indexOf(turned);
        const chain = new ChainView(index);
        expect(ChainView.keysOf(index)).to.deep.equal(chain.devices.map((d) => d.record.key));
        expect(ChainView.domainOf(index)).to.deep.equal(chain.domain);
      }),
      { numRuns: 60 },
    );
  });

  it("keeps the index without its devices, and the bonds and cumulative amounts by owner", function () {
    const world = new World();
    const a = world.addDevice("a");
    world.addDevice("b", { owner: a.record.owner });
    world.previous.push({ owner: a.record.owner, amount: 5n });
    const chain = new ChainView(world.chain());
    expect("devices" in chain.index).to.equal(false);
    expect(chain.index.epoch).to.equal(world.epoch);
    expect(chain.bondedDevices(a.record.owner)).to.equal(100);
    expect(chain.previousCumulative(a.record.owner)).to.equal(5n);
    expect(chain.devices.map((d) => d.record.owner)).to.deep.equal([a.record.owner, a.record.owner]);
  });

  it("refuses a status it does not know and an onboard order past uint64", function () {
    const world = new World();
    const d = world.addDevice("a");
    const index = (r: Partial<DeviceRecord>) => world.chain({ devices: [{ ...d.record, ...r }] });
    expect(() => new ChainView(index({ status: "paused" as DeviceRecord["status"] }))).to.throw(
      ChainIndexError,
      `device ${d.record.id}: bad status paused`,
    );
    expect(() => new ChainView(index({ onboardOrder: 1n << 64n }))).to.throw(
      ChainIndexError,
      `device ${d.record.id}: onboard order ${1n << 64n} out of range or taken`,
    );
    expect(new ChainView(index({ onboardOrder: (1n << 64n) - 1n })).devices[0]!.record.onboardOrder).to.equal(
      (1n << 64n) - 1n,
    );
  });

  it("a weighting credits the entries of its own view only", function () {
    const world = new World();
    world.addDevice("beaconer");
    world.addDevice("witness", { northM: 3_000 });
    const chain = new ChainView(world.chain());
    const other = new ChainView(world.chain());
    const weighting = new CoverageWeighting(chain, 14);
    expect(() => weighting.addBeacon(other.devices[0]!, [chain.devices[1]!])).to.throw(
      RangeError,
      "is not an entry of the weighting's chain view",
    );
    expect(() => weighting.addBeacon(chain.devices[0]!, [chain.devices[1]!])).to.not.throw();
  });
});
