/**
 * Shared setup for the storage tests and the gas bench: the real MESH, GovernedPrice, UsageCredits,
 * DeviceRegistry (a storage device class, a provider's device onboarded with maker and device
 * signatures), StakingVault (the provider bonded), EmissionsController (the epoch clock) and
 * StorageDeals registered as the storage spender; and the client/provider moves of a deal built
 * with @hexmesh/protocol's piece trees and challenge derivation. No top-level side effects.
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import { Wallet } from "ethers";

import {
  buildPieceProofs,
  challengeGlobalLeaf,
  periodChallenges,
  toHex,
  ZERO_SUBTREES,
} from "@hexmesh/protocol";

import type {
  DeviceRegistry,
  EmissionsController,
  GovernedPrice,
  MeshToken,
  StakingVault,
  StorageDeals,
  UsageCredits,
} from "../../typechain-types/index.js";
import { USD } from "./credits.js";
import { secp256k1Device } from "./registry.js";
import {
  deployRegistry,
  MAKER_ID,
  MESH,
  onboardedDeviceId,
  prepareOnboard,
  type RegistryFixture,
} from "./registryFixture.js";

export const SUBNET_STORAGE = "0x" + "33".repeat(32);
/** The registry's subnetwork number of storage device classes (coverage is 0). */
export const STORAGE_CLASS_SUBNETWORK = 2;
export const CLASS_STORAGE = 5;
export const CLASS_COVERAGE = 1;
export const DAY = 86_400n;
export const WINDOW = 1_800n;
export const BOND = MESH(100);
export const UNLIMITED = 2n ** 128n - 1n;
/** $0.05 per MESH. */
export const MESH_PRICE = USD("0.05");

export interface StorageSystem {
  ethers: HardhatEthers;
  helpers: NetworkHelpers;
  token: MeshToken;
  price: GovernedPrice;
  credits: UsageCredits;
  registry: DeviceRegistry;
  vault: StakingVault;
  controller: EmissionsController;
  deals: StorageDeals;
  admin: HardhatEthersSigner;
  client: HardhatEthersSigner;
  provider: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
  /** The provider's storage device, and a coverage device of the outsider's. */
  storageDevice: bigint;
  coverageDevice: bigint;
  /** Onboards a device of `deviceClass` for `owner` (maker and device signatures); its id. */
  onboard: (owner: string, deviceClass: number) => Promise<bigint>;
}

