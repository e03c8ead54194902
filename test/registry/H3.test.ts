import { expect } from "chai";
import * as h3 from "h3-js";

import type { H3Mock } from "../../typechain-types/index.js";
import { coverageRun } from "../helpers/gas.js";
import { createRegistryNetwork } from "../helpers/registryFixture.js";

const { ethers, networkHelpers } = await createRegistryNetwork();

const RES = 12;
const SEED = 0x4845584d;

/** Deterministic xorshift PRNG, so a failure reproduces. */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
  return {
    float: next,
    int: (n: number) => Math.floor(next() * n),
    u64: () => (BigInt(Math.floor(next() * 2 ** 32)) << 32n) | BigInt(Math.floor(next() * 2 ** 32)),
  };
}

const hex = (h: bigint) => h.toString(16);
const PENTAGON_BASES = h3.getPentagons(0).map((c) => h3.getBaseCellNumber(c));

/** The reference answer: h3-js (the uber/h3 C library compiled to wasm). */
function reference(h: bigint): { valid: boolean; atRes12: boolean } {
  const valid = h3.isValidCell(hex(h));
  return { valid, atRes12: valid && h3.getResolution(hex(h)) === RES };
}

/** Builds an index from fields; digits past `res` are 7 unless given. */
function build(fields: {
  mode?: number;
  reserved?: number;
  high?: number;
  res: number;
  base: number;
  digits: number[];
}) {
  let h =
    (BigInt(fields.high ?? 0) << 63n) |
    (BigInt(fields.mode ?? 1) << 59n) |
    (BigInt(fields.reserved ?? 0) << 56n);
  h |= BigInt(fields.res) << 52n;
  h |= BigInt(fields.base) << 45n;
  for (let r = 1; r <= 15; r++) {
    const d = fields.digits[r - 1] ?? 7;
    h |= BigInt(d) << BigInt((15 - r) * 3);
  }
  return h;
}

function setDigit(h: bigint, r: number, d: number) {
  const shift = BigInt((15 - r) * 3);
  return (h & ~(7n << shift)) | (BigInt(d) << shift);
}

async function harnessFixture() {
  return (await ethers.deployContract("H3Mock")) as unknown as H3Mock;
}

/** Checks every index against h3-js, in batches; returns how many the reference called valid at res 12. */
async function compareAll(harness: H3Mock, cells: bigint[]) {
  let acceptedAt12 = 0;
  for (let i = 0; i < cells.length; i += 400) {
    const batch = cells.slice(i, i + 400);
    const results = await harness.check(batch, RES);
    batch.forEach((h, j) => {
      const ref = reference(h);
      const got = Number(results[j]);
      expect((got & 1) === 1, `isValidCell(${hex(h)})`).to.equal(ref.valid);
      expect((got & 2) === 2, `isValidCellAtResolution(${hex(h)}, 12)`).to.equal(ref.atRes12);
      if (ref.atRes12) acceptedAt12++;
    });
  }
  return acceptedAt12;
}

