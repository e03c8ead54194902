/**
 * Shared plumbing of the wallet and operator tasks: the connection and signer, the suite's addresses (the
 * current chain's Ignition deployment or flags), MESH amounts, revert decoding and dry runs.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  formatUnits,
  getAddress,
  isAddress,
  parseUnits,
  type BaseContract,
  type ContractTransactionResponse,
} from "ethers";
import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { describeContractError } from "@hexmesh/contracts";
import { PERMIT_TYPES } from "@hexmesh/protocol";

import {
  DeviceRegistry__factory,
  EmissionsController__factory,
  GovernedPrice__factory,
  IMeshPrice__factory,
  MeshToken__factory,
  QuorumPrice__factory,
  RewardsDistributor__factory,
  StakingVault__factory,
  UsageCredits__factory,
  type DeviceRegistry,
  type EmissionsController,
  type IMeshPrice,
  type MeshToken,
  type RewardsDistributor,
  type StakingVault,
  type UsageCredits,
} from "../../typechain-types/index.js";

/**
 * An error meant for the person at the terminal: one clear sentence. As a plugin error, Hardhat's CLI
 * prints it as "Error in plugin hexmesh: ..." without a stack trace or a bug-report link.
 */
export class TaskError extends HardhatPluginError {
  constructor(message: string) {
    super("hexmesh", message);
    this.name = "TaskError";
  }
}

/** Options every command accepts (see hardhat.config.ts). */
export interface CommonArgs {
  deploymentId: string;
  token: string;
  registry: string;
  vault: string;
  distributor: string;
  controller: string;
  credits: string;
  account: string;
  dryRun: boolean;
}

export const DECIMALS = 18;

/** "1.5" -> 1.5e18 wei; refuses negatives, more than 18 decimals and junk. */
export function parseMesh(amount: string, what = "amount"): bigint {
  if (!/^\d+(\.\d+)?$/.test(amount.trim()))
    throw new TaskError(`${what} must be a MESH amount like 100 or 2.5, got "${amount}"`);
  const [, frac = ""] = amount.trim().split(".");
  if (frac.length > DECIMALS) throw new TaskError(`${what} has more than ${DECIMALS} decimals: "${amount}"`);
  return parseUnits(amount.trim(), DECIMALS);
}

/** 1.5e18 -> "1.5 MESH". */
export function formatMesh(wei: bigint): string {
  const s = formatUnits(wei, DECIMALS);
  return `${s.endsWith(".0") ? s.slice(0, -2) : s} MESH`;
}

/**
 * A device id from --device: a device's id is its key id (keccak256(abi.encode(keyType, x, y)) as a
 * uint256), so take it as the 0x-prefixed key id or as the ERC-721 token id in decimal.
 */
export function parseDeviceId(value: string, flag = "device"): bigint {
  const v = value.trim();
  if (/^0x[0-9a-fA-F]{1,64}$/.test(v) || /^\d{1,78}$/.test(v)) {
    const id = BigInt(v);
    if (id < 1n << 256n) return id;
  }
  throw new TaskError(
    `--${flag} must be a device id (its 0x key id, or the token id in decimal), got "${value}"`,
  );
}

/** A device id as its key id: 0x and 64 hex digits. */
export function formatDeviceId(id: bigint): string {
  return "0x" + id.toString(16).padStart(64, "0");
}

/** "3h 2m 5s" for a number of seconds. */
export function formatDuration(seconds: bigint): string {
  let s = seconds < 0n ? 0n : seconds;
  const d = s / 86_400n;
  s %= 86_400n;
  const h = s / 3_600n;
  s %= 3_600n;
  const m = s / 60n;
  s %= 60n;
  return [d ? `${d}d` : "", h ? `${h}h` : "", m ? `${m}m` : "", `${s}s`].filter(Boolean).join(" ");
}

export interface Suite {
  chainId: bigint;
  networkName: string;
  signer: HardhatEthersSigner;
  ethers: Awaited<ReturnType<HardhatRuntimeEnvironment["network"]["getOrCreate"]>>["ethers"];
  token: MeshToken;
  registry: DeviceRegistry;
  vault: StakingVault;
  distributor: RewardsDistributor;
  /** Absent when neither --controller nor the deployment names it (only catch-up needs it). */
  controller: EmissionsController | undefined;
  /** UsageCredits, when the deployment has it (or --credits names it). */
  credits?: UsageCredits;
  addresses: Record<string, string>;
  log: (line: string) => void;
}