export async function deployStorage(ethers: HardhatEthers, helpers: NetworkHelpers): Promise<StorageSystem> {
  const [deployer, admin, treasury, client, provider, outsider, keeper] = await ethers.getSigners();
  const token = (await ethers.deployContract("MeshToken", [
    treasury!.address,
    MESH(10_000_000),
    deployer!.address,
  ])) as unknown as MeshToken;
  const tokenAddr = await token.getAddress();
  const price = (await ethers.deployContract("GovernedPrice", [
    admin!.address,
    MESH_PRICE,
  ])) as unknown as GovernedPrice;
  const credits = (await ethers.deployContract("UsageCredits", [
    tokenAddr,
    admin!.address,
    await price.getAddress(),
  ])) as unknown as UsageCredits;
  const registry = await deployRegistry(ethers, admin!.address, tokenAddr);
  const makerKey = new Wallet(Wallet.createRandom().privateKey);
  await registry.connect(admin!).addMaker(MAKER_ID, makerKey.address, 100);
  await registry
    .connect(admin!)
    .setDeviceClass(CLASS_STORAGE, { enabled: true, subnetwork: STORAGE_CLASS_SUBNETWORK, onboardingFee: 0 });
  await registry
    .connect(admin!)
    .setDeviceClass(CLASS_COVERAGE, { enabled: true, subnetwork: 0, onboardingFee: 0 });
  const { chainId } = await ethers.provider.getNetwork();
  const regFx = { ethers, registry, chainId, makerKey } as unknown as RegistryFixture;
  const onboard = async (owner: string, deviceClass: number) => {
    const call = await prepareOnboard(regFx, { device: secp256k1Device(), owner, deviceClass });
    const tx = await registry.onboard(call.req, call.makerSignature, call.deviceSignature);
    return onboardedDeviceId(registry, await tx.wait());
  };
  const storageDevice = await onboard(provider!.address, CLASS_STORAGE);
  const coverageDevice = await onboard(outsider!.address, CLASS_COVERAGE);

  const vault = (await ethers.deployContract("StakingVault", [
    admin!.address,
    tokenAddr,
    await registry.getAddress(),
    treasury!.address,
    DAY,
    7n * DAY,
  ])) as unknown as StakingVault;
  await vault.connect(admin!).setMinStakePerDevice(BOND);
  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const coverage = "0x" + "11".repeat(32);
  const pool = await ethers.deployContract("RevertingDistributorMock", [coverage]);
  const controller = (await ethers.deployContract("EmissionsController", [
    {
      token: tokenAddr,
      admin: admin!.address,
      treasury: treasury!.address,
      stakingVault: await vault.getAddress(),
      genesisTime: now,
      epochLength: DAY,
      initialEmission: MESH(1_000_000),
      halvingInterval: 365n,
      emissionCap: MESH(500_000_000),
      stakingBps: 3_000,
      treasuryBps: 1_000,
      subnetwork: coverage,
      distributor: await pool.getAddress(),
    },
  ])) as unknown as EmissionsController;
  const deals = (await ethers.deployContract("StorageDeals", [
    await credits.getAddress(),
    await registry.getAddress(),
    await vault.getAddress(),
    await controller.getAddress(),
    STORAGE_CLASS_SUBNETWORK,
    admin!.address,
  ])) as unknown as StorageDeals;
  const dealsAddr = await deals.getAddress();
  await credits.connect(admin!).registerSpender(dealsAddr, SUBNET_STORAGE);

  for (const who of [client!, provider!, outsider!])
    await token.connect(treasury!).transfer(who.address, MESH(100_000));
  // The provider bonds its device; the client buys $2,500 of credits and lets the market spend them.
  await token.connect(provider!).approve(await vault.getAddress(), BOND);
  await vault.connect(provider!).stake(BOND);
  await token.connect(client!).approve(await credits.getAddress(), MESH(50_000));
  await credits.connect(client!).burnForCredits(MESH(50_000), 0n, client!.address);
  await credits.connect(client!).approveSpender(dealsAddr, UNLIMITED);
  await token.connect(provider!).approve(dealsAddr, MESH(100_000));
  return {
    ethers,
    helpers,
    token,
    price,
    credits,
    registry,
    vault,
    controller,
    deals,
    admin: admin!,
    client: client!,
    provider: provider!,
    outsider: outsider!,
    keeper: keeper!,
    storageDevice,
    coverageDevice,
    onboard,
  };
}

/** A piece's bytes held by the test (the client's file and the provider's copy). */
export type PieceData = Uint8Array;

/** Creates, accepts and funds a data set with `pieces`; the provider deposits the full collateral. */
export async function openDataSet(fx: StorageSystem, pieces: readonly PieceData[]): Promise<bigint> {
  await fx.deals.connect(fx.client).createDataSet(fx.storageDevice);
  const id = await fx.deals.dataSetCount();
  await fx.deals.connect(fx.provider).acceptDataSet(id);
  await addPieces(fx, id, pieces);
  await topUpCollateral(fx, id);
  return id;
}

export async function addPieces(fx: StorageSystem, id: bigint, pieces: readonly PieceData[]) {
  const inputs = pieces.map((data) => ({ root: buildPieceProofs(data, []).piece.root, size: data.length }));
  return fx.deals.connect(fx.client).addPieces(id, inputs);
}

/** Deposits whatever collateral the data set still needs. */
export async function topUpCollateral(fx: StorageSystem, id: bigint) {
  const required = await fx.deals.requiredCollateral(id);
  const held = (await fx.deals.dataSet(id)).collateral;
  if (required > held) await fx.deals.connect(fx.provider).depositCollateral(id, required - held);
}

/** Moves the chain to the opening of the next proof window (this period's, or the next one's if open). */
export async function toWindow(fx: StorageSystem, id: bigint) {
  let target = (await currentPeriodEnd(fx, id)) - WINDOW;
  if (BigInt(await fx.helpers.time.latest()) >= target) target += DAY;
  await fx.helpers.time.increaseTo(target);
}

/** End of the period the chain's clock is in (the stored one until someone settles it). */
export async function currentPeriodEnd(fx: StorageSystem, id: bigint): Promise<bigint> {
  const { periodEnd } = await fx.deals.dataSet(id);
  const now = BigInt(await fx.helpers.time.latest());
  return now < periodEnd ? periodEnd : periodEnd + DAY * ((now - periodEnd) / DAY + 1n);
}