describe("H3 library (checked against h3-js)", function () {
  it("knows the 12 pentagon base cells", async function () {
    const harness = await networkHelpers.loadFixture(harnessFixture);
    expect(PENTAGON_BASES).to.have.length(12);
    for (let b = 0; b < 128; b++) {
      expect(await harness.isPentagonBaseCell(b), `base ${b}`).to.equal(PENTAGON_BASES.includes(b));
    }
  });

  it("accepts 2,000 random resolution-12 cells from random places", async function () {
    const harness = await networkHelpers.loadFixture(harnessFixture);
    const rnd = prng(SEED);
    const cells: bigint[] = [];
    for (let i = 0; i < 2000; i++) {
      const lat = Math.asin(2 * rnd.float() - 1) * (180 / Math.PI); // uniform on the sphere
      const lng = rnd.float() * 360 - 180;
      cells.push(BigInt("0x" + h3.latLngToCell(lat, lng, RES)));
    }
    expect(await compareAll(harness, cells)).to.equal(cells.length);
    const sample = cells[0]!;
    expect(await harness.resolution(sample)).to.equal(12n);
    expect(await harness.baseCell(sample)).to.equal(BigInt(h3.getBaseCellNumber(hex(sample))));
  });

  it("accepts every cell around the 12 pentagons at resolution 12, and the pentagons themselves", async function () {
    const harness = await networkHelpers.loadFixture(harnessFixture);
    const cells = h3.getPentagons(RES).flatMap((p) => h3.gridDisk(p, 3).map((c) => BigInt("0x" + c)));
    expect(await compareAll(harness, cells)).to.equal(cells.length);
  });

  it("agrees with h3-js on random digit strings under every base cell, pentagons included", async function () {
    const harness = await networkHelpers.loadFixture(harnessFixture);
    const rnd = prng(SEED + 1);
    const cells: bigint[] = [];
    for (let base = 0; base < 122; base++) {
      for (let k = 0; k < 12; k++) {
        // Mostly leading zeros under pentagons, to reach the deleted K (1) subsequence often.
        const zeros = PENTAGON_BASES.includes(base) ? rnd.int(RES) : 0;
        const digits = Array.from({ length: RES }, (_, i) => (i < zeros ? 0 : rnd.int(7)));
        cells.push(build({ res: RES, base, digits }));
      }
    }
    const accepted = await compareAll(harness, cells);
    expect(accepted).to.be.greaterThan(0);
    expect(accepted).to.be.lessThan(cells.length); // some pentagon cells led with 1
  });

  it("accepts valid cells at every resolution 0..15 and only at their own resolution", async function () {
    const harness = await networkHelpers.loadFixture(harnessFixture);
    const rnd = prng(SEED + 2);
    for (let res = 0; res <= 15; res++) {
      const cells = Array.from({ length: 20 }, () =>
        BigInt("0x" + h3.latLngToCell(rnd.float() * 170 - 85, rnd.float() * 360 - 180, res)),
      );
      await compareAll(harness, cells);
      for (const h of cells.slice(0, 3)) {
        expect(await harness.isValidCell(h)).to.equal(true);
        expect(await harness.isValidCellAtResolution(h, res)).to.equal(true);
        expect(await harness.isValidCellAtResolution(h, (res + 1) % 16)).to.equal(false);
        expect(await harness.isValidCellAtResolution(h, 16 + res)).to.equal(false);
      }
    }
  });

  describe("rejects invalid indexes, as h3-js does", function () {
    const rnd = prng(SEED + 3);
    const valid = () => BigInt("0x" + h3.latLngToCell(rnd.float() * 170 - 85, rnd.float() * 360 - 180, RES));

    async function expectAllRejected(cells: bigint[]) {
      const harness = await networkHelpers.loadFixture(harnessFixture);
      for (const h of cells) expect(reference(h).atRes12, hex(h)).to.equal(false);
      expect(await compareAll(harness, cells)).to.equal(0);
    }

    it("wrong mode (0, 2..15) and the high bit set", async function () {
      const cells: bigint[] = [];
      for (let mode = 0; mode < 16; mode++)
        if (mode !== 1) cells.push((valid() & ~(0xfn << 59n)) | (BigInt(mode) << 59n));
      cells.push(valid() | (1n << 63n));
      // Directed edges and vertexes are valid H3 indexes, but not cells.
      const origin = h3.latLngToCell(10, 10, RES);
      cells.push(
        BigInt("0x" + h3.originToDirectedEdges(origin)[0]!),
        BigInt("0x" + h3.cellToVertex(origin, 0)),
      );
      await expectAllRejected(cells);
    });

    it("reserved bits set", async function () {
      const cells = [1, 2, 3, 4, 5, 6, 7].map((r) => valid() | (BigInt(r) << 56n));
      await expectAllRejected(cells);
    });

    it("wrong resolution: the header says another resolution than the digits", async function () {
      const cells: bigint[] = [];
      for (let res = 0; res <= 15; res++) {
        if (res !== RES) cells.push((valid() & ~(0xfn << 52n)) | (BigInt(res) << 52n));
      }
      // Real cells at the neighbouring resolutions.
      cells.push(BigInt("0x" + h3.latLngToCell(1, 2, 11)), BigInt("0x" + h3.latLngToCell(1, 2, 13)));
      await expectAllRejected(cells);
    });

    it("base cells 122..127", async function () {
      const cells = [122, 123, 124, 125, 126, 127].map(
        (b) => (valid() & ~(0x7fn << 45n)) | (BigInt(b) << 45n),
      );
      await expectAllRejected(cells);
    });

    it("digit 7 within the resolution and digits other than 7 past it", async function () {
      const cells: bigint[] = [];
      for (let r = 1; r <= RES; r++) cells.push(setDigit(valid(), r, 7));
      for (let r = RES + 1; r <= 15; r++) for (let d = 0; d < 7; d++) cells.push(setDigit(valid(), r, d));
      await expectAllRejected(cells);
    });

    it("pentagon cells whose first nonzero digit is 1 (the deleted K subsequence)", async function () {
      const cells: bigint[] = [];
      for (const base of PENTAGON_BASES) {
        for (let lead = 0; lead < RES; lead++) {
          const digits = Array.from({ length: RES }, (_, i) => (i < lead ? 0 : i === lead ? 1 : rnd.int(7)));
          cells.push(build({ res: RES, base, digits }));
        }
      }
      await expectAllRejected(cells);
      // The same digit strings under a hexagon base cell are fine.
      const harness = await networkHelpers.loadFixture(harnessFixture);
      const hexagonTwin = (cells[5]! & ~(0x7fn << 45n)) | (5n << 45n);
      expect(reference(hexagonTwin).atRes12).to.equal(true);
      expect(await harness.isValidCellAtResolution(hexagonTwin, RES)).to.equal(true);
    });
  });

  it("agrees with h3-js on every single-bit flip of valid cells and on random 64-bit values", async function () {
    const harness = await networkHelpers.loadFixture(harnessFixture);
    const rnd = prng(SEED + 4);
    const cells: bigint[] = [];
    for (let i = 0; i < 40; i++) {
      const base = BigInt("0x" + h3.latLngToCell(rnd.float() * 170 - 85, rnd.float() * 360 - 180, RES));
      for (let bit = 0n; bit < 64n; bit++) cells.push(base ^ (1n << bit));
    }
    for (let i = 0; i < 1000; i++) cells.push(rnd.u64());
    // Random bodies behind a correct resolution-12 header: exercises the digit checks.
    for (let i = 0; i < 1000; i++) cells.push((0x08cn << 52n) | (rnd.u64() & ((1n << 52n) - 1n)));
    const accepted = await compareAll(harness, cells);
    expect(accepted).to.be.greaterThan(0);
  });

  it("costs little gas to validate", async function () {
    if (coverageRun) this.skip(); // instrumented code costs more gas by design
    const harness = await networkHelpers.loadFixture(harnessFixture);
    const pentagon = BigInt("0x" + h3.getPentagons(RES)[0]!);
    const child = BigInt("0x" + h3.cellToChildren(h3.cellToParent(hex(pentagon), 10), RES)[40]!);
    for (const h of [BigInt("0x" + h3.latLngToCell(0, 0, RES)), pentagon, child]) {
      const [used, ok] = await harness.gasOfValidation(h);
      expect(ok).to.equal(true);
      expect(used).to.be.lessThan(1_500n);
    }
  });
});
