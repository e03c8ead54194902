/**
 * One decoder for our contracts' reverts, for every program that talks to them (the oracle CLI, the
 * Hardhat tasks, scripts): the revert data found anywhere in an ethers/viem/JSON-RPC error, decoded
 * by name with named arguments from the deployed contracts' ABIs (custom errors, OpenZeppelin's
 * errors they inherit, Error(string) and Panic(uint256)), and, where there is one, what to do next.
 *
 *   try { await distributor.postRoot(...) } catch (e) { throw explainContractError(e) }
 *   // -> "DistributorZeroRoot(): the root is zero (nobody has ever earned) ..."
 */
import { ErrorFragment, Interface, type Result } from "ethers";

import {
  ComputeJobs__factory,
  DataTransferSettlement__factory,
  DeviceRegistry__factory,
  EmissionsController__factory,
  GovernedPrice__factory,
  HexmeshTimelock__factory,
  MeshToken__factory,
  QuorumPrice__factory,
  RewardsDistributor__factory,
  StakingVault__factory,
  StorageDeals__factory,
  StorageSuspensions__factory,
  UsageCredits__factory,
} from "./generated/index.js";

export interface DecodedContractError {
  /** The error's name, e.g. "DistributorEpochNotFunded" ("Error" for a require message, "Panic"). */
  readonly name: string;
  /** Its signature, e.g. "DistributorEpochNotFunded(uint64)". */
  readonly signature: string;
  readonly selector: string;
  /** Arguments by name (positional names "arg0"... when the ABI has none). */
  readonly args: Readonly<Record<string, string>>;
  /** Name and arguments: "DistributorEpochNotFunded(epoch=7)". */
  readonly text: string;
  /** What to do next, when we know. */
  readonly hint?: string;
}

/** Every error of every deployed contract, once per selector. */
const ERRORS: Interface = (() => {
  const seen = new Map<string, ErrorFragment>();
  for (const abi of [
    RewardsDistributor__factory.abi,
    EmissionsController__factory.abi,
    DeviceRegistry__factory.abi,
    StakingVault__factory.abi,
    MeshToken__factory.abi,
    HexmeshTimelock__factory.abi,
    UsageCredits__factory.abi,
    GovernedPrice__factory.abi,
    QuorumPrice__factory.abi,
    DataTransferSettlement__factory.abi,
    StorageDeals__factory.abi,
    StorageSuspensions__factory.abi,
    ComputeJobs__factory.abi,
  ]) {
    for (const f of new Interface(abi).fragments) {
      if (f instanceof ErrorFragment && !seen.has(f.selector)) seen.set(f.selector, f);
    }
  }
  return new Interface([...seen.values()]);
})();

/** What to do next, by error name (the arguments fill in the blanks). */
const HINTS: Readonly<Record<string, (a: Readonly<Record<string, string>>) => string>> = {
  SettlementEpochNotEnded: (a) =>
    `epoch ${a.epoch} ends at ${a.endsAt} (Unix s): settle its data transfer after that`,
  SettlementEpochSettled: (a) =>
    `epoch ${a.epoch} cannot be settled: epochs settle once, in order, and the next open one is ${a.nextEpoch}`,
  OracleSignaturesStaleOracleSet: (a) =>
    `the message was signed for oracle set ${a.oracleSetVersion}, the distributor's is ${a.currentVersion}: every oracle signs again (for a data-transfer settlement: hexmesh-oracle settle)`,
  DistributorZeroRoot: () =>
    "the root is zero: nobody has ever earned, so there is nothing to post for this epoch; skip it (hexmesh-oracle post does) and post the next epoch with rewards",
  DistributorEpochNotFunded: (a) =>
    `epoch ${a.epoch} has not been distributed by the emissions controller yet: run \`npx hardhat hexmesh catch-up\` (or EmissionsController.distribute), then post again`,
  DistributorRootPending: (a) =>
    `epoch ${a.pendingEpoch} is in its challenge window until ${a.readyAt} (Unix s): post again after that`,
  DistributorEpochNotAfterLive: (a) =>
    `epoch ${a.liveEpoch} is already live: only later epochs can be posted (claims are cumulative, nothing is lost)`,
  DistributorStaleOracleSet: (a) =>
    `the oracle set changed (version ${a.oracleSetVersion} -> ${a.currentVersion}): sign the epoch again (hexmesh-oracle sign), collect and post`,
  DistributorTooFewSignatures: (a) =>
    `${a.count} valid signatures, the distributor needs ${a.threshold}: run sign on more oracles, then aggregate`,
  DistributorTotalExceedsFunded: () =>
    "the result pays more than has been funded: distribute the missing epochs (npx hardhat hexmesh catch-up) or check the oracles' configuration",
  DistributorTotalDecreased: () =>
    "the result's cumulative total is below the live one: the oracle's previous results differ from what was posted; check firstEpoch and the stored results",
  DistributorNothingToFinalize: () => "no pending root whose challenge window has passed",
  DistributorNoLiveRoot: () =>
    "no root is live yet: wait for a posted root's challenge window, then finalize",
  DistributorInvalidProof: () => "the proof is not for the live root: fetch a fresh proof from an oracle",
  DistributorNothingToClaim: () => "everything this owner earned so far is already claimed",
  EmissionsNothingToDistribute: (a) =>
    `every ended epoch is distributed (next is ${a.nextEpoch}); wait for epoch ${a.nextEpoch} to end`,
  RegistryAttestationExpired: () => "the maker's attestation has expired: ask the maker for a new one",
  RegistryProofOfPossessionExpired: () =>
    "the device's signature has expired: run hexmesh-hotspot onboarding again with a later --deadline",
  RegistryKeyAlreadyRegistered: (a) => `this key is already device ${a.deviceId}`,
  RegistryUnknownMaker: (a) => `maker ${a.makerId} is not approved: governance must add it (addMaker) first`,
  RegistryInvalidMakerSignature: () =>
    "the attestation was not signed by the maker's current key for this chain and registry",
  RegistryInvalidDeviceSignature: () =>
    "the device signature does not match the key, owner, chain or registry: make the onboarding file again for this owner",
  RegistryNotDeviceOwner: () => "sign with the device owner's account (--account)",
  StakingRequestNotMatured: (a) => `the unstake request unlocks at ${a.unlockTime} (Unix s)`,
  StakingInsufficientStake: () => "you cannot unstake more than you have staked",
  ERC20InsufficientBalance: () => "the account does not hold enough MESH",
  EnforcedPause: () => "the guardian has paused this contract; try again once it is unpaused",
};