/** A keeper arms the current period's challenge; one block later it is readable. */
export async function arm(fx: StorageSystem, id: bigint) {
  await fx.deals.connect(fx.keeper).recordSeed(id);
  await fx.helpers.mine(1);
}

/**
 * The provider's answer to the current period's challenges: the seed (recorded, or readable from the
 * armed block), the challenges derived off chain, and proofs built from the provider's copies.
 */
export async function buildProofs(fx: StorageSystem, id: bigint, copies: readonly PieceData[]) {
  const ds = await fx.deals.dataSet(id);
  let seed = ds.seed;
  if (BigInt(seed) === 0n) seed = (await fx.ethers.provider.getBlock(Number(ds.challengeBlock)))!.hash!;
  // Only the pieces the challenge was armed over (a prefix of the data set, in order).
  let leaves = 0n;
  const sizes: number[] = [];
  for (const data of copies) {
    if (leaves >= ds.challengedLeaves) break;
    sizes.push(data.length);
    leaves += BigInt(Math.ceil(data.length / 32));
  }
  const challenges = periodChallenges(seed, id, ds.period, Number(ds.challengeCount), sizes);
  return challenges.map((c) => {
    const { proofs } = buildPieceProofs(copies[c.pieceIndex]!, [c.leafIndex]);
    return { pieceIndex: c.pieceIndex, leaf: proofs[0]!.leaf, path: proofs[0]!.path };
  });
}

/** Arms, builds and submits the current period's proof in its window. */
export async function provePeriod(fx: StorageSystem, id: bigint, copies: readonly PieceData[]) {
  await toWindow(fx, id);
  await arm(fx, id);
  return fx.deals.connect(fx.provider).provePossession(id, await buildProofs(fx, id, copies));
}

/** Receipt gas budgets the tests assert and the bench reports (issue 19). */
export const STORAGE_GAS_BUDGETS: Record<string, bigint> = {
  "storage.provePossession.k5.32GiB": 250_000n,
  "storage.addPieces.first": 120_000n,
  "storage.addPieces.one": 120_000n,
  "storage.addPieces.one.sameRate": 120_000n,
};

/**
 * Receipt gas of a deal's operations at the default price and K = 5. The proof runs on a data set of
 * a 32 GiB piece (2^30 leaves, a 30-deep path per challenge; then a 32 MiB and a 256-byte piece, whose
 * leaves are challenged about once in a thousand proofs) whose content is all zero bytes: its
 * root is ZERO_SUBTREES[30] and every leaf's path is ZERO_SUBTREES[0..29], so any challenge can be
 * answered without 32 GiB of data. The leaves in calldata are then zero bytes (4 gas each instead of
 * 16): real data costs at most 5 x 32 x 12 = 1,920 gas more.
 */
