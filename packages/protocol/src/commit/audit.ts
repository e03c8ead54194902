/**
 * Audit of a published epoch result: given the canonical encoding an oracle serves and the
 * EpochRoot posted on chain, recompute everything the root and dataHash commit to (dataHash,
 * leaves and root, pool split, device and owner amounts, totals, cumulative amounts against the
 * previous root) and list every disagreement. Pure: a watcher, a browser or a test runs the same
 * check with this package alone.
 */
import { keccak256 } from "../crypto/keccak.js";
import { compareHex, toHex, ZERO_BYTES32, type Hex } from "../hex.js";
import { deviceAmounts, splitPool } from "../rewards/payout.js";
import { usageRewards } from "../rewards/usage.js";
import type { EpochRoot } from "./commit.js";
import { decodeEpochEncoding, EncodingError, type DecodedEpoch } from "./decode.js";
import { OwnerMerkleTree } from "./merkle.js";

export type AuditCode =
  | "malformed_encoding"
  | "data_hash_mismatch"
  | "epoch_mismatch"
  | "chain_mismatch"
  | "root_mismatch"
  | "total_mismatch"
  | "pool_split_mismatch"
  | "pool_not_funded"
  | "over_funded"
  | "device_amount_mismatch"
  | "owner_order"
  | "owner_amount_mismatch"
  | "distributed_mismatch"
  | "cumulative_mismatch"
  | "usage_mismatch";

export interface AuditFinding {
  readonly code: AuditCode;
  readonly message: string;
}

/** What the audit checks the encoding against: the posted root and, where known, the chain's figures. */
export interface AuditExpectation {
  /** As posted (RootPosted): epoch, root, totalCumulative, dataHash. */
  readonly posted: EpochRoot;
  readonly chainId?: bigint;
  readonly registry?: Hex;
  /**
   * The pool the chain makes available to this epoch: everything funded for epochs up to it minus
   * what the previous root already owes (the indexer's pool). `exact` when the previous root is the
   * one the oracles built on (the live root of the epoch before); otherwise only an upper bound.
   */
  readonly fundedPool?: { readonly amount: bigint; readonly exact: boolean };
  /** The distributor's total funded over all epochs: no root may owe more. */
  readonly totalFunded?: bigint;
  /** The previous root's cumulative amount per owner (absent owners: 0); omit when unknown. */
  readonly previous?: ReadonlyMap<Hex, bigint>;
  /**
   * Per provider address (lowercase), the score in parts per million its usage value was scaled by
   * (storage: the retrieval score the oracle set agreed, rewards/usage.ts). The encoding does not
   * hold scores, so a storage epoch's scaled usage is checked against these; omit: usage unscaled.
   */
  readonly usageScores?: ReadonlyMap<Hex, number>;
}

export interface EpochAudit {
  /** No finding. */
  readonly ok: boolean;
  readonly findings: readonly AuditFinding[];
  /** keccak256 of the bytes. */
  readonly dataHash: Hex;
  /** null when the bytes do not decode. */
  readonly decoded: DecodedEpoch | null;
  /** The root rebuilt from the decoded owners (zero with no owner), null when undecodable. */
  readonly rebuiltRoot: Hex | null;
  readonly tree: OwnerMerkleTree | null;
}

