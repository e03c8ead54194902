import { keccak_256 } from "@noble/hashes/sha3.js";
import { expect } from "chai";
import fc from "fast-check";

import { toHex as hex, keccak256, keccak256Into, Keccak256Stream } from "@hexmesh/protocol";

describe("protocol / keccak256", function () {
  it("matches the known vectors", function () {
    expect(hex(keccak256(new Uint8Array(0)))).to.equal(
      "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
    );
    expect(hex(keccak256(new TextEncoder().encode("abc")))).to.equal(
      "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45",
    );
  });

  it("one-shot, into a buffer, streaming and @noble/hashes agree on every length 0..700", function () {
    const data = new Uint8Array(700).map((_, i) => (i * 131 + 7) & 0xff);
    for (let len = 0; len <= data.length; len++) {
      const input = data.subarray(0, len);
      const expected = hex(keccak_256(input));
      const into = new Uint8Array(32);
      keccak256Into(data, 0, len, into, 0);
      const stream = new Keccak256Stream();
      for (let i = 0; i < len; i += 37) stream.update(input.subarray(i, Math.min(len, i + 37)));
      expect(hex(keccak256(input)), `one-shot ${len}`).to.equal(expected);
      expect(hex(into), `into ${len}`).to.equal(expected);
      expect(hex(stream.digest()), `stream ${len}`).to.equal(expected);
    }
  });

  it("hashes a sub-range into an offset of the output (property)", function () {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(50), fc.nat(20), (bytes, a, o) => {
        const start = Math.min(a, bytes.length);
        const out = new Uint8Array(32 + o);
        keccak256Into(bytes, start, bytes.length - start, out, o);
        expect(hex(out, o, 32)).to.equal(hex(keccak_256(bytes.subarray(start))));
      }),
    );
  });

  it("writes over its own input, as the Merkle tree does (parent over its children's buffer)", function () {
    const nodes = new Uint8Array(96).map((_, i) => (i * 29 + 3) & 0xff);
    const expected = hex(keccak_256(nodes.slice(32, 96)));
    keccak256Into(nodes, 32, 64, nodes, 0);
    expect(hex(nodes, 0, 32)).to.equal(expected);
    const overlapping = hex(keccak_256(nodes.slice(0, 64)));
    keccak256Into(nodes, 0, 64, nodes, 16);
    expect(hex(nodes, 16, 32)).to.equal(overlapping);
  });

  it("keeps interleaved streams apart, and apart from one-shot calls", function () {
    const big = new Uint8Array(300_000).map((_, i) => (i * 7 + (i >>> 9)) & 0xff);
    const a = new Keccak256Stream();
    const b = new Keccak256Stream();
    const c = new Keccak256Stream();
    const cuts = [0, 1, 135, 136, 137, 70_000, 200_001, big.length];
    for (let k = 0; k + 1 < cuts.length; k++) {
      const part = big.subarray(cuts[k], cuts[k + 1]);
      a.update(part);
      keccak256(part);
      if (k % 2 === 0) b.update(part);
      c.update(part.subarray(0, 1));
    }
    const bExpected = keccak_256(
      Uint8Array.from(
        cuts.slice(0, -1).flatMap((x, k) => (k % 2 === 0 ? [...big.subarray(x, cuts[k + 1])] : [])),
      ),
    );
    const cExpected = keccak_256(Uint8Array.from(cuts.slice(0, -1).map((x) => big[x]!)));
    expect(hex(b.digest())).to.equal(hex(bExpected));
    expect(hex(a.digest())).to.equal(hex(keccak_256(big)));
    expect(hex(keccak256(big))).to.equal(hex(keccak_256(big)));
    expect(hex(c.digest())).to.equal(hex(cExpected));
  });

  it("refuses to reuse a finished stream", function () {
    const s = new Keccak256Stream();
    s.digest();
    expect(() => s.update(new Uint8Array(1))).to.throw(/after digest/);
    expect(() => s.digest()).to.throw(/twice/);
  });
});
