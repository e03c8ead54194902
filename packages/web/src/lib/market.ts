/**
 * The demand side read from the chain, pinned to one block like every other read: the usage-credits
 * ledger (balance, price, spenders, purchases and consumption), the storage market's data sets and
 * the compute market's jobs. The markets are found through the ledger: each is the spender
 * governance registered for its subnetwork (`SpenderRegistered`, not since `SpenderRemoved`).
 */
import type { Abi, Address, Hash, Hex, PublicClient } from "viem";

import {
  ComputeJobsAbi,
  IMeshPriceAbi,
  MeshTokenAbi,
  QuorumPriceAbi,
  StorageDealsAbi,
  UsageCreditsAbi,
} from "@hexmesh/contracts/abis";
import { SUBNETWORK_COMPUTE, SUBNETWORK_COVERAGE, SUBNETWORK_STORAGE } from "@hexmesh/protocol";

import { latestBlock, type AsOf } from "./chain";
import type { AppConfig } from "./config";
import { JOB_STATUS } from "./revert";

export { JOB_STATUS };

/**
 * Errors a market call can bubble up from the contracts it calls: the credits ledger (locks and
 * consumption), MESH (collateral transfers) and the price source (collateral at the credit price).
 */
export const MARKET_ERRORS: Abi = [...UsageCreditsAbi, ...MeshTokenAbi, ...IMeshPriceAbi].filter(
  (item) => item.type === "error",
);

export class NotConfiguredError extends Error {
  override readonly name = "NotConfiguredError";
}

/** The ledger's address, or an error the pages show when hexmesh.json does not name it. */
export function creditsAddress(cfg: AppConfig): Address {
  if (cfg.addresses.credits === undefined)
    throw new NotConfiguredError("hexmesh.json names no usage-credits ledger (addresses.credits)");
  return cfg.addresses.credits;
}

export type MarketName = "data transfer" | "storage" | "compute";

const MARKETS: Record<string, MarketName> = {
  [SUBNETWORK_COVERAGE.toLowerCase()]: "data transfer",
  [SUBNETWORK_STORAGE.toLowerCase()]: "storage",
  [SUBNETWORK_COMPUTE.toLowerCase()]: "compute",
};

export interface Spender {
  readonly address: Address;
  readonly subnetwork: Hex;
  /** The market, or null for a subnetwork this app does not know. */
  readonly market: MarketName | null;
}

/** The registered spenders at `blockNumber`, in registration order. */
export async function readSpenders(
  client: PublicClient,
  cfg: AppConfig,
  blockNumber: bigint,
): Promise<Spender[]> {
  const ledger = { address: creditsAddress(cfg), abi: UsageCreditsAbi } as const;
  const range = { fromBlock: cfg.fromBlock, toBlock: blockNumber };
  const [registered, removed] = await Promise.all([
    client.getContractEvents({ ...ledger, eventName: "SpenderRegistered", ...range }),
    client.getContractEvents({ ...ledger, eventName: "SpenderRemoved", ...range }),
  ]);
  // A spender removed and registered again counts once, as it is now.
  const live = new Map<Address, Spender>();
  for (const e of [...registered, ...removed].sort((a, b) =>
    a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
  )) {
    const address = e.args.spender!;
    if (e.eventName === "SpenderRemoved") live.delete(address);
    else {
      const subnetwork = e.args.subnetwork!;
      live.set(address, { address, subnetwork, market: MARKETS[subnetwork.toLowerCase()] ?? null });
    }
  }
  return [...live.values()];
}

/** The market contract registered for `market`, or an error the page shows. */
export async function marketAddress(
  client: PublicClient,
  cfg: AppConfig,
  market: MarketName,
  blockNumber: bigint,
): Promise<Address> {
  const found = (await readSpenders(client, cfg, blockNumber)).find((s) => s.market === market);
  if (found === undefined)
    throw new NotConfiguredError(`no ${market} market is registered with the credits ledger`);
  return found.address;
}

// ------------------------------------------------------------------ credits