export async function measureStorageGas(
  ethers: HardhatEthers,
  helpers: NetworkHelpers,
): Promise<Record<string, bigint>> {
  const fx = await deployStorage(ethers, helpers);
  const gas = async (tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>) =>
    (await (await tx).wait())!.gasUsed;
  const create = await gas(fx.deals.connect(fx.client).createDataSet(fx.storageDevice));
  const id = await fx.deals.dataSetCount();
  const accept = await gas(fx.deals.connect(fx.provider).acceptDataSet(id));
  const height = 30;
  const size = 2n ** BigInt(height + 5);
  const root = toHex(ZERO_SUBTREES[height]!);
  const addFirst = await gas(fx.deals.connect(fx.client).addPieces(id, [{ root, size }]));
  // A later piece that raises the rate (32 MiB adds 2.5 credits a period): the lock is topped up and
  // the collateral rate re-priced, as for the first piece; then one too small to change the rate.
  const secondHeight = 20;
  const addOne = await gas(
    fx.deals
      .connect(fx.client)
      .addPieces(id, [{ root: toHex(ZERO_SUBTREES[secondHeight]!), size: 2n ** BigInt(secondHeight + 5) }]),
  );
  const addSameRate = await gas(
    fx.deals.connect(fx.client).addPieces(id, [{ root: toHex(ZERO_SUBTREES[3]!), size: 256n }]),
  );
  const deposit = await gas(
    fx.deals.connect(fx.provider).depositCollateral(id, await fx.deals.requiredCollateral(id)),
  );
  const path = ZERO_SUBTREES.slice(0, height).map((z) => toHex(z));
  const zeroLeaf = "0x" + "00".repeat(32);
  const proofsNow = async () => {
    const ds = await fx.deals.dataSet(id);
    let seed = ds.seed;
    if (BigInt(seed) === 0n) seed = (await ethers.provider.getBlock(Number(ds.challengeBlock)))!.hash!;
    const proofs = [];
    for (let i = 0; i < Number(ds.challengeCount); i++) {
      const leaf = challengeGlobalLeaf(seed, id, ds.period, i, ds.challengedLeaves);
      // The later pieces (32 MiB, then 256 bytes) sit after the big one; each has its own zero path.
      const pieceIndex =
        leaf < 2n ** BigInt(height) ? 0 : leaf < 2n ** BigInt(height) + 2n ** BigInt(secondHeight) ? 1 : 2;
      proofs.push({ pieceIndex, leaf: zeroLeaf, path: path.slice(0, [height, secondHeight, 3][pieceIndex]) });
    }
    return proofs;
  };
  await toWindow(fx, id);
  const arm = await gas(fx.deals.connect(fx.keeper).recordSeed(id));
  await helpers.mine(1);
  const prove = await gas(fx.deals.connect(fx.provider).provePossession(id, await proofsNow()));
  // Next period (arming settles the last one): the seed recorded by a keeper first, then the proof.
  await toWindow(fx, id);
  await fx.deals.connect(fx.keeper).recordSeed(id);
  await helpers.mine(1);
  const record = await gas(fx.deals.connect(fx.keeper).recordSeed(id));
  const proveRecorded = await gas(fx.deals.connect(fx.provider).provePossession(id, await proofsNow()));
  // Two armed misses: the free one, then a fee (half to the client, half burned), settled by anyone.
  await toWindow(fx, id);
  await fx.deals.connect(fx.keeper).recordSeed(id);
  await toWindow(fx, id);
  await fx.deals.connect(fx.keeper).recordSeed(id);
  await helpers.time.increase(WINDOW);
  const settleFault = await gas(fx.deals.connect(fx.keeper).settle(id));
  const declare = await gas(fx.deals.connect(fx.provider).declareFault(id));
  const terminate = await gas(fx.deals.connect(fx.client).terminateByClient(id));
  return {
    "storage.createDataSet": create,
    "storage.acceptDataSet": accept,
    "storage.addPieces.first": addFirst,
    "storage.addPieces.one": addOne,
    "storage.addPieces.one.sameRate": addSameRate,
    "storage.depositCollateral": deposit,
    "storage.recordSeed.arm": arm,
    "storage.recordSeed.record": record,
    "storage.provePossession.k5.32GiB": prove,
    "storage.provePossession.k5.32GiB.seedRecorded": proveRecorded,
    "storage.settle.faultFee": settleFault,
    "storage.declareFault": declare,
    "storage.terminateByClient": terminate,
  };
}

/**
 * The contract's books balance: the MESH it holds is exactly every data set's collateral plus what it
 * owes (fee halves for clients) plus fees waiting to burn, and the credits UsageCredits holds locked
 * for it on the client's account are exactly the sum of the data sets' locks.
 */
export async function expectBooksBalance(fx: StorageSystem, owedTo: readonly string[]) {
  const count = await fx.deals.dataSetCount();
  let collateral = 0n;
  let locked = 0n;
  for (let id = 1n; id <= count; id++) {
    const ds = await fx.deals.dataSet(id);
    collateral += ds.collateral;
    locked += ds.locked;
  }
  let owed = 0n;
  for (const a of owedTo) owed += await fx.deals.meshOwed(a);
  const held = await fx.token.balanceOf(await fx.deals.getAddress());
  if (held !== collateral + owed + (await fx.deals.feesToBurn())) {
    throw new Error(`MESH books: holds ${held}, owes ${collateral} collateral + ${owed} owed + fees to burn`);
  }
  const lockedInLedger = await fx.credits.locked(fx.client.address, await fx.deals.getAddress());
  if (lockedInLedger !== locked)
    throw new Error(`credits books: ledger ${lockedInLedger}, data sets ${locked}`);
}
