/**
 * Shared helpers for the emissions and rewards tests and the gas bench: deployment of
 * token + controller + distributor + mock vault, oracle keys, EIP-712 signing the way an oracle
 * or an owner's wallet does it, and StandardMerkleTree trees. No top-level side effects.
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import {
  concat,
  getBytes,
  id,
  keccak256,
  Signature,
  toUtf8Bytes,
  Wallet,
  type Signer,
  type TypedDataDomain,
} from "ethers";

import {
  CLAIM_TYPES,
  DISTRIBUTOR_DOMAIN_NAME,
  DISTRIBUTOR_DOMAIN_VERSION,
  EPOCH_ROOT_TYPES,
} from "@hexmesh/protocol";

import type {
  EmissionsController,
  MeshToken,
  RewardsDistributor,
  StakingRewardsReceiverMock,
} from "../../typechain-types/index.js";

export const COVERAGE = id("hexmesh.coverage");
export const COMPUTE = id("hexmesh.compute");
export const GUARDIAN_ROLE = id("GUARDIAN_ROLE");
export const FUNDER_ROLE = id("FUNDER_ROLE");
export const DEFAULT_ADMIN_ROLE = "0x" + "00".repeat(32);

export const MESH = (n: bigint | number): bigint => BigInt(n) * 10n ** 18n;
export const CAP = MESH(1_000_000_000n);
export const GENESIS_ALLOCATION = MESH(300_000_000n);

// The distributor's field lists are the protocol's (what oracles and wallets sign), so tests and the
// signing code cannot drift apart.
export { CLAIM_TYPES, EPOCH_ROOT_TYPES };

export interface EpochRootValue {
  epoch: bigint;
  root: string;
  totalCumulative: bigint;
  dataHash: string;
  oracleSetVersion: bigint;
}

export interface ClaimValue {
  owner: string;
  cumulative: bigint;
  relayer: string;
  fee: bigint;
  nonce: bigint;
  deadline: bigint;
}

/** Deterministic oracle keys (as an operator's key file would hold them). */
export function oracleWallets(count: number, salt = "hexmesh oracle"): Wallet[] {
  return Array.from({ length: count }, (_, i) => new Wallet(keccak256(toUtf8Bytes(`${salt} ${i}`))));
}

/** Sorts wallets by address, ascending (the order postRoot requires). */
export function byAddress<T extends { address: string }>(signers: readonly T[]): T[] {
  return [...signers].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
}

export async function distributorDomain(
  distributor: RewardsDistributor,
  overrides: { chainId?: bigint; verifyingContract?: string } = {},
): Promise<TypedDataDomain> {
  const chainId = overrides.chainId ?? (await distributor.runner!.provider!.getNetwork()).chainId;
  return {
    name: DISTRIBUTOR_DOMAIN_NAME,
    version: DISTRIBUTOR_DOMAIN_VERSION,
    chainId,
    verifyingContract: overrides.verifyingContract ?? (await distributor.getAddress()),
  };
}

/** One 65-byte r || s || v signature of an EpochRoot, made by an oracle key. */
export async function signEpochRoot(
  wallet: Wallet,
  domain: TypedDataDomain,
  value: EpochRootValue,
): Promise<string> {
  return Signature.from(await wallet.signTypedData(domain, EPOCH_ROOT_TYPES, value)).serialized;
}

/** Signs with every wallet, in the given order, and concatenates the 65-byte signatures. */
export async function packedSignatures(
  wallets: readonly Wallet[],
  domain: TypedDataDomain,
  value: EpochRootValue,
): Promise<string> {
  const sigs = await Promise.all(wallets.map((w) => signEpochRoot(w, domain, value)));
  return concat(sigs.map((s) => getBytes(s)));
}

export async function signClaim(signer: Signer, domain: TypedDataDomain, value: ClaimValue): Promise<string> {
  return signer.signTypedData(domain, CLAIM_TYPES, value);
}

export type Entry = [string, bigint];