/** Finds revert data (0x + selector ...) anywhere in an error from ethers, viem or a JSON-RPC node. */
export function revertDataOf(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const walk = (e: unknown, depth: number): string | undefined => {
    if (depth > 8 || typeof e !== "object" || e === null || seen.has(e)) return undefined;
    seen.add(e);
    const o = e as Record<string, unknown>;
    for (const k of ["data", "raw", "revertData"]) {
      const v = o[k];
      if (typeof v === "string" && /^0x[0-9a-fA-F]{8}/.test(v)) return v;
    }
    for (const k of ["error", "info", "cause", "data", "revert", "payload"]) {
      const found = walk(o[k], depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return walk(err, 0);
}

const show = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(show).join(", ")}]` : typeof v === "bigint" ? v.toString() : String(v);

/** Decodes revert data, or the revert data inside an error; null when there is none or it is not ours. */
export function decodeContractError(errOrData: unknown): DecodedContractError | null {
  const data = typeof errOrData === "string" ? errOrData : revertDataOf(errOrData);
  if (data === undefined || data.length < 10) return null;
  let parsed: {
    name: string;
    signature: string;
    selector: string;
    args: Result;
    fragment: ErrorFragment;
  } | null;
  try {
    parsed = ERRORS.parseError(data);
  } catch {
    return null;
  }
  if (parsed === null) return null;
  const args: Record<string, string> = {};
  parsed.fragment.inputs.forEach((input, i) => (args[input.name || `arg${i}`] = show(parsed.args[i])));
  const text = `${parsed.name}(${Object.entries(args)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")})`;
  const hint = HINTS[parsed.name]?.(args);
  return {
    name: parsed.name,
    signature: parsed.signature,
    selector: parsed.selector,
    args,
    text,
    ...(hint !== undefined ? { hint } : {}),
  };
}

/** "Name(args): hint" for one of our reverts, else the error's own message. */
export function describeContractError(err: unknown): string {
  const decoded = decodeContractError(err);
  if (decoded !== null) return decoded.hint === undefined ? decoded.text : `${decoded.text}: ${decoded.hint}`;
  const data = revertDataOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return data === undefined
    ? message
    : `${message} (revert data ${data} matches no error of the Hexmesh contracts)`;
}

/** An error carrying the decoded revert, to rethrow; other errors are returned unchanged. */
export class ContractRevertError extends Error {
  override readonly name = "ContractRevertError";
  constructor(
    readonly decoded: DecodedContractError,
    options?: { cause?: unknown },
  ) {
    super(decoded.hint === undefined ? decoded.text : `${decoded.text}: ${decoded.hint}`, options);
  }
}

export function explainContractError(err: unknown): unknown {
  if (err instanceof ContractRevertError) return err;
  const decoded = decodeContractError(err);
  return decoded === null ? err : new ContractRevertError(decoded, { cause: err });
}