/** Ignition's keys for the suite's contracts in deployed_addresses.json. */
const IGNITION_KEYS = {
  token: "Hexmesh#MeshToken",
  registry: "Hexmesh#DeviceRegistry",
  vault: "Hexmesh#StakingVault",
  distributor: "Hexmesh#RewardsDistributor",
  controller: "Hexmesh#EmissionsController",
} as const;
const CREDITS_KEY = "Hexmesh#UsageCredits";

function flagAddress(value: string, flag: string): string | undefined {
  if (value === "") return undefined;
  if (!isAddress(value)) throw new TaskError(`--${flag} must be an address, got "${value}"`);
  return getAddress(value);
}

/** Connects, picks the signer and resolves the addresses; checks that contracts exist there. */
export async function openSuite(hre: HardhatRuntimeEnvironment, args: CommonArgs): Promise<Suite> {
  const connection = await hre.network.getOrCreate();
  const { ethers } = connection;
  const { chainId } = await ethers.provider.getNetwork();
  const flags = {
    token: flagAddress(args.token, "token"),
    registry: flagAddress(args.registry, "registry"),
    vault: flagAddress(args.vault, "vault"),
    distributor: flagAddress(args.distributor, "distributor"),
    controller: flagAddress(args.controller, "controller"),
  };
  let recorded: Record<string, string> = {};
  // The controller is optional: only catch-up needs it (and says so).
  const needFile = Object.entries(flags).some(([k, v]) => k !== "controller" && v === undefined);
  if (needFile) {
    const id = args.deploymentId === "" ? `chain-${chainId}` : args.deploymentId;
    const file = path.join(hre.config.paths.ignition, "deployments", id, "deployed_addresses.json");
    if (!existsSync(file)) {
      throw new TaskError(
        `no Hexmesh deployment for chain ${chainId} (network "${connection.networkName}"): ${path.relative(process.cwd(), file)} ` +
          `does not exist. Deploy first, pick the right --network, or pass --token, --registry, --vault, --distributor and --controller.`,
      );
    }
    recorded = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  }
  const resolve = (key: Exclude<keyof typeof IGNITION_KEYS, "controller">): string => {
    const a = flags[key] ?? recorded[IGNITION_KEYS[key]];
    if (a === undefined) throw new TaskError(`the deployment has no ${IGNITION_KEYS[key]}; pass --${key}`);
    return a;
  };
  const addresses = {
    token: resolve("token"),
    registry: resolve("registry"),
    vault: resolve("vault"),
    distributor: resolve("distributor"),
  };
  const controllerAddress = flags.controller ?? recorded[IGNITION_KEYS.controller];
  // The credits ledger is optional: deployments from before the demand side have none.
  const creditsAddress = flagAddress(args.credits ?? "", "credits") ?? recorded[CREDITS_KEY];
  if (creditsAddress !== undefined) Object.assign(addresses, { credits: creditsAddress });
  for (const [name, a] of Object.entries({
    ...addresses,
    ...(controllerAddress !== undefined ? { controller: controllerAddress } : {}),
  })) {
    if ((await ethers.provider.getCode(a)) === "0x") {
      throw new TaskError(
        `no ${name} contract at ${a} on chain ${chainId} (network "${connection.networkName}"): wrong network?`,
      );
    }
  }
  const signers = await ethers.getSigners();
  let signer: HardhatEthersSigner | undefined = signers[0];
  if (args.account !== "") {
    const wanted = flagAddress(args.account, "account");
    signer = signers.find((s) => s.address === wanted);
    if (signer === undefined)
      throw new TaskError(`account ${wanted} is not one of this network's configured accounts`);
  }
  if (signer === undefined)
    throw new TaskError(`network "${connection.networkName}" has no account configured`);
  return {
    chainId,
    networkName: connection.networkName,
    signer,
    ethers,
    token: MeshToken__factory.connect(addresses.token, signer),
    registry: DeviceRegistry__factory.connect(addresses.registry, signer),
    vault: StakingVault__factory.connect(addresses.vault, signer),
    distributor: RewardsDistributor__factory.connect(addresses.distributor, signer),
    controller:
      controllerAddress === undefined
        ? undefined
        : EmissionsController__factory.connect(controllerAddress, signer),
    ...(creditsAddress !== undefined
      ? { credits: UsageCredits__factory.connect(creditsAddress, signer) }
      : {}),
    addresses,
    log: (line) => console.log(line),
  };
}

/**
 * A revert as "ErrorName(arg=value, ...): what to do next", decoded from the deployed contracts' ABIs by
 * the one decoder every program shares (@hexmesh/contracts).
 */
export function decodeRevert(err: unknown): string {
  return describeContractError(err);
}