export interface PriceState {
  /** USD per MESH, 18 decimals (the latest observation). */
  readonly latest: bigint;
  readonly updatedAt: bigint;
  readonly average: bigint;
  /** The price a burn uses now (min of latest and average), or null while the price is stale. */
  readonly creditPrice: bigint | null;
  readonly maxAge: bigint;
  readonly source: Address;
  /** "set by governance" or "signed by an oracle quorum (k of n)". */
  readonly sourceKind: string;
}

export interface SpenderUse extends Spender {
  readonly allowance: bigint;
  readonly locked: bigint;
  /** Credits of this account the spender consumed (its UsageRecorded events). */
  readonly consumed: bigint;
}

export interface UsageRow {
  readonly blockNumber: bigint;
  readonly tx: Hash;
  readonly market: MarketName | null;
  readonly subnetwork: Hex;
  readonly epoch: bigint;
  readonly provider: Address;
  readonly credits: bigint;
}

export interface PurchaseRow {
  readonly blockNumber: bigint;
  readonly tx: Hash;
  readonly buyer: Address;
  readonly meshAmount: bigint;
  readonly credits: bigint;
  readonly price: bigint;
}

export interface CreditsState extends AsOf {
  readonly ledger: Address;
  readonly balance: bigint;
  readonly meshBalance: bigint;
  readonly price: PriceState;
  readonly spenders: readonly SpenderUse[];
  readonly usage: readonly UsageRow[];
  readonly purchases: readonly PurchaseRow[];
}

async function readPrice(client: PublicClient, source: Address, blockNumber: bigint): Promise<PriceState> {
  const price = { address: source, abi: IMeshPriceAbi } as const;
  const b = { blockNumber };
  const [[latest, updatedAt], average, maxAge, fresh] = await Promise.all([
    client.readContract({ ...price, functionName: "latestPrice", ...b }),
    client.readContract({ ...price, functionName: "averagePrice", ...b }),
    client.readContract({ ...price, functionName: "maxAge", ...b }),
    client.readContract({ ...price, functionName: "isFresh", ...b }),
  ]);
  const creditPrice = fresh
    ? await client.readContract({ ...price, functionName: "creditPrice", ...b })
    : null;
  // A quorum source has an oracle set; a governed one does not answer threshold().
  let sourceKind = "set by governance";
  try {
    const quorum = { address: source, abi: QuorumPriceAbi } as const;
    const [threshold, oracles] = await Promise.all([
      client.readContract({ ...quorum, functionName: "threshold", ...b }),
      client.readContract({ ...quorum, functionName: "oracles", ...b }),
    ]);
    sourceKind = `signed by an oracle quorum (${threshold} of ${oracles.length})`;
  } catch {
    // not a quorum source
  }
  return {
    latest,
    updatedAt: BigInt(updatedAt),
    average,
    creditPrice,
    maxAge: BigInt(maxAge),
    source,
    sourceKind,
  };
}

export async function readCredits(
  client: PublicClient,
  cfg: AppConfig,
  account: Address,
): Promise<CreditsState> {
  const at = await latestBlock(client);
  const b = { blockNumber: at.blockNumber };
  const ledger = { address: creditsAddress(cfg), abi: UsageCreditsAbi } as const;
  const range = { fromBlock: cfg.fromBlock, toBlock: at.blockNumber };
  const [balance, meshBalance, source, spenders, recorded, bought] = await Promise.all([
    client.readContract({ ...ledger, functionName: "balanceOf", args: [account], ...b }),
    client.readContract({
      address: cfg.addresses.token,
      abi: MeshTokenAbi,
      functionName: "balanceOf",
      args: [account],
      ...b,
    }),
    client.readContract({ ...ledger, functionName: "priceSource", ...b }),
    readSpenders(client, cfg, at.blockNumber),
    // `account` is not an indexed field of UsageRecorded: every record is read and filtered here.
    client.getContractEvents({ ...ledger, eventName: "UsageRecorded", ...range }),
    client.getContractEvents({
      ...ledger,
      eventName: "CreditsBought",
      args: { beneficiary: account },
      ...range,
    }),
  ]);
  const price = await readPrice(client, source, at.blockNumber);
  const market = (subnetwork: Hex) => MARKETS[subnetwork.toLowerCase()] ?? null;
  const usage = recorded
    .filter((e) => e.args.account!.toLowerCase() === account.toLowerCase())
    .map(
      (e): UsageRow => ({
        blockNumber: e.blockNumber,
        tx: e.transactionHash,
        subnetwork: e.args.subnetwork!,
        market: market(e.args.subnetwork!),
        epoch: BigInt(e.args.epoch!),
        provider: e.args.provider!,
        credits: e.args.credits!,
      }),
    );
  const uses = await Promise.all(
    spenders.map(async (s): Promise<SpenderUse> => {
      const [allowance, locked] = await Promise.all([
        client.readContract({ ...ledger, functionName: "allowance", args: [account, s.address], ...b }),
        client.readContract({ ...ledger, functionName: "locked", args: [account, s.address], ...b }),
      ]);
      const consumed = usage
        .filter((u) => u.subnetwork.toLowerCase() === s.subnetwork.toLowerCase())
        .reduce((sum, u) => sum + u.credits, 0n);
      return { ...s, allowance, locked, consumed };
    }),
  );
  const purchases = bought.map(
    (e): PurchaseRow => ({
      blockNumber: e.blockNumber,
      tx: e.transactionHash,
      buyer: e.args.buyer!,
      meshAmount: e.args.meshAmount!,
      credits: e.args.credits!,
      price: e.args.price!,
    }),
  );
  return { ...at, ledger: ledger.address, balance, meshBalance, price, spenders: uses, usage, purchases };
}

