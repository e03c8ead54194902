/**
 * Why a contract refused a call, for people: the custom error the contract reverted with (decoded
 * with its ABI by viem's simulation), its arguments, and what it means for the actions the pages
 * offer. Errors without an entry here are shown by name and arguments.
 */
import { formatUnits } from "viem";

type Args = readonly unknown[];

const meshOf = (v: unknown) => `${formatUnits(BigInt(v as bigint), 18)} MESH`;
const at = (v: unknown) => new Date(Number(v) * 1000).toISOString().replace(".000Z", "Z");

const EXPLAIN: Record<string, (a: Args) => string> = {
  PriceStale: (a) => `the MESH/USD price is stale (observed ${at(a[0])}, stale since ${at(a[1])})`,
  CreditsZeroAmount: () => "the amount (or the credits it buys) is zero",
  CreditsSlippage: (a) =>
    `the price moved: the burn would give ${a[0]} credits, fewer than the ${a[1]} quoted`,
  CreditsUnknownSpender: (a) => `${a[0]} is not a registered spender`,
  CreditsInsufficientBalance: (a) => `the account holds ${a[1]} credits, ${a[2]} are needed`,
  CreditsInsufficientAllowance: (a) =>
    `the market may spend ${a[2]} of this account's credits, ${a[3]} are needed: raise its allowance on the credits page`,
  StorageNotClient: (a) => `only data set ${a[0]}'s client may do this`,
  StorageWrongStatus: (a) =>
    `data set ${a[0]} is ${["not created", "proposed", "active", "terminated"][Number(a[1])] ?? a[1]}`,
  StorageUnknownDataSet: (a) => `no data set ${a[0]}`,
  StorageZeroAmount: () => "the amount is zero",
  ComputeNotCustomer: (a) => `only job ${a[0]}'s customer may do this`,
  ComputeWrongStatus: (a) => `job ${a[0]} is ${JOB_STATUS[Number(a[1])] ?? a[1]}`,
  ComputeWindowClosed: (a) => `the acceptance window closed at ${at(a[1])}`,
  ComputeZeroHash: () => "the evidence hash is zero",
  ComputeUnknownJob: (a) => `no job ${a[0]}`,
  ERC20InsufficientBalance: (a) => `the wallet holds ${meshOf(a[1])}, ${meshOf(a[2])} are needed`,
  ERC20InsufficientAllowance: (a) => `the allowance is ${meshOf(a[1])}, ${meshOf(a[2])} are needed`,
};

export const JOB_STATUS = [
  "none",
  "open",
  "accepted",
  "committed",
  "disputed",
  "finalized",
  "refunded",
] as const;

/** "ErrorName: what it means" for a decoded custom error. */
export function explainRevert(errorName: string, args: Args | undefined): string {
  const explain = EXPLAIN[errorName];
  const shown = `${errorName}(${(args ?? []).map(String).join(", ")})`;
  return explain ? `${shown}: ${explain(args ?? [])}` : shown;
}
