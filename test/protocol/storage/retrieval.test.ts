import { expect } from "chai";
import { AbiCoder, keccak256, toUtf8Bytes } from "ethers";

import { seedStep } from "@hexmesh/oracle/storage/keeper";
import { scoresOf } from "@hexmesh/oracle/storage/score";
import {
  MAX_RANGE_LEAVES,
  nextRetrievalScore,
  probeRange,
  RETRIEVAL_OUTCOMES,
  retrievalDay,
  retrievalOutcomeCode,
  retrievalOutcomeOf,
  scaleUsageReward,
  SCORE_ONE,
} from "@hexmesh/protocol";

const ROOT_A = "0x" + "aa".repeat(32);
const ROOT_B = "0x" + "bb".repeat(32);

/** The rule of the file comment, written out with ethers: the probed global leaf. */
function probedLeaf(dataSetId: bigint, day: bigint, totalLeaves: bigint): bigint {
  const tag = keccak256(toUtf8Bytes("hexmesh.storage.retrieval"));
  const word = keccak256(
    AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256", "uint256"], [tag, dataSetId, day]),
  );
  return BigInt(word) % totalLeaves;
}

describe("storage retrieval rules (@hexmesh/protocol storage/retrieval.ts)", function () {
  it("probes the global leaf the rule names, in the piece holding it, moved back to fit the piece", function () {
    const pieces = [
      { root: ROOT_A, size: 100 * 32 },
      { root: ROOT_B, size: 10 * 32 - 5 },
    ];
    for (let day = 0n; day < 200n; day++) {
      const r = probeRange(7n, day, pieces)!;
      const leaf = probedLeaf(7n, day, 110n);
      const [piece, local] = leaf < 100n ? [0, Number(leaf)] : [1, Number(leaf - 100n)];
      const leafCount = piece === 0 ? 100 : 10;
      const count = Math.min(MAX_RANGE_LEAVES, leafCount);
      expect(r).to.deep.equal({
        pieceIndex: piece,
        pieceRoot: piece === 0 ? ROOT_A : ROOT_B,
        pieceSize: pieces[piece]!.size,
        firstLeaf: Math.min(local, leafCount - count),
        count,
      });
      expect(r.firstLeaf + r.count).to.be.at.most(leafCount);
    }
    // Every oracle, every call: the same range; another day or data set: generally another.
    expect(probeRange(7n, 5n, pieces)).to.deep.equal(probeRange(7n, 5n, pieces));
    const firsts = new Set(
      Array.from({ length: 50 }, (_, d) => probeRange(7n, BigInt(d), pieces)!.firstLeaf),
    );
    expect(firsts.size).to.be.greaterThan(5);
    expect(probeRange(7n, 1n, [])).to.equal(null);
    expect(retrievalDay(86_399)).to.equal(0n);
    expect(retrievalDay(86_400n)).to.equal(1n);
  });

  it("scores by the integer EMA (λ = 0.95) from 1.0; scales usage below 0.9", function () {
    expect(nextRetrievalScore(SCORE_ONE, true)).to.equal(SCORE_ONE);
    expect(nextRetrievalScore(SCORE_ONE, false)).to.equal(950_000);
    let s = SCORE_ONE;
    for (let i = 0; i < 10; i++) s = nextRetrievalScore(s, false);
    expect(s).to.equal(598_735); // 0.95^10 = 0.59874, floored at each step
    expect(() => nextRetrievalScore(-1, true)).to.throw(RangeError);
    expect(() => nextRetrievalScore(SCORE_ONE + 1, true)).to.throw(RangeError);
    expect(() => nextRetrievalScore(0.5, true)).to.throw(RangeError);
    expect(scaleUsageReward(1_000n, 900_000)).to.equal(1_000n);
    expect(scaleUsageReward(1_000n, 899_999)).to.equal(899n);
    expect(scaleUsageReward(1_000n, 0)).to.equal(0n);
  });

  it("outcome codes are the indices of one list; unknown codes are refused", function () {
    RETRIEVAL_OUTCOMES.forEach((o, i) => {
      expect(retrievalOutcomeCode(o)).to.equal(i);
      expect(retrievalOutcomeOf(i)).to.equal(o);
    });
    expect(() => retrievalOutcomeOf(RETRIEVAL_OUTCOMES.length)).to.throw(RangeError);
  });

  it("folds results in order into per-device scores; thresholds at 0.9 and 0.6", function () {
    const row = (deviceId: bigint, day: bigint, outcome: string) =>
      ({ deviceId, day, dataSetId: 1n, provider: "0xp", outcome }) as never;
    const scores = scoresOf([
      ...Array.from({ length: 3 }, (_, d) => row(2n, BigInt(d), "timeout")),
      row(1n, 0n, "ok"),
    ]);
    expect(scores.map((s) => [s.deviceId, s.score, s.probes, s.failures, s.scaled, s.suspend])).to.deep.equal(
      [
        [1n, SCORE_ONE, 1, 0, false, false],
        [2n, 857_375, 3, 3, true, false],
      ],
    );
  });

  it("the keeper arms in the window, records once the challenge block is the head, and rolls stale periods", function () {
    const zero = "0x" + "00".repeat(32);
    const ds = { periodEnd: 100_000n, challengeBlock: 0n, seed: zero };
    expect(seedStep(ds, 100_000n - 1_801n, 10n)).to.equal(null);
    expect(seedStep(ds, 100_000n - 1_800n, 10n)).to.equal("arm");
    const armed = { ...ds, challengeBlock: 11n };
    expect(seedStep(armed, 99_000n, 10n)).to.equal(null);
    expect(seedStep(armed, 99_000n, 11n)).to.equal("record");
    expect(seedStep({ ...armed, seed: "0x" + "01".repeat(32) }, 99_000n, 12n)).to.equal(null);
    // The stored period ended: the next one is fresh (unarmed) and its window opens a day later.
    expect(seedStep({ ...armed, seed: "0x" + "01".repeat(32) }, 100_000n, 12n)).to.equal(null);
    expect(seedStep({ ...armed, seed: "0x" + "01".repeat(32) }, 186_400n - 1_800n, 12n)).to.equal("arm");
    expect(seedStep(armed, 100_000n + 3n * 86_400n - 100n, 12n)).to.equal("arm");
  });
});
