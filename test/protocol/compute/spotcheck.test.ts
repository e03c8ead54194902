import { expect } from "chai";
import { AbiCoder, keccak256 } from "ethers";

import { spotCheckDraw, spotCheckSelected } from "@hexmesh/protocol";

const ZERO = "0x" + "00".repeat(32);

describe("protocol: compute spot-check selection", function () {
  it("draws keccak256(abi.encode(seed, jobId)) mod 10000, as ComputeJobs does", function () {
    for (let i = 0; i < 50; i++) {
      const seed = keccak256(new Uint8Array([i]));
      const jobId = BigInt(i) * 7919n + 1n;
      const expected =
        BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256"], [seed, jobId]))) % 10_000n;
      expect(spotCheckDraw(seed, jobId)).to.equal(Number(expected));
    }
  });

  it("selects forced jobs, jobs whose seed was out of reach, and draws under the probability", function () {
    const seed = keccak256("0x01");
    const draw = spotCheckDraw(seed, 5n);
    expect(spotCheckSelected(seed, 5n, draw + 1, false)).to.equal(true);
    expect(spotCheckSelected(seed, 5n, draw, false)).to.equal(false);
    expect(spotCheckSelected(seed, 5n, 0, true)).to.equal(true);
    expect(spotCheckSelected(ZERO, 5n, 0, false)).to.equal(true);
    expect(spotCheckSelected(seed, 5n, 10_000, false)).to.equal(true);
  });

  it("refuses a seed that is not 32 bytes of canonical hex", function () {
    expect(() => spotCheckDraw("0x12", 1n)).to.throw(/seed must be 32 bytes/);
    expect(() => spotCheckDraw("0x" + "AB".repeat(32), 1n)).to.throw(/seed must be 32 bytes/);
  });
});
