/**
 * The demo's storage and compute epochs (issues 18 and 19), after their sections: three oracle
 * services (fresh stores, the storage and compute sets' keys) close each subnetwork's epochs through
 * the one epoch path (`--work storage`, `--work compute`), from the first epoch with paid storage or
 * compute usage to the last; every oracle reaches the same roots; all sign; oracle 0 collects the
 * others' signatures over HTTP and posts the last epoch of each kind to the kind's distributor; after
 * the challenge window the providers' owners claim. The first epoch closed carries the pool funded
 * before it (nothing was posted on those distributors yet). No top-level side effects.
 */
import { formatUnits, keccak256, toUtf8Bytes, Wallet } from "ethers";

import type { StoredEpochResult } from "@hexmesh/oracle";
import { OwnerMerkleTree, SUBNETWORK_COMPUTE, SUBNETWORK_STORAGE, type Hex } from "@hexmesh/protocol";

import { suiteAddresses } from "../../deploy/lib/suite.js";
import type { RewardsDistributor } from "../../typechain-types/index.js";
import { closeEpoch, passChallengeWindow } from "./epoch.js";
import { OracleSet, type OracleSetOptions } from "./oracles.js";
import { COMPUTE_CLASS_SUBNETWORK, STORAGE_CLASS_SUBNETWORK, type Suite } from "./suite.js";

export interface WorkEpochOutcome {
  readonly work: "storage" | "compute";
  /** The epochs closed (first to last) and the one posted (the last). */
  readonly epochs: readonly bigint[];
  readonly root: Hex;
  /** Each owner's MESH claimed from the kind's distributor. */
  readonly claimed: readonly { readonly owner: Hex; readonly amount: bigint }[];
}

const short = (a: string) => `${a.slice(0, 6)}…${a.slice(-4)}`;
const fmt = (v: bigint) => Number(formatUnits(v, 18)).toLocaleString("en-US", { maximumFractionDigits: 2 });

/** The last epoch with a UsageRecorded log of `subnetwork` (null: none). */
export async function lastUsageEpoch(
  suite: Suite,
  subnetwork: Hex,
): Promise<{ first: bigint; last: bigint } | null> {
  const logs = await suite.credits.queryFilter(
    suite.credits.filters.UsageRecorded(subnetwork),
    suite.deployBlock,
    "latest",
  );
  if (logs.length === 0) return null;
  const epochs = logs.map((l) => l.args.epoch);
  return {
    first: epochs.reduce((a, b) => (a < b ? a : b)),
    last: epochs.reduce((a, b) => (a > b ? a : b)),
  };
}

/** Claims every owner's leaf of `r` from `distributor` (the root is live); what each got. */
async function claimAll(suite: Suite, distributor: RewardsDistributor, r: StoredEpochResult) {
  const tree = OwnerMerkleTree.build(r.owners.map((o) => ({ owner: o.owner, amount: o.cumulative })));
  const out: { owner: Hex; amount: bigint }[] = [];
  for (const o of r.owners) {
    const before = await suite.token.balanceOf(o.owner);
    await (await distributor.claim(o.owner, o.cumulative, tree.proof(o.owner))).wait();
    out.push({ owner: o.owner, amount: (await suite.token.balanceOf(o.owner)) - before });
  }
  return out;
}

/**
 * An OracleSet's storage and compute configuration on `suite` (config `works`, `storage`, `compute`):
 * each kind's distributor and class subnetwork, StorageDeals, ComputeJobs, the prover and the
 * benchmark sender (no blob sources: nothing is re-executed).
 */
