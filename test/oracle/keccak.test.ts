import { keccak_256 } from "@noble/hashes/sha3.js";
import { expect } from "chai";
import fc from "fast-check";

import {
  KECCAK_WASM,
  keccak256,
  keccak256Into,
  keccak256IntoJs,
  Keccak256Stream,
} from "../../oracle/src/crypto/keccak.js";
import { toHex as hex } from "../../oracle/src/util/hex.js";

describe("oracle / keccak256", function () {
  it("runs the WebAssembly permutation on this Node", function () {
    expect(KECCAK_WASM).to.equal(true);
  });

  it("matches the known vectors", function () {
    expect(hex(keccak256(new Uint8Array(0)))).to.equal(
      "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
    );
    expect(hex(keccak256(new TextEncoder().encode("abc")))).to.equal(
      "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45",
    );
  });

  it("WebAssembly, JavaScript, streaming and @noble/hashes agree on every length 0..700", function () {
    const data = new Uint8Array(700).map((_, i) => (i * 131 + 7) & 0xff);
    for (let len = 0; len <= data.length; len++) {
      const input = data.subarray(0, len);
      const expected = hex(keccak_256(input));
      const js = new Uint8Array(32);
      keccak256IntoJs(input, 0, len, js, 0);
      const stream = new Keccak256Stream();
      for (let i = 0; i < len; i += 37) stream.update(input.subarray(i, Math.min(len, i + 37)));
      expect(hex(keccak256(input)), `wasm ${len}`).to.equal(expected);
      expect(hex(js), `js ${len}`).to.equal(expected);
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

  it("refuses to reuse a finished stream", function () {
    const s = new Keccak256Stream();
    s.digest();
    expect(() => s.update(new Uint8Array(1))).to.throw(/after digest/);
    expect(() => s.digest()).to.throw(/twice/);
  });
});