// ------------------------------------------------------------------ storage

export const DATA_SET_STATUS = ["none", "proposed", "active", "terminated"] as const;
export const PERIOD_OUTCOME = ["proven", "rescheduled", "declared fault", "free miss", "faulted"] as const;
export const END_REASON = ["by the client", "by the provider", "faults", "mutual"] as const;

export interface DataSetSummary {
  readonly id: bigint;
  readonly role: "client" | "provider";
  readonly status: (typeof DATA_SET_STATUS)[number];
  readonly client: Address;
  readonly provider: Address;
  readonly deviceId: bigint;
  readonly pieceCount: bigint;
  readonly totalBytes: bigint;
  /** Credits per proving period (a day). */
  readonly rate: bigint;
  readonly locked: bigint;
  readonly collateral: bigint;
}

export interface DataSets extends AsOf {
  readonly deals: Address;
  readonly dataSets: readonly DataSetSummary[];
}

type RawDataSet = Awaited<ReturnType<typeof readRawDataSet>>;

function readRawDataSet(client: PublicClient, deals: Address, id: bigint, blockNumber: bigint) {
  return client.readContract({
    address: deals,
    abi: StorageDealsAbi,
    functionName: "dataSet",
    args: [id],
    blockNumber,
  });
}

function summaryOf(id: bigint, d: RawDataSet, account: Address): DataSetSummary {
  return {
    id,
    role: d.client.toLowerCase() === account.toLowerCase() ? "client" : "provider",
    status: DATA_SET_STATUS[d.status] ?? "none",
    client: d.client,
    provider: d.provider,
    deviceId: d.deviceId,
    pieceCount: BigInt(d.pieceCount),
    totalBytes: BigInt(d.totalBytes),
    rate: d.rate,
    locked: d.locked,
    collateral: d.collateral,
  };
}

/** The data sets `account` is the client or the provider of, by id. */
export async function readDataSets(
  client: PublicClient,
  cfg: AppConfig,
  account: Address,
): Promise<DataSets> {
  const at = await latestBlock(client);
  const deals = await marketAddress(client, cfg, "storage", at.blockNumber);
  const range = { fromBlock: cfg.fromBlock, toBlock: at.blockNumber };
  const market = { address: deals, abi: StorageDealsAbi } as const;
  const [asClient, asProvider] = await Promise.all([
    client.getContractEvents({ ...market, eventName: "DataSetCreated", args: { client: account }, ...range }),
    client.getContractEvents({
      ...market,
      eventName: "DataSetCreated",
      args: { provider: account },
      ...range,
    }),
  ]);
  const ids = [...new Set([...asClient, ...asProvider].map((e) => e.args.id!))].sort((a, b) =>
    a < b ? -1 : 1,
  );
  const raw = await Promise.all(ids.map((id) => readRawDataSet(client, deals, id, at.blockNumber)));
  return { ...at, deals, dataSets: ids.map((id, i) => summaryOf(id, raw[i]!, account)) };
}

