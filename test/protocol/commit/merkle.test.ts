import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { ethers } from "ethers";
import fc from "fast-check";

import { OwnerMerkleTree, toHex, verifyOwnerProof, type Hex, type MerkleLeafValue } from "@hexmesh/protocol";

const owner = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => toHex(b));
const amount = fc.oneof(
  fc.bigInt({ min: 0n, max: 10n ** 30n }),
  fc.constant((1n << 256n) - 1n),
  fc.constant(0n),
);
const leaves = (min: number, max: number) =>
  fc.uniqueArray(fc.record({ owner, amount }), { minLength: min, maxLength: max, selector: (v) => v.owner });

function library(values: readonly MerkleLeafValue[]) {
  return StandardMerkleTree.of(
    values.map((v) => [v.owner, v.amount.toString()]),
    ["address", "uint256"],
  );
}

function expectSame(values: readonly MerkleLeafValue[], proofEvery = 1) {
  const ours = OwnerMerkleTree.build(values);
  const theirs = library(values);
  expect(ours.root).to.equal(theirs.root);
  values.forEach((v, i) => {
    if (i % proofEvery !== 0) return;
    expect(ours.proof(v.owner), `proof ${i}`).to.deep.equal(theirs.getProof(i));
    expect(
      StandardMerkleTree.verify(
        ours.root,
        ["address", "uint256"],
        [v.owner, v.amount.toString()],
        ours.proof(v.owner),
      ),
    ).to.equal(true);
  });
  return { ours, theirs };
}

describe("oracle / Merkle tree builder (StandardMerkleTree compatible)", function () {
  it("matches @openzeppelin/merkle-tree for 1, 2, 3, 4, 5, 7, 8, 9 and 1,000 leaves", function () {
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 1_000]) {
      const values = Array.from({ length: n }, (_, i) => ({
        owner: ethers.dataSlice(ethers.id(`owner ${n} ${i}`), 12).toLowerCase() as Hex,
        amount: BigInt(i) * 10n ** 18n + 1n,
      }));
      expectSame(values, n > 100 ? 37 : 1);
    }
  });

  it("matches the library on random sets: same root, same proofs (property)", function () {
    fc.assert(
      fc.property(leaves(1, 40), (values) => void expectSame(values)),
      { numRuns: 150 },
    );
  });

  it("one leaf: the root is the leaf hash and the proof is empty", function () {
    const v = { owner: `0x${"ab".repeat(20)}` as Hex, amount: 5n };
    const { ours } = expectSame([v]);
    const leaf = ethers.keccak256(
      ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["address", "uint256"], [v.owner, 5n])),
    );
    expect(ours.root).to.equal(leaf);
    expect(ours.proof(v.owner)).to.deep.equal([]);
  });

  it("dump() loads in the library and gives the same tree", function () {
    const values = Array.from({ length: 11 }, (_, i) => ({
      owner: ethers.dataSlice(ethers.id(`d${i}`), 12).toLowerCase() as Hex,
      amount: BigInt(1000 - i),
    }));
    const ours = OwnerMerkleTree.build(values);
    const loaded = StandardMerkleTree.load(ours.dump());
    expect(loaded.root).to.equal(ours.root);
    expect(loaded.dump()).to.deep.equal(library(values).dump());
  });

  it("refuses empty sets, duplicate owners, bad addresses and out-of-range amounts", function () {
    const a = `0x${"01".repeat(20)}` as Hex;
    expect(() => OwnerMerkleTree.build([])).to.throw(/at least one leaf/);
    expect(() =>
      OwnerMerkleTree.build([
        { owner: a, amount: 1n },
        { owner: a, amount: 2n },
      ]),
    ).to.throw(/twice/);
    expect(() => OwnerMerkleTree.build([{ owner: "0x01" as Hex, amount: 1n }])).to.throw(/bad owner/);
    expect(() => OwnerMerkleTree.build([{ owner: a, amount: -1n }])).to.throw(/out of range/);
    expect(() => OwnerMerkleTree.build([{ owner: a, amount: 1n << 256n }])).to.throw(/out of range/);
    const t = OwnerMerkleTree.build([{ owner: a, amount: 1n }]);
    expect(() => t.proof(`0x${"02".repeat(20)}`)).to.throw(/not in the tree/);
    expect(() => t.proofAt(3)).to.throw(/out of bounds/);
    expect(t.has(a)).to.equal(true);
    expect(t.length).to.equal(1);
  });

  it("verifyOwnerProof accepts exactly the leaves the library's verify accepts (property)", function () {
    fc.assert(
      fc.property(leaves(1, 40), fc.nat(), (values, pick) => {
        const tree = OwnerMerkleTree.build(values);
        const theirs = library(values);
        const i = pick % values.length;
        const v = values[i]!;
        const proof = tree.proof(v.owner);
        expect(verifyOwnerProof(tree.root, v, proof)).to.equal(true);
        // Checksummed or upper-case hex is the same leaf (wallets hand out checksummed addresses).
        expect(
          verifyOwnerProof(
            tree.root.toUpperCase().replace("0X", "0x") as Hex,
            { owner: ethers.getAddress(v.owner) as Hex, amount: v.amount },
            proof,
          ),
        ).to.equal(true);
        // One wei more, another owner, another root, a changed or missing sibling: refused, as by the library.
        const more = { owner: v.owner, amount: v.amount + 1n };
        expect(verifyOwnerProof(tree.root, more, proof)).to.equal(false);
        if (more.amount < 1n << 256n)
          expect(
            StandardMerkleTree.verify(
              theirs.root,
              ["address", "uint256"],
              [more.owner, more.amount.toString()],
              proof,
            ),
          ).to.equal(false);
        const other = values[(i + 1) % values.length]!;
        if (other.owner !== v.owner) expect(verifyOwnerProof(tree.root, other, proof)).to.equal(false);
        expect(verifyOwnerProof(`0x${"00".repeat(32)}` as Hex, v, proof)).to.equal(false);
        if (proof.length > 0) {
          expect(verifyOwnerProof(tree.root, v, proof.slice(1))).to.equal(false);
          const bent = [...proof];
          bent[0] = `0x${(BigInt(bent[0]!) ^ 1n).toString(16).padStart(64, "0")}` as Hex;
          expect(verifyOwnerProof(tree.root, v, bent)).to.equal(false);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("verifyOwnerProof refuses malformed input instead of throwing", function () {
    const values = [
      { owner: `0x${"01".repeat(20)}` as Hex, amount: 5n },
      { owner: `0x${"02".repeat(20)}` as Hex, amount: 7n },
    ];
    const tree = OwnerMerkleTree.build(values);
    const proof = tree.proof(values[0]!.owner);
    expect(verifyOwnerProof(tree.root, values[0]!, proof)).to.equal(true);
    expect(verifyOwnerProof("0x1234" as Hex, values[0]!, proof)).to.equal(false);
    expect(verifyOwnerProof(tree.root, { owner: "0x12" as Hex, amount: 5n }, proof)).to.equal(false);
    expect(verifyOwnerProof(tree.root, { owner: values[0]!.owner, amount: -5n }, proof)).to.equal(false);
    expect(verifyOwnerProof(tree.root, { owner: values[0]!.owner, amount: 1n << 256n }, proof)).to.equal(
      false,
    );
    expect(verifyOwnerProof(tree.root, values[0]!, ["0xzz" as Hex])).to.equal(false);
  });
});
