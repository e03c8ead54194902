/**
 * `npm run bench:merkle`: time to build the cumulative-rewards Merkle tree for 1,000,000 owners
 * with the oracle's builder (oracle/src/commit/merkle.ts) and with @openzeppelin/merkle-tree's
 * StandardMerkleTree.of, on the same leaves; checks the roots (and a sample of proofs) are equal.
 * Writes bench/results/merkle.json. ORACLE_BENCH_OWNERS overrides the count.
 */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";

import { keccak256, OwnerMerkleTree, toHex, type MerkleLeafValue } from "@hexmesh/protocol";

const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.join(here, "results", "merkle.json");
const OWNERS = Number(process.env.ORACLE_BENCH_OWNERS ?? 1_000_000);

console.log(
  `machine: ${os.availableParallelism()} cores, node ${process.version}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
const values: MerkleLeafValue[] = new Array(OWNERS);
const seed = new Uint8Array(4);
for (let i = 0; i < OWNERS; i++) {
  seed[0] = i >>> 24;
  seed[1] = (i >>> 16) & 0xff;
  seed[2] = (i >>> 8) & 0xff;
  seed[3] = i & 0xff;
  const h = keccak256(seed);
  // amounts from 1 wei to ~10^24 wei, owners pseudo-random addresses
  values[i] = { owner: toHex(h, 0, 20), amount: BigInt(toHex(h, 20, 10)) };
}
console.log(`${OWNERS} owners generated`);

let t = performance.now();
const ours = OwnerMerkleTree.build(values);
const oursSeconds = (performance.now() - t) / 1000;
console.log(`oracle builder:            ${oursSeconds.toFixed(2)} s  root ${ours.root}`);

const libValues = values.map((v) => [v.owner, v.amount.toString()]);
t = performance.now();
const lib = StandardMerkleTree.of(libValues, ["address", "uint256"]);
const libSeconds = (performance.now() - t) / 1000;
console.log(`@openzeppelin/merkle-tree: ${libSeconds.toFixed(2)} s  root ${lib.root}`);

const sample = Array.from({ length: 100 }, (_, k) => Math.floor((k * OWNERS) / 100));
const proofsEqual = sample.every((k) => {
  const a = ours.proofAt(k);
  const b = lib.getProof(k);
  return a.length === b.length && a.every((x, i) => x === b[i]);
});
const speedup = libSeconds / oursSeconds;
console.log(
  `speedup ${speedup.toFixed(1)}x, roots equal: ${ours.root === lib.root}, sampled proofs equal: ${proofsEqual}`,
);

const result = {
  machine: {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? "unknown",
    node: process.version,
    loadAverage1mAtStart: Number(os.loadavg()[0]!.toFixed(2)),
  },
  owners: OWNERS,
  leafEncoding: ["address", "uint256"],
  oracleBuilderSeconds: Number(oursSeconds.toFixed(3)),
  openzeppelinSeconds: Number(libSeconds.toFixed(3)),
  speedup: Number(speedup.toFixed(2)),
  rootsEqual: ours.root === lib.root,
  sampledProofsEqual: proofsEqual,
  root: ours.root,
};
await mkdir(path.dirname(outFile), { recursive: true });
await writeFile(outFile, JSON.stringify(result, null, 2) + "\n");
console.log(`wrote ${path.relative(process.cwd(), outFile)}`);
if (!result.rootsEqual || !proofsEqual) process.exitCode = 1;