export interface PieceRow {
  readonly index: bigint;
  readonly root: Hex;
  readonly size: bigint;
  readonly firstLeaf: bigint;
  readonly leafCount: bigint;
}

export interface PeriodRow {
  readonly period: bigint;
  readonly outcome: (typeof PERIOD_OUTCOME)[number];
  readonly fee: bigint;
  readonly paid: bigint;
  readonly blockNumber: bigint;
}

export interface DataSetDetail extends AsOf {
  readonly deals: Address;
  readonly summary: DataSetSummary;
  readonly pricePerTiBMonth: bigint;
  readonly challengeCount: number;
  readonly period: bigint;
  readonly periodEnd: bigint;
  readonly consecutiveFaults: number;
  readonly provenStreak: number;
  readonly freeMissUsed: boolean;
  readonly requiredCollateral: bigint;
  readonly pieces: readonly PieceRow[];
  /** Settled periods, oldest first (with the credits each proof paid). */
  readonly periods: readonly PeriodRow[];
  readonly proven: number;
  readonly faulty: number;
  /** Credits paid to the provider (proofs and the termination). */
  readonly paid: bigint;
  /** Credits released back to the client at termination. */
  readonly returned: bigint;
  /** Fault fees taken from the collateral, MESH wei (half to the client, half burned). */
  readonly fees: bigint;
  readonly ended: {
    readonly reason: string;
    readonly forfeitToClient: bigint;
    readonly collateralReturned: bigint;
  } | null;
}

export async function readDataSet(
  client: PublicClient,
  cfg: AppConfig,
  id: bigint,
  account: Address | undefined,
): Promise<DataSetDetail> {
  const at = await latestBlock(client);
  const deals = await marketAddress(client, cfg, "storage", at.blockNumber);
  const market = { address: deals, abi: StorageDealsAbi } as const;
  const b = { blockNumber: at.blockNumber };
  const range = { fromBlock: cfg.fromBlock, toBlock: at.blockNumber };
  const d = await readRawDataSet(client, deals, id, at.blockNumber);
  if (d.status === 0) throw new NotConfiguredError(`no data set ${id}`);
  const pieceIds: bigint[] = [];
  for (let i = 0n; i < BigInt(d.pieceCount); i++) pieceIds.push(i);
  const [required, pieces, settled, proofs, terminated] = await Promise.all([
    client.readContract({ ...market, functionName: "requiredCollateral", args: [id], ...b }),
    Promise.all(
      pieceIds.map((i) => client.readContract({ ...market, functionName: "piece", args: [id, i], ...b })),
    ),
    client.getContractEvents({ ...market, eventName: "PeriodSettled", args: { id }, ...range }),
    client.getContractEvents({ ...market, eventName: "PossessionProven", args: { id }, ...range }),
    client.getContractEvents({ ...market, eventName: "DataSetTerminated", args: { id }, ...range }),
  ]);
  const paidIn = new Map(proofs.map((p) => [p.args.period!, p.args.paid!]));
  const periods = settled.map(
    (e): PeriodRow => ({
      period: BigInt(e.args.period!),
      outcome: PERIOD_OUTCOME[e.args.outcome!] ?? "rescheduled",
      fee: e.args.fee!,
      paid: paidIn.get(e.args.period!) ?? 0n,
      blockNumber: e.blockNumber,
    }),
  );
  const end = terminated[0];
  const paidByProofs = proofs.reduce((s, p) => s + p.args.paid!, 0n);
  return {
    ...at,
    deals,
    summary: summaryOf(id, d, account ?? d.client),
    pricePerTiBMonth: BigInt(d.pricePerTiBMonth),
    challengeCount: d.challengeCount,
    period: BigInt(d.period),
    periodEnd: BigInt(d.periodEnd),
    consecutiveFaults: d.consecutiveFaults,
    provenStreak: d.provenStreak,
    freeMissUsed: d.freeMissUsed,
    requiredCollateral: required,
    pieces: pieces.map((p, i) => ({
      index: BigInt(i),
      root: p.root,
      size: BigInt(p.size),
      firstLeaf: BigInt(p.firstLeaf),
      leafCount: BigInt(p.leafCount),
    })),
    periods,
    proven: proofs.length,
    faulty: periods.filter(
      (p) => p.outcome === "declared fault" || p.outcome === "free miss" || p.outcome === "faulted",
    ).length,
    paid: paidByProofs + (end?.args.paidToProvider ?? 0n),
    returned: end?.args.creditsReleased ?? 0n,
    fees: periods.reduce((s, p) => s + p.fee, 0n),
    ended:
      end === undefined
        ? null
        : {
            reason: END_REASON[end.args.reason!] ?? String(end.args.reason),
            forfeitToClient: end.args.forfeitToClient!,
            collateralReturned: end.args.collateralReturned!,
          },
  };
}

