/**
 * Gas of the emissions controller and the rewards distributor, as receipt gasUsed, with claims
 * against a real 1,000,000-owner StandardMerkleTree built here with @openzeppelin/merkle-tree
 * (a few minutes; nothing is cached). Every claim key is the WORST of SAMPLE owners whose proofs
 * are 20 deep (the depth of ~95% of the leaves at 1,000,000); the console also shows min and mean.
 *
 * - emissions.distribute: one epoch, one pool, mock staking vault, steady state (not the first).
 * - distributor.postRoot.k3 / .k5: a root with 3 (5) signatures, threshold 3 (5) of 7, previous root
 *   already live. A post that also promotes a matured root costs about distributor.finalize more.
 * - distributor.finalize: promoting a matured root (paid once per root: finalize, or the first
 *   claim or post after the window).
 * - distributor.claim.first.1M: an owner's first claim, owner holding no MESH (fresh claimed word
 *   and fresh token balance: two zero-to-non-zero SSTOREs).
 * - distributor.claim.first.1M.toHolder: first claim of an owner who already holds MESH.
 * - distributor.claim.next.1M: a later claim (claimed word and balance already non-zero).
 * - distributor.claimWithSig.1M: gasless first claim of an EOA owner holding no MESH, fee paid to a
 *   relayer that holds MESH.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { Wallet } from "ethers";
import { network } from "hardhat";

import {
  buildTree,
  deployRewardsSystem,
  distributorDomain,
  MESH,
  packedSignatures,
  signClaim,
  type Entry,
} from "../../test/helpers/rewards.js";
import type { GasBench } from "./types.js";

const OWNERS = 1_000_000;
const DEPTH = 20;
const SAMPLE = 8;
const KEYED = 32;
const ZERO_HASH = "0x" + "00".repeat(32);

interface Leaf {
  index: number;
  owner: string;
  cumulative: bigint;
}

function ownerEntries(): { entries: Entry[]; keyed: Wallet[] } {
  const keyed = Array.from(
    { length: KEYED },
    (_, i) => new Wallet(bytesToHex(keccak_256(utf8ToBytes(`bench owner ${i}`)))),
  );
  const entries: Entry[] = [];
  const seed = new Uint8Array(4);
  for (let i = 0; i < OWNERS - KEYED; i++) {
    new DataView(seed.buffer).setUint32(0, i);
    const h = keccak_256(seed);
    // 0.001 .. ~0.5 MESH each: the tree's total stays below one epoch's coverage pool.
    const amount = 10n ** 15n + (BigInt("0x" + bytesToHex(h.subarray(0, 8))) % (5n * 10n ** 17n));
    entries.push(["0x" + bytesToHex(h.subarray(12)), amount]);
  }
  for (const w of keyed) entries.push([w.address, MESH(1) / 3n]);
  return { entries, keyed };
}

function stats(label: string, values: bigint[]): bigint {
  const max = values.reduce((m, v) => (v > m ? v : m), 0n);
  const min = values.reduce((m, v) => (v < m ? v : m), max);
  const mean = values.reduce((s, v) => s + v, 0n) / BigInt(values.length);
  console.log(`  rewards: ${label.padEnd(36)} min ${min}  mean ${mean}  max ${max}  (n=${values.length})`);
  return max;
}

const bench: GasBench = async () => {
  const started = Date.now();
  const { entries, keyed } = ownerEntries();
  const tree = buildTree(entries);
  const total = entries.reduce((s, [, c]) => s + c, 0n);
  console.log(
    `  rewards: built a ${OWNERS.toLocaleString("en-US")}-leaf tree in ${(Date.now() - started) / 1000}s`,
  );

  // Owners with 20-deep proofs, in tree order: 3 x SAMPLE plain owners, SAMPLE keyed owners.
  const keyedSet = new Set(keyed.map((w) => w.address.toLowerCase()));
  const plain: Leaf[] = [];
  const signing: Leaf[] = [];
  for (const [index, [owner, cumulative]] of tree.entries()) {
    const isKeyed = keyedSet.has(owner.toLowerCase());
    if (!isKeyed && plain.length >= 3 * SAMPLE) continue;
    if (isKeyed && signing.length >= SAMPLE) continue;
    if (tree.getProof(index).length !== DEPTH) continue;
    (isKeyed ? signing : plain).push({ index, owner, cumulative });
    if (plain.length >= 3 * SAMPLE && signing.length >= SAMPLE) break;
  }
  if (plain.length < 3 * SAMPLE || signing.length < SAMPLE) throw new Error("not enough 20-deep leaves");
  const fresh = plain.slice(0, SAMPLE);
  const repeat = plain.slice(SAMPLE, 2 * SAMPLE);
  const holders = plain.slice(2 * SAMPLE, 3 * SAMPLE);

  const { ethers, networkHelpers } = await network.create();
  const sys = await deployRewardsSystem(ethers, { oracles: 7, threshold: 3 });
  const { controller, distributor, token, oracles, admin, treasury } = sys;
  const [, , , , relayer] = await ethers.getSigners();
  const domain = await distributorDomain(distributor);
  const gas = async (tx: Promise<{ wait: () => Promise<unknown> }>) => {
    const receipt = (await (await tx).wait()) as { gasUsed: bigint; status: number };
    if (receipt.status !== 1) throw new Error("transaction failed");
    return receipt.gasUsed;
  };

  // Two distributions; the second is the steady state.
  await networkHelpers.time.increase(sys.epochLength);
  await gas(controller.distribute(1));
  await networkHelpers.time.increase(sys.epochLength);
  const distribute = await gas(controller.distribute(1));

  // Epoch 0: a small root in which the `repeat` owners hold half of their later amounts; they claim it.
  const smallEntries: Entry[] = repeat.map((l) => [l.owner, l.cumulative / 2n]);
  const small = buildTree(smallEntries);
  const smallRoot = {
    epoch: 0n,
    root: small.root,
    totalCumulative: smallEntries.reduce((s, [, c]) => s + c, 0n),
    dataHash: ZERO_HASH,
    oracleSetVersion: 1n,
  };
  await gas(distributor.postRoot(smallRoot, await packedSignatures(oracles.slice(0, 3), domain, smallRoot)));
  await networkHelpers.time.increase(sys.challengeWindow);
  await gas(distributor.finalize());
  for (const [i, [owner, cumulative]] of small.entries()) {
    await gas(distributor.claim(owner, cumulative, small.getProof(i)));
  }

  // Epoch 1: the 1,000,000-owner root, 3 signatures.
  const bigRoot = {
    epoch: 1n,
    root: tree.root,
    totalCumulative: total,
    dataHash: ZERO_HASH,
    oracleSetVersion: 1n,
  };
  const postK3 = await gas(
    distributor.postRoot(bigRoot, await packedSignatures(oracles.slice(2, 5), domain, bigRoot)),
  );
  await networkHelpers.time.increase(sys.challengeWindow);
  const finalize = await gas(distributor.finalize());

  const claimFirst: bigint[] = [];
  for (const l of fresh)
    claimFirst.push(await gas(distributor.claim(l.owner, l.cumulative, tree.getProof(l.index))));
  const claimNext: bigint[] = [];
  for (const l of repeat)
    claimNext.push(await gas(distributor.claim(l.owner, l.cumulative, tree.getProof(l.index))));
  const claimToHolder: bigint[] = [];
  for (const l of holders) {
    await token.connect(treasury).transfer(l.owner, MESH(1));
    claimToHolder.push(await gas(distributor.claim(l.owner, l.cumulative, tree.getProof(l.index))));
  }
  await token.connect(treasury).transfer(relayer!.address, MESH(1));
  const claimWithSig: bigint[] = [];
  const fee = (c: bigint) => c / 100n;
  for (const l of signing) {
    const wallet = keyed.find((w) => w.address.toLowerCase() === l.owner.toLowerCase())!;
    const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 3600n;
    const request = {
      owner: l.owner,
      cumulative: l.cumulative,
      relayer: relayer!.address,
      fee: fee(l.cumulative),
      nonce: 0n,
      deadline,
    };
    const signature = await signClaim(wallet, domain, request);
    claimWithSig.push(
      await gas(distributor.connect(relayer!).claimWithSig(request, tree.getProof(l.index), signature)),
    );
  }

  // Epoch 2 under a 5-of-7 set.
  await networkHelpers.time.increase(sys.epochLength);
  await gas(controller.distribute(1));
  await gas(
    distributor.connect(admin).setOracleSet(
      oracles.map((o) => o.address),
      5,
    ),
  );
  const root2 = { ...bigRoot, epoch: 2n, oracleSetVersion: 2n };
  const postK5 = await gas(
    distributor.postRoot(root2, await packedSignatures(oracles.slice(1, 6), domain, root2)),
  );

  // Sanity: every owner holds exactly its leaf (plus what it held before, minus a relayer fee).
  const expected: [string, bigint][] = [
    ...fresh.map((l): [string, bigint] => [l.owner, l.cumulative]),
    ...repeat.map((l): [string, bigint] => [l.owner, l.cumulative]),
    ...holders.map((l): [string, bigint] => [l.owner, l.cumulative + MESH(1)]),
    ...signing.map((l): [string, bigint] => [l.owner, l.cumulative - fee(l.cumulative)]),
  ];
  for (const [owner, amount] of expected) {
    const balance = await token.balanceOf(owner);
    if (balance !== amount) throw new Error(`${owner} holds ${balance}, expected ${amount}`);
  }
  const result = {
    "emissions.distribute": distribute,
    "distributor.postRoot.k3": postK3,
    "distributor.postRoot.k5": postK5,
    "distributor.finalize": finalize,
    "distributor.claim.first.1M": stats("claim.first.1M", claimFirst),
    "distributor.claim.first.1M.toHolder": stats("claim.first.1M.toHolder", claimToHolder),
    "distributor.claim.next.1M": stats("claim.next.1M", claimNext),
    "distributor.claimWithSig.1M": stats("claimWithSig.1M", claimWithSig),
  };
  console.log(`  rewards: done in ${(Date.now() - started) / 1000}s`);
  return result;
};
export default bench;