/** The credits ledger and its price source, or a clear error when the deployment has none. */
export async function openCredits(suite: Suite): Promise<{ credits: UsageCredits; price: IMeshPrice }> {
  if (suite.credits === undefined) {
    throw new TaskError(
      `the deployment on chain ${suite.chainId} has no ${CREDITS_KEY}; redeploy with the current module or pass --credits`,
    );
  }
  const price = IMeshPrice__factory.connect(await suite.credits.priceSource(), suite.signer);
  return { credits: suite.credits, price };
}

/** Credits are micro-USD: 1234567 -> "1234567 credits ($1.234567)". */
export function formatCredits(credits: bigint): string {
  const usd = formatUnits(credits, 6);
  return `${credits} credits ($${usd.endsWith(".0") ? usd.slice(0, -2) : usd})`;
}

/** A USD-per-MESH price with 18 decimals -> "$0.05". */
export function formatPrice(price: bigint): string {
  const usd = formatUnits(price, 18);
  return `$${usd.endsWith(".0") ? usd.slice(0, -2) : usd}`;
}

export interface TxResult {
  dryRun: boolean;
  to: string;
  function: string;
  args: unknown[];
  data: string;
  gas: bigint;
  hash?: string;
  gasUsed?: bigint;
}

/**
 * Estimates, then either prints the transaction (dry run) or sends it and waits for its receipt. A revert
 * in estimation is decoded into the contract's custom error.
 */
export async function sendOrDryRun(
  suite: Suite,
  contract: BaseContract,
  fn: string,
  args: unknown[],
  dryRun: boolean,
): Promise<TxResult> {
  const to = await contract.getAddress();
  const data = contract.interface.encodeFunctionData(fn, args);
  const fragment = contract.interface.getFunction(fn)!;
  let gas: bigint;
  try {
    gas = await suite.signer.estimateGas({ to, data });
  } catch (err) {
    throw new TaskError(`${fragment.name} would revert: ${decodeRevert(err)}`);
  }
  const shown = fragment.inputs
    .map((input, i) => `${input.name || `arg${i}`}=${describe(args[i])}`)
    .join(", ");
  if (dryRun) {
    suite.log(
      `dry run, not sent:\n  from  ${suite.signer.address}\n  to    ${to}\n  call  ${fragment.name}(${shown})\n  data  ${data}\n  gas   ${gas} (estimated)`,
    );
    return { dryRun: true, to, function: fragment.name, args, data, gas };
  }
  let tx: ContractTransactionResponse;
  try {
    tx = (await suite.signer.sendTransaction({ to, data })) as ContractTransactionResponse;
  } catch (err) {
    throw new TaskError(`${fragment.name} failed: ${decodeRevert(err)}`);
  }
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1)
    throw new TaskError(`${fragment.name} reverted in transaction ${tx.hash}`);
  suite.log(`sent ${fragment.name}: tx ${tx.hash}, gas used ${receipt.gasUsed}`);
  return {
    dryRun: false,
    to,
    function: fragment.name,
    args,
    data,
    gas,
    hash: tx.hash,
    gasUsed: receipt.gasUsed,
  };
}

function describe(v: unknown): string {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return `[${v.map(describe).join(", ")}]`;
  if (typeof v === "object" && v !== null) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}: ${describe(x)}`)
      .join(", ")}}`;
  }
  return String(v);
}

/** Refuses early, with the balance in MESH, when the signer cannot pay. */
export async function requireBalance(
  suite: Suite,
  owner: string,
  needed: bigint,
  purpose: string,
): Promise<void> {
  const balance = await suite.token.balanceOf(owner);
  if (balance < needed) {
    throw new TaskError(
      `insufficient MESH balance for ${purpose}: ${owner} has ${formatMesh(balance)}, needs ${formatMesh(needed)}`,
    );
  }
}

export async function requireNotPaused(
  contract: { paused(): Promise<boolean> },
  name: string,
): Promise<void> {
  if (await contract.paused())
    throw new TaskError(`the ${name} is paused by the guardian; try again once it is unpaused`);
}

/** A one-transaction EIP-2612 permit for `spender`, valid for an hour. */
export async function signPermit(suite: Suite, spender: string, value: bigint) {
  const latest = await suite.ethers.provider.getBlock("latest");
  const deadline = BigInt(latest!.timestamp) + 3_600n;
  const [, name, version, chainId, verifyingContract] = await suite.token.eip712Domain();
  const nonce = await suite.token.nonces(suite.signer.address);
  const signature = await suite.signer.signTypedData(
    { name, version, chainId, verifyingContract },
    PERMIT_TYPES,
    { owner: suite.signer.address, spender, value, nonce, deadline },
  );
  const sig = suite.ethers.Signature.from(signature);
  return { value, deadline, v: sig.v, r: sig.r, s: sig.s };
}