// ------------------------------------------------------------------ compute

export const JOB_TIER = ["standard", "verified"] as const;
export const REFUND_REASON = [
  "cancelled",
  "unclaimed",
  "missed deadline",
  "provider at fault",
  "dispute unresolved",
] as const;
export const FRAUD_REASON = ["", "wrong result", "output withheld", "units inflated"] as const;
export const PENALTY_STATUS = ["none", "scheduled", "executed", "vetoed"] as const;

/** ComputeJobs' ACCEPTANCE_WINDOW: a committed result can be accepted or disputed for 24 hours. */
export const ACCEPTANCE_WINDOW = 24n * 3_600n;

export interface JobSummary {
  readonly id: bigint;
  readonly role: "customer" | "provider";
  readonly status: (typeof JOB_STATUS)[number];
  readonly tier: (typeof JOB_TIER)[number];
  readonly deviceClass: number;
  readonly customer: Address;
  readonly provider: Address | null;
  readonly pricePerUnit: bigint;
  readonly maxUnits: number;
  readonly usedUnits: number;
  readonly deadline: bigint;
  readonly specHash: Hex;
  readonly resultHash: Hex | null;
  readonly committedAt: bigint;
  /** End of the acceptance window (null until a result is committed). */
  readonly windowEnd: bigint | null;
  readonly collateral: bigint;
  /** The accepting device; before acceptance, the only device a directed job may be accepted with. */
  readonly deviceId: bigint | null;
}

export interface Jobs extends AsOf {
  readonly jobs: Address;
  readonly list: readonly JobSummary[];
}

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
const ZERO_HASH = `0x${"0".repeat(64)}` as Hex;

type RawJob = Awaited<ReturnType<typeof readRawJob>>;

function readRawJob(client: PublicClient, jobs: Address, id: bigint, blockNumber: bigint) {
  return client.readContract({
    address: jobs,
    abi: ComputeJobsAbi,
    functionName: "job",
    args: [id],
    blockNumber,
  });
}

function jobSummaryOf(id: bigint, j: RawJob, account: Address): JobSummary {
  return {
    id,
    role: j.customer.toLowerCase() === account.toLowerCase() ? "customer" : "provider",
    status: JOB_STATUS[j.status] ?? "none",
    tier: JOB_TIER[j.tier] ?? "standard",
    deviceClass: j.deviceClass,
    customer: j.customer,
    provider: j.provider === ZERO_ADDRESS ? null : j.provider,
    pricePerUnit: BigInt(j.pricePerUnit),
    maxUnits: j.maxUnits,
    usedUnits: j.usedUnits,
    deadline: BigInt(j.deadline),
    specHash: j.specHash,
    resultHash: j.resultHash === ZERO_HASH ? null : j.resultHash,
    committedAt: BigInt(j.committedAt),
    windowEnd: j.committedAt === 0n ? null : BigInt(j.committedAt) + ACCEPTANCE_WINDOW,
    collateral: BigInt(j.collateral),
    deviceId: j.deviceId === 0n ? null : j.deviceId,
  };
}