/** The oracle's tree: StandardMerkleTree of (owner, lifetime cumulative). */
export function buildTree(entries: readonly Entry[]): StandardMerkleTree<[string, bigint]> {
  return StandardMerkleTree.of(
    entries.map(([a, c]) => [a, c] as [string, bigint]),
    ["address", "uint256"],
  );
}

export function proofOf(tree: StandardMerkleTree<[string, bigint]>, owner: string): string[] {
  for (const [i, [a]] of tree.entries()) {
    if (a.toLowerCase() === owner.toLowerCase()) return tree.getProof(i);
  }
  throw new Error(`no leaf for ${owner}`);
}

export function totalOf(entries: readonly Entry[]): bigint {
  return entries.reduce((s, [, c]) => s + c, 0n);
}

export interface SystemOptions {
  genesisOffset?: bigint; // seconds from now to genesis (default 0: genesis = now)
  epochLength?: bigint;
  initialEmission?: bigint;
  halvingInterval?: bigint;
  emissionCap?: bigint;
  stakingBps?: number;
  treasuryBps?: number;
  oracles?: number;
  threshold?: number;
  challengeWindow?: bigint;
}

export interface RewardsSystem {
  token: MeshToken;
  controller: EmissionsController;
  distributor: RewardsDistributor;
  vault: StakingRewardsReceiverMock;
  oracles: Wallet[]; // sorted by address
  deployer: HardhatEthersSigner;
  admin: HardhatEthersSigner;
  guardian: HardhatEthersSigner;
  treasury: HardhatEthersSigner;
  genesisTime: bigint;
  epochLength: bigint;
  challengeWindow: bigint;
}

/**
 * Deploys MESH, the mock vault, the coverage distributor and the controller, makes the controller
 * the token's minter and the distributor's funder. Signers 0..3 are deployer, admin, guardian, treasury.
 */
export async function deployRewardsSystem(
  ethers: HardhatEthers,
  opts: SystemOptions = {},
): Promise<RewardsSystem> {
  const [deployer, admin, guardian, treasury] = await ethers.getSigners();
  const epochLength = opts.epochLength ?? 86_400n;
  const challengeWindow = opts.challengeWindow ?? 6n * 3600n;
  const oracles = byAddress(oracleWallets(opts.oracles ?? 5));
  const token = (await ethers.deployContract("MeshToken", [
    treasury!.address,
    GENESIS_ALLOCATION,
    deployer!.address,
  ])) as unknown as MeshToken;
  const vault = (await ethers.deployContract("StakingRewardsReceiverMock", [
    await token.getAddress(),
  ])) as unknown as StakingRewardsReceiverMock;
  const distributor = (await ethers.deployContract("RewardsDistributor", [
    await token.getAddress(),
    COVERAGE,
    admin!.address,
    guardian!.address,
    oracles.map((o) => o.address),
    opts.threshold ?? 3,
    challengeWindow,
  ])) as unknown as RewardsDistributor;
  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const genesisTime = now + (opts.genesisOffset ?? 0n);
  const controller = (await ethers.deployContract("EmissionsController", [
    {
      token: await token.getAddress(),
      admin: admin!.address,
      treasury: treasury!.address,
      stakingVault: await vault.getAddress(),
      genesisTime,
      epochLength,
      initialEmission: opts.initialEmission ?? MESH(1_000_000n),
      halvingInterval: opts.halvingInterval ?? 365n,
      emissionCap: opts.emissionCap ?? CAP - GENESIS_ALLOCATION,
      stakingBps: opts.stakingBps ?? 3_000,
      treasuryBps: opts.treasuryBps ?? 1_000,
      subnetwork: COVERAGE,
      distributor: await distributor.getAddress(),
    },
  ])) as unknown as EmissionsController;
  await token.connect(deployer!).setMinter(await controller.getAddress());
  await distributor.connect(admin!).grantRole(FUNDER_ROLE, await controller.getAddress());
  return {
    token,
    controller,
    distributor,
    vault,
    oracles,
    deployer: deployer!,
    admin: admin!,
    guardian: guardian!,
    treasury: treasury!,
    genesisTime,
    epochLength,
    challengeWindow,
  };
}
