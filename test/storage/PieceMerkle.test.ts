import { randomBytes } from "node:crypto";

import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";

import { buildPieceProofs, pieceHeight, pieceLeafCount, verifyPieceProof } from "@hexmesh/protocol";

import type { PieceMerkleMock } from "../../typechain-types/index.js";

const { ethers } = await network.create();

describe("PieceMerkle (Solidity) agrees with @hexmesh/protocol's piece proofs", function () {
  let mock: PieceMerkleMock;
  before(async function () {
    mock = (await ethers.deployContract("PieceMerkleMock")) as unknown as PieceMerkleMock;
  });

  it("height(leafCount) = ceil(log2(leafCount))", async function () {
    for (const n of [1, 2, 3, 4, 5, 1000, 2 ** 30, 2 ** 30 + 1, 2 ** 35]) {
      expect(await mock.height(n)).to.equal(BigInt(pieceHeight(n)));
    }
  });

  it("accepts every proof the TS builder makes and rejects the ones the TS verifier rejects", async function () {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2000 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        async (size, picks, tamper) => {
          const data = randomBytes(size);
          const leafCount = pieceLeafCount(size);
          const { piece, proofs } = buildPieceProofs(
            data,
            picks.map((p) => p % leafCount),
          );
          for (const p of proofs) {
            expect(await mock.verify(piece.root, p.leafIndex, p.leaf, p.path)).to.equal(true);
            // A wrong leaf, a wrong index or a changed sibling: both verifiers say no.
            const leaf =
              "0x" + (BigInt(p.leaf) ^ (1n << BigInt(tamper % 256))).toString(16).padStart(64, "0");
            expect(await mock.verify(piece.root, p.leafIndex, leaf, p.path)).to.equal(false);
            expect(verifyPieceProof(piece.root, size, { ...p, leaf })).to.equal(false);
            if (p.path.length > 0) {
              const other = p.leafIndex ^ (1 << tamper % p.path.length);
              expect(await mock.verify(piece.root, other, p.leaf, p.path)).to.equal(
                other < leafCount && verifyPieceProof(piece.root, size, { ...p, leafIndex: other }),
              );
              const path = [...p.path];
              path[tamper % path.length] = "0x" + "00".repeat(31) + "01";
              expect(await mock.verify(piece.root, p.leafIndex, p.leaf, path)).to.equal(false);
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