/** The jobs `account` created, or accepted as a provider (either of a Verified job's two), by id. */
export async function readJobs(client: PublicClient, cfg: AppConfig, account: Address): Promise<Jobs> {
  const at = await latestBlock(client);
  const jobs = await marketAddress(client, cfg, "compute", at.blockNumber);
  const market = { address: jobs, abi: ComputeJobsAbi } as const;
  const range = { fromBlock: cfg.fromBlock, toBlock: at.blockNumber };
  const [created, accepted] = await Promise.all([
    client.getContractEvents({ ...market, eventName: "JobCreated", args: { customer: account }, ...range }),
    client.getContractEvents({ ...market, eventName: "JobAccepted", args: { provider: account }, ...range }),
  ]);
  const ids = [...new Set([...created, ...accepted].map((e) => e.args.jobId!))].sort((a, b) =>
    a < b ? -1 : 1,
  );
  const raw = await Promise.all(ids.map((id) => readRawJob(client, jobs, id, at.blockNumber)));
  return { ...at, jobs, list: ids.map((id, i) => jobSummaryOf(id, raw[i]!, account)) };
}

export interface JobDetail extends AsOf {
  readonly jobs: Address;
  readonly summary: JobSummary;
  readonly second: {
    readonly provider: Address;
    readonly usedUnits: number;
    readonly committed: boolean;
  } | null;
  readonly spotCheck: {
    readonly checkBlock: bigint;
    readonly forced: boolean;
    readonly recorded: boolean;
    readonly selected: boolean;
  };
  readonly disputes: readonly { readonly evidenceHash: Hex; readonly blockNumber: bigint }[];
  readonly verdict: { readonly provider: Address; readonly reason: string; readonly prover: Address } | null;
  readonly penalty: {
    readonly status: (typeof PENALTY_STATUS)[number];
    readonly amount: bigint;
    readonly escrow: bigint;
    readonly executableAt: bigint;
  } | null;
  readonly outcome: string | null;
}

export async function readJob(
  client: PublicClient,
  cfg: AppConfig,
  id: bigint,
  account: Address | undefined,
): Promise<JobDetail> {
  const at = await latestBlock(client);
  const jobs = await marketAddress(client, cfg, "compute", at.blockNumber);
  const market = { address: jobs, abi: ComputeJobsAbi } as const;
  const b = { blockNumber: at.blockNumber };
  const range = { fromBlock: cfg.fromBlock, toBlock: at.blockNumber };
  const j = await readRawJob(client, jobs, id, at.blockNumber);
  if (j.status === 0) throw new NotConfiguredError(`no job ${id}`);
  const [second, penalty, disputes, verdicts, finalized, refunded] = await Promise.all([
    client.readContract({ ...market, functionName: "secondProvider", args: [id], ...b }),
    client.readContract({ ...market, functionName: "penalty", args: [id], ...b }),
    client.getContractEvents({ ...market, eventName: "JobDisputed", args: { jobId: id }, ...range }),
    client.getContractEvents({ ...market, eventName: "VerdictSubmitted", args: { jobId: id }, ...range }),
    client.getContractEvents({ ...market, eventName: "JobFinalized", args: { jobId: id }, ...range }),
    client.getContractEvents({ ...market, eventName: "JobRefunded", args: { jobId: id }, ...range }),
  ]);
  const v = verdicts[0];
  const f = finalized[0];
  const r = refunded[0];
  return {
    ...at,
    jobs,
    summary: jobSummaryOf(id, j, account ?? j.customer),
    second:
      second.provider === ZERO_ADDRESS
        ? null
        : { provider: second.provider, usedUnits: second.usedUnits, committed: second.committed },
    spotCheck: {
      checkBlock: BigInt(j.checkBlock),
      forced: j.forcedCheck,
      recorded: j.checkRecorded,
      selected: j.checkSelected,
    },
    disputes: disputes.map((e) => ({ evidenceHash: e.args.evidenceHash!, blockNumber: e.blockNumber })),
    verdict:
      v === undefined
        ? null
        : {
            provider: v.args.provider!,
            reason: FRAUD_REASON[v.args.reason!] ?? String(v.args.reason),
            prover: v.args.prover!,
          },
    penalty:
      penalty.status === 0
        ? null
        : {
            status: PENALTY_STATUS[penalty.status] ?? "none",
            amount: BigInt(penalty.amount),
            escrow: BigInt(penalty.escrow),
            executableAt: BigInt(penalty.executableAt),
          },
    outcome: f
      ? `paid: ${f.args.consumed} credits consumed for the provider, ${f.args.released} released`
      : r
        ? `refunded (${REFUND_REASON[r.args.reason!] ?? r.args.reason}): ${r.args.released} credits released`
        : null,
  };
}
