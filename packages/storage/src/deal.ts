/**
 * The client's deal commands against StorageDeals: create a data set with a provider's device, add a
 * manifest's pieces (at most MAX_PIECES_PER_CALL per transaction), lock more credits, and read a
 * data set's status with its history from the contract's events.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";

import { explainContractError, StorageDeals__factory, type StorageDeals } from "@hexmesh/contracts";

import { StorageError } from "./errors.js";

const STATUS_NAMES = ["None", "Proposed", "Active", "Terminated"] as const;
const OUTCOME_NAMES = ["Proven", "Rescheduled", "DeclaredFault", "FreeMiss", "Faulted"] as const;
const END_NAMES = ["ByClient", "ByProvider", "Faults", "Mutual"] as const;
const MAX_PIECES_PER_CALL = 32;

async function mined(tx: Promise<{ wait(): Promise<ContractTransactionReceipt | null> }>) {
  try {
    return (await (await tx).wait())!;
  } catch (e) {
    throw explainContractError(e);
  }
}

export function dealsAt(address: string, signer: Signer): StorageDeals {
  return StorageDeals__factory.connect(address, signer);
}

/** Proposes a data set to the owner of `deviceId`; its id. */
export async function createDeal(deals: StorageDeals, deviceId: bigint): Promise<{ id: bigint; tx: string }> {
  const receipt = await mined(deals.createDataSet(deviceId));
  for (const log of receipt.logs) {
    const parsed = deals.interface.parseLog(log);
    if (parsed?.name === "DataSetCreated") return { id: parsed.args.id as bigint, tx: receipt.hash };
  }
  throw new StorageError(500, "no_event", "createDataSet mined without DataSetCreated");
}

/** Adds pieces in batches; the data set's rate and lock after the last batch. */
export async function addDealPieces(
  deals: StorageDeals,
  id: bigint,
  pieces: readonly { root: string; size: number }[],
): Promise<{ txs: string[]; rate: bigint; locked: bigint }> {
  if (pieces.length === 0) throw new StorageError(400, "no_pieces", "the manifest has no pieces");
  const txs: string[] = [];
  for (let i = 0; i < pieces.length; i += MAX_PIECES_PER_CALL) {
    const batch = pieces
      .slice(i, i + MAX_PIECES_PER_CALL)
      .map((p) => ({ root: p.root, size: BigInt(p.size) }));
    txs.push((await mined(deals.addPieces(id, batch))).hash);
  }
  const ds = await deals.dataSet(id);
  return { txs, rate: ds.rate, locked: ds.locked };
}

/** Locks `credits` more of the client's credits for the data set. */
export async function fundDeal(deals: StorageDeals, id: bigint, credits: bigint) {
  const receipt = await mined(deals.depositCredits(id, credits));
  return { tx: receipt.hash, locked: (await deals.dataSet(id)).locked };
}

export interface DealStatus {
  id: string;
  status: string;
  client: string;
  provider: string;
  deviceId: string;
  endpoint: string;
  pieces: number;
  totalBytes: string;
  ratePerPeriod: string;
  locked: string;
  collateral: string;
  requiredCollateral: string;
  period: string;
  periodEnd: string;
  consecutiveFaults: number;
  provenPeriods: string[];
  paidCredits: string;
  periods: { period: string; outcome: string; fee: string }[];
  faults: number;
  feesCharged: string;
  ended?: { reason: string; paid: string; forfeit: string; released: string; returned: string };
  retrievals?: unknown;
}

/** A data set's state and history (from its events, scanned from `fromBlock`). */
export async function dealStatus(deals: StorageDeals, id: bigint, fromBlock = 0): Promise<DealStatus> {
  const ds = await deals.dataSet(id);
  if (ds.status === 0n) throw new StorageError(404, "unknown_data_set", `no data set ${id}`);
  const [proven, settled, ended, endpoint, required] = await Promise.all([
    deals.queryFilter(deals.filters.PossessionProven(id), fromBlock),
    deals.queryFilter(deals.filters.PeriodSettled(id), fromBlock),
    deals.queryFilter(deals.filters.DataSetTerminated(id), fromBlock),
    deals.endpointOf(ds.deviceId),
    deals.requiredCollateral(id),
  ]);
  const periods = settled.map((e) => ({
    period: e.args.period.toString(),
    outcome: OUTCOME_NAMES[Number(e.args.outcome)] ?? String(e.args.outcome),
    fee: e.args.fee.toString(),
  }));
  const end = ended[0];
  return {
    id: id.toString(),
    status: STATUS_NAMES[Number(ds.status)] ?? String(ds.status),
    client: ds.client,
    provider: ds.provider,
    deviceId: ds.deviceId.toString(),
    endpoint,
    pieces: Number(ds.pieceCount),
    totalBytes: ds.totalBytes.toString(),
    ratePerPeriod: ds.rate.toString(),
    locked: ds.locked.toString(),
    collateral: ds.collateral.toString(),
    requiredCollateral: required.toString(),
    period: ds.period.toString(),
    periodEnd: ds.periodEnd.toString(),
    consecutiveFaults: Number(ds.consecutiveFaults),
    provenPeriods: proven.map((e) => e.args.period.toString()),
    paidCredits: proven.reduce((sum, e) => sum + e.args.paid, 0n).toString(),
    periods,
    faults: periods.filter((p) => ["DeclaredFault", "FreeMiss", "Faulted"].includes(p.outcome)).length,
    feesCharged: settled.reduce((sum, e) => sum + e.args.fee, 0n).toString(),
    ...(end
      ? {
          ended: {
            reason: END_NAMES[Number(end.args.reason)] ?? String(end.args.reason),
            paid: end.args.paidToProvider.toString(),
            forfeit: end.args.forfeitToClient.toString(),
            released: end.args.creditsReleased.toString(),
            returned: end.args.collateralReturned.toString(),
          },
        }
      : {}),
  };
}
