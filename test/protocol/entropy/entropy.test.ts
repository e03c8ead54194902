import { expect } from "chai";
import { ethers } from "ethers";

import {
  ENTROPY_INTERVAL_MS,
  ENTROPY_VALIDITY_MS,
  EntropyLog,
  entropyValue,
  makeEntropy,
  type Hex,
} from "@hexmesh/protocol";

const BLOCK = ethers.keccak256(ethers.toUtf8Bytes("block")) as Hex;

describe("protocol / entropy", function () {
  it("entropy = keccak256(abi.encode(blockHash, timestamp))", function () {
    const expected = ethers.keccak256(
      ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256"], [BLOCK, 1767225600]),
    );
    expect(entropyValue(BLOCK, 1767225600)).to.equal(expected);
    expect(makeEntropy(BLOCK, 1767225600)).to.deep.equal({
      blockHash: BLOCK,
      timestamp: 1767225600,
      value: expected,
    });
  });

  it("is valid from publication to 180 s after, inclusive; unknown values are bad_entropy", function () {
    const e = makeEntropy(BLOCK, 1_000);
    const log = new EntropyLog([e]);
    expect(ENTROPY_VALIDITY_MS).to.equal(180_000);
    expect(log.check(e.value, 999_999)).to.deep.equal({ ok: false, reason: "entropy_expired" });
    expect(log.check(e.value, 1_000_000)).to.deep.equal({ ok: true });
    expect(log.check(e.value, 1_180_000)).to.deep.equal({ ok: true });
    expect(log.check(e.value, 1_180_001)).to.deep.equal({ ok: false, reason: "entropy_expired" });
    expect(log.check(BLOCK, 1_000_000)).to.deep.equal({ ok: false, reason: "bad_entropy" });
  });

  it("refuses a log entry that does not recompute or is malformed", function () {
    const e = makeEntropy(BLOCK, 1_000);
    expect(() => new EntropyLog([{ ...e, timestamp: 1_001 }])).to.throw(/does not recompute/);
    expect(() => new EntropyLog([{ ...e, blockHash: "0x12" as Hex }])).to.throw(/malformed/);
    expect(() => new EntropyLog([{ ...e, timestamp: -1 }])).to.throw(/malformed/);
  });

  it("keeps the earliest publication of the same value, whatever the order", function () {
    const e = makeEntropy(BLOCK, 1_000);
    expect(new EntropyLog([e, e]).size).to.equal(1);
  });
});