export async function workOracleOptions(
  suite: Suite,
  o: { readonly prover: string; readonly benchmarkSender: string },
): Promise<Pick<OracleSetOptions, "works" | "storage" | "compute">> {
  const storageDistributor = await suite.storageDistributor.getAddress();
  const computeDistributor = await suite.computeDistributor.getAddress();
  return {
    works: {
      storage: { distributor: storageDistributor, classSubnetwork: STORAGE_CLASS_SUBNETWORK },
      compute: { distributor: computeDistributor, classSubnetwork: COMPUTE_CLASS_SUBNETWORK },
    },
    storage: {
      deals: await suite.storageDeals.getAddress(),
      suspensions: await suite.storageSuspensions.getAddress(),
      distributor: storageDistributor,
      fromBlock: suite.deployBlock,
    },
    compute: {
      jobs: await suite.computeJobs.getAddress(),
      distributor: computeDistributor,
      fromBlock: suite.deployBlock,
      prover: o.prover,
      sources: [],
      benchmark: { sender: o.benchmarkSender },
    },
  };
}

export async function runWorkEpochsSection(
  suite: Suite,
  rpcUrl: string,
  print: (line: string) => void,
): Promise<WorkEpochOutcome[]> {
  const storage = await lastUsageEpoch(suite, SUBNETWORK_STORAGE);
  const compute = await lastUsageEpoch(suite, SUBNETWORK_COMPUTE);
  if (storage === null || compute === null)
    throw new Error("the storage and compute sections recorded no usage");
  const first = storage.first < compute.first ? storage.first : compute.first;
  const last = storage.last > compute.last ? storage.last : compute.last;
  // Both kinds' epochs ended and funded (distribute), as at any close.
  await closeEpoch(suite, last);
  const poster = new Wallet(keccak256(toUtf8Bytes("hexmesh demo work poster")));
  await (await suite.deployer.sendTransaction({ to: poster.address, value: 10n ** 19n })).wait();
  const oracles = await OracleSet.start({
    rpcUrl,
    addresses: { ...(await suiteAddresses(suite)), credits: await suite.credits.getAddress() },
    fromBlock: suite.deployBlock,
    oracleKeys: suite.oracleKeys.map((k) => k.privateKey),
    posterKey: poster.privateKey,
    firstEpoch: Number(first),
    // The demo sends no availability benchmarks: the compute pool pays paid usage only.
    ...(await workOracleOptions(suite, { prover: poster.address, benchmarkSender: poster.address })),
  });
  const outcomes: WorkEpochOutcome[] = [];
  try {
    // Every oracle probes the day once, so each holds the set's signed results before a close.
    for (const s of oracles.services) await s.storage!.round();
    for (const [work, distributor, upTo] of [
      ["storage", suite.storageDistributor, storage.last],
      ["compute", suite.computeDistributor, compute.last],
    ] as const) {
      const epochs: bigint[] = [];
      for (let e = first; e < upTo; e++) {
        await oracles.closeWork(e, work);
        epochs.push(e);
      }
      const posted = await oracles.runWorkEpoch(upTo, work);
      epochs.push(upTo);
      const r = posted.results[0]!;
      print(
        `${work.padEnd(8)} epochs ${first}..${upTo} closed by 3 oracles (same roots); epoch ${upTo} root ${r.root.slice(0, 10)}… ${posted.outcome.status} to the ${work} distributor with 2 of 3 signatures (collected over HTTP, ?work=${work})`,
      );
      const usage = r.summary.usage;
      print(
        `         epoch ${upTo}: pool ${fmt(BigInt(r.summary.pool))} MESH, usage rewards ${formatUnits(BigInt(usage?.paid ?? "0"), 18)} MESH to ${usage?.providers.length ?? 0} provider(s) for ${usage?.providers.reduce((a, p) => a + BigInt(p.credits), 0n) ?? 0n} credits, ${r.summary.devices} device(s) with ${work === "storage" ? "proven capacity" : "passed benchmarks"}; ${fmt(r.totalCumulative)} MESH owed in all since epoch ${first} (the first closed carries the pool funded before it)`,
      );
      await passChallengeWindow({ distributor, time: suite.time });
      const claimed = await claimAll(suite, distributor, r);
      for (const c of claimed)
        print(`         ${short(c.owner)} claimed ${fmt(c.amount)} MESH from the ${work} distributor`);
      outcomes.push({ work, epochs, root: r.root, claimed });
    }
  } finally {
    await oracles.stop();
  }
  return outcomes;
}