export function auditEpochEncoding(bytes: Uint8Array, expect: AuditExpectation): EpochAudit {
  const findings: AuditFinding[] = [];
  const add = (code: AuditCode, message: string) => findings.push({ code, message });
  const posted = expect.posted;
  const dataHash = toHex(keccak256(bytes));
  if (dataHash !== posted.dataHash)
    add(
      "data_hash_mismatch",
      `keccak256 of the encoding is ${dataHash}, the posted dataHash ${posted.dataHash}`,
    );
  let d: DecodedEpoch;
  try {
    d = decodeEpochEncoding(bytes);
  } catch (e) {
    if (!(e instanceof EncodingError)) throw e;
    add("malformed_encoding", e.message);
    return { ok: false, findings, dataHash, decoded: null, rebuiltRoot: null, tree: null };
  }
  if (d.epoch !== posted.epoch)
    add("epoch_mismatch", `the encoding is of epoch ${d.epoch}, posted ${posted.epoch}`);
  if (expect.chainId !== undefined && d.chainId !== expect.chainId)
    add("chain_mismatch", `the encoding names chain ${d.chainId}, expected ${expect.chainId}`);
  if (expect.registry !== undefined && d.registry !== expect.registry)
    add("chain_mismatch", `the encoding names registry ${d.registry}, expected ${expect.registry}`);

  // Leaves and root.
  let tree: OwnerMerkleTree | null = null;
  let rebuiltRoot: Hex = ZERO_BYTES32;
  for (let i = 1; i < d.owners.length; i++) {
    if (compareHex(d.owners[i - 1]!.owner, d.owners[i]!.owner) >= 0)
      add("owner_order", `owners not strictly ascending at ${i}: ${d.owners[i]!.owner}`);
  }
  if (d.owners.length > 0 && findings.every((f) => f.code !== "owner_order")) {
    tree = OwnerMerkleTree.build(d.owners.map((o) => ({ owner: o.owner, amount: o.cumulative })));
    rebuiltRoot = tree.root;
  }
  if (rebuiltRoot !== posted.root)
    add("root_mismatch", `the owners' tree has root ${rebuiltRoot}, the posted root is ${posted.root}`);
  if (d.root !== posted.root)
    add("root_mismatch", `the encoding's root field is ${d.root}, the posted root is ${posted.root}`);

  // Totals.
  const sumCumulative = d.owners.reduce((s, o) => s + o.cumulative, 0n);
  if (sumCumulative !== d.totalCumulative)
    add(
      "total_mismatch",
      `owners' cumulative amounts sum to ${sumCumulative}, the encoding says ${d.totalCumulative}`,
    );
  if (d.totalCumulative !== posted.totalCumulative)
    add(
      "total_mismatch",
      `the encoding's totalCumulative is ${d.totalCumulative}, posted ${posted.totalCumulative}`,
    );
  if (expect.totalFunded !== undefined && posted.totalCumulative > expect.totalFunded)
    add(
      "over_funded",
      `the root owes ${posted.totalCumulative} in all, the distributor was funded ${expect.totalFunded}`,
    );
  const funded = expect.fundedPool;
  if (funded !== undefined && (funded.exact ? d.pool !== funded.amount : d.pool > funded.amount))
    add(
      "pool_not_funded",
      `the encoding's pool is ${d.pool}, the chain makes ${funded.exact ? "" : "at most "}${funded.amount} available to epoch ${d.epoch}`,
    );

  // Usage rewards (version 2): recomputed from the published records, price and parameters.
  const usageReward = new Map<Hex, bigint>();
  let usagePaid = 0n;
  if (d.usage !== null) {
    const u = d.usage;
    usagePaid = u.paid;
    for (let i = 1; i < u.records.length; i++) {
      const a = u.records[i - 1]!;
      const b = u.records[i]!;
      if (a.block > b.block || (a.block === b.block && a.logIndex >= b.logIndex))
        add("usage_mismatch", `usage records not strictly ascending at ${i}: ${b.block}:${b.logIndex}`);
    }
    try {
      const again = usageRewards(d.pool, u, u.params, expect.usageScores);
      for (const [name, got, want] of [
        ["usage pool", u.usagePool, again.usagePool],
        ["usage total value", u.totalValue, again.totalValue],
        ["usage paid", u.paid, again.paid],
      ] as const) {
        if (got !== want) add("usage_mismatch", `${name} is ${got}, the records give ${want}`);
      }
      const published = JSON.stringify(u.providers, (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v));
      const recomputed = JSON.stringify(again.providers, (_k, v: unknown) =>
        typeof v === "bigint" ? `${v}` : v,
      );
      if (published !== recomputed)
        add("usage_mismatch", `per-provider usage ${published}, the records give ${recomputed}`);
    } catch (e) {
      add("usage_mismatch", (e as Error).message);
    }
    for (const p of u.providers) if (p.reward > 0n) usageReward.set(p.provider, p.reward);
  }

  // Pools and device amounts.
  let split: bigint[] | null = null;
  try {
    split = splitPool(
      d.pool - usagePaid,
      d.pools.map((p) => p.bps),
    );
  } catch (e) {
    add("pool_split_mismatch", (e as Error).message);
  }
  if (split !== null && split.some((a, i) => a !== d.pools[i]!.amount))
    add(
      "pool_split_mismatch",
      `pool amounts ${d.pools.map((p) => p.amount).join(",")}, the split is ${split.join(",")}`,
    );
  const amounts = deviceAmounts(
    d.pools.map((p) => p.amount),
    d.devices,
  );
  const byOwner = new Map<Hex, bigint>();
  d.devices.forEach((dev, i) => {
    if (i > 0 && d.devices[i - 1]!.deviceId >= dev.deviceId)
      add("device_amount_mismatch", `devices not strictly ascending at ${i}: ${dev.deviceId}`);
    if (dev.amount !== amounts[i])
      add(
        "device_amount_mismatch",
        `device ${dev.deviceId}: amount ${dev.amount}, its weights give ${amounts[i]}`,
      );
    if (dev.amount > 0n) byOwner.set(dev.owner, (byOwner.get(dev.owner) ?? 0n) + dev.amount);
  });
  for (const [provider, reward] of usageReward) byOwner.set(provider, (byOwner.get(provider) ?? 0n) + reward);
  let distributed = 0n;
  for (const o of d.owners) {
    distributed += o.amount;
    const earned = byOwner.get(o.owner) ?? 0n;
    if (o.amount !== earned)
      add(
        "owner_amount_mismatch",
        `owner ${o.owner}: amount ${o.amount}, its devices and usage earned ${earned}`,
      );
    byOwner.delete(o.owner);
    if (expect.previous !== undefined) {
      const before = expect.previous.get(o.owner) ?? 0n;
      if (o.cumulative !== before + o.amount)
        add(
          "cumulative_mismatch",
          `owner ${o.owner}: cumulative ${o.cumulative}, previous ${before} + amount ${o.amount}`,
        );
    }
  }
  for (const [owner, earned] of byOwner)
    add("owner_amount_mismatch", `owner ${owner} earned ${earned} but has no leaf`);
  if (expect.previous !== undefined) {
    const listed = new Set(d.owners.map((o) => o.owner));
    for (const [owner, before] of expect.previous) {
      if (before > 0n && !listed.has(owner))
        add("cumulative_mismatch", `owner ${owner} had ${before} in the previous root and has no leaf`);
    }
  }
  if (distributed !== d.distributed)
    add("distributed_mismatch", `owners' amounts sum to ${distributed}, the encoding says ${d.distributed}`);
  if (d.distributed + d.dust !== d.pool)
    add("distributed_mismatch", `distributed ${d.distributed} + dust ${d.dust} is not the pool ${d.pool}`);
  return { ok: findings.length === 0, findings, dataHash, decoded: d, rebuiltRoot, tree };
}
