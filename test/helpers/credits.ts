/**
 * Shared helpers for the demand-side tests and the gas bench: MESH with a funded buyer, a
 * GovernedPrice or QuorumPrice, UsageCredits, and EIP-712 signing with the protocol's field lists
 * (what wallets and oracles sign). No top-level side effects.
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { parseUnits, type Signer, type Wallet } from "ethers";

import {
  creditsDomain,
  MESH_PRICE_TYPES,
  quorumPriceDomain,
  SPENDER_APPROVAL_TYPES,
  type SpenderApproval,
} from "@hexmesh/protocol";

import type { GovernedPrice, MeshToken, QuorumPrice, UsageCredits } from "../../typechain-types/index.js";
import { MESH } from "./rewards.js";
import { signPermit } from "./staking.js";

export { MESH };
export const USD = (s: string): bigint => parseUnits(s, 18);
/** $0.05 per MESH: 1 MESH buys 50,000 credits. */
export const PRICE = USD("0.05");
export const SUBNET_COVERAGE = "0x" + "11".repeat(32);
export const SUBNET_COMPUTE = "0x" + "22".repeat(32);
export const UNLIMITED = 2n ** 128n - 1n;

export interface CreditsSystem {
  token: MeshToken;
  price: GovernedPrice;
  credits: UsageCredits;
  admin: HardhatEthersSigner;
  buyer: HardhatEthersSigner;
  account: HardhatEthersSigner;
  spender: HardhatEthersSigner;
  spender2: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
}

/**
 * MESH (genesis 1,000,000 MESH to `buyer`), a GovernedPrice at $0.05 and UsageCredits, all
 * administered by `admin`; `spender` is registered for SUBNET_COVERAGE, `spender2` is not.
 */
export async function deployCredits(ethers: HardhatEthers): Promise<CreditsSystem> {
  const [deployer, admin, buyer, account, spender, spender2, outsider] = await ethers.getSigners();
  const token = (await ethers.deployContract("MeshToken", [
    buyer!.address,
    MESH(1_000_000),
    deployer!.address,
  ])) as unknown as MeshToken;
  const price = (await ethers.deployContract("GovernedPrice", [
    admin!.address,
    PRICE,
  ])) as unknown as GovernedPrice;
  const credits = (await ethers.deployContract("UsageCredits", [
    await token.getAddress(),
    admin!.address,
    await price.getAddress(),
  ])) as unknown as UsageCredits;
  await credits.connect(admin!).registerSpender(spender!.address, SUBNET_COVERAGE);
  return {
    token,
    price,
    credits,
    admin: admin!,
    buyer: buyer!,
    account: account!,
    spender: spender!,
    spender2: spender2!,
    outsider: outsider!,
  };
}

/** Approves and buys credits for `beneficiary` with `mesh` of `buyer`'s MESH. */
export async function buy(fx: CreditsSystem, mesh: bigint, beneficiary: string, buyer = fx.buyer) {
  await fx.token.connect(buyer).approve(await fx.credits.getAddress(), mesh);
  return fx.credits.connect(buyer).burnForCredits(mesh, 0n, beneficiary);
}

/** The account's SpenderApproval signature, as a wallet makes it. */
export async function signSpenderApproval(
  signer: Signer,
  credits: UsageCredits,
  value: SpenderApproval,
): Promise<string> {
  const chainId = (await signer.provider!.getNetwork()).chainId;
  const domain = creditsDomain(chainId, await credits.getAddress());
  return signer.signTypedData({ ...domain }, SPENDER_APPROVAL_TYPES, { ...value });
}

/** One oracle's signed MeshPrice report, as QuorumPrice.submit takes it. */
export async function signPriceReport(oracle: Wallet, quorum: QuorumPrice, price: bigint, timestamp: bigint) {
  const chainId = (await quorum.runner!.provider!.getNetwork()).chainId;
  const domain = quorumPriceDomain(chainId, await quorum.getAddress());
  const signature = await oracle.signTypedData({ ...domain }, MESH_PRICE_TYPES, { price, timestamp });
  return { price, timestamp, signature };
}

/** Receipt gas budgets the tests assert and the bench reports. */
export const CREDITS_GAS_BUDGETS: Record<string, bigint> = { "credits.burnForCredits": 90_000n };

/**
 * Receipt gas of the demand side's user operations, in steady state: a buyer who has bought before
 * (its MESH allowance and balance slots exist), a new beneficiary (its credits slot is created: the
 * costlier case), the price source warm from earlier purchases only across transactions (cold here).
 */
export async function measureCreditsGas(ethers: HardhatEthers): Promise<Record<string, bigint>> {
  const fx = await deployCredits(ethers);
  const creditsAddr = await fx.credits.getAddress();
  const gas = async (tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>) =>
    (await (await tx).wait())!.gasUsed;
  await fx.token.connect(fx.buyer).approve(creditsAddr, MESH(1_000));
  await fx.credits.connect(fx.buyer).burnForCredits(MESH(1), 0n, fx.buyer.address);
  const burnNew = await gas(fx.credits.connect(fx.buyer).burnForCredits(MESH(20), 0n, fx.account.address));
  const burnLater = await gas(fx.credits.connect(fx.buyer).burnForCredits(MESH(20), 0n, fx.account.address));
  const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 3600n;
  const p = await signPermit(ethers, fx.token, fx.buyer, creditsAddr, MESH(5), deadline);
  const burnPermit = await gas(
    fx.credits
      .connect(fx.buyer)
      .burnForCreditsWithPermit(MESH(5), 0n, fx.account.address, deadline, p.v, p.r, p.s),
  );
  const value = {
    account: fx.account.address,
    spender: fx.spender.address,
    allowance: UNLIMITED,
    nonce: 0n,
    deadline,
  };
  const signature = await signSpenderApproval(fx.account, fx.credits, value);
  const approveSig = await gas(
    fx.credits
      .connect(fx.outsider)
      .approveSpenderWithSig(value.account, value.spender, UNLIMITED, deadline, signature),
  );
  const consume = await gas(
    fx.credits.connect(fx.spender).consume(fx.account.address, 1n, fx.outsider.address, 1_000n),
  );
  const lock = await gas(fx.credits.connect(fx.spender).lock(fx.account.address, 10_000n));
  const consumeLocked = await gas(
    fx.credits.connect(fx.spender).consumeLocked(fx.account.address, 1n, fx.outsider.address, 5_000n),
  );
  const release = await gas(fx.credits.connect(fx.spender).release(fx.account.address, 5_000n));
  const burnCollected = await gas(fx.credits.connect(fx.outsider).burnCollected());
  return {
    "credits.burnForCredits": burnNew,
    "credits.burnForCredits.later": burnLater,
    "credits.burnForCreditsWithPermit": burnPermit,
    "credits.approveSpenderWithSig": approveSig,
    "credits.consume": consume,
    "credits.lock": lock,
    "credits.consumeLocked": consumeLocked,
    "credits.release": release,
    "credits.burnCollected": burnCollected,
  };
}
