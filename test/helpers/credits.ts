/**
 * Shared helpers for the demand-side tests and the gas bench: MESH with a funded buyer, a
 * GovernedPrice or QuorumPrice, UsageCredits, and EIP-712 signing with the protocol's field lists
 * (what wallets and oracles sign). No top-level side effects.
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { parseUnits, Signature, type Signer, type Wallet } from "ethers";

import {
  creditsDomain,
  MESH_PRICE_TYPES,
  quorumPriceDomain,
  SPENDER_APPROVAL_TYPES,
  type SpenderApproval,
} from "@hexmesh/protocol";

import type { GovernedPrice, MeshToken, QuorumPrice, UsageCredits } from "../../typechain-types/index.js";
import { MESH } from "./rewards.js";

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

/** An EIP-2612 permit of `value` MESH from `owner` to `spender`, split for the contract call. */
export async function signPermit(
  token: MeshToken,
  owner: HardhatEthersSigner,
  spender: string,
  value: bigint,
  deadline: bigint,
) {
  const chainId = (await owner.provider.getNetwork()).chainId;
  const domain = { name: "Hexmesh", version: "1", chainId, verifyingContract: await token.getAddress() };
  const types = {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  };
  const nonce = await token.nonces(owner.address);
  const sig = Signature.from(
    await owner.signTypedData(domain, types, { owner: owner.address, spender, value, nonce, deadline }),
  );
  return { v: sig.v, r: sig.r, s: sig.s };
}

/** One oracle's signed MeshPrice report, as QuorumPrice.submit takes it. */
export async function signPriceReport(oracle: Wallet, quorum: QuorumPrice, price: bigint, timestamp: bigint) {
  const chainId = (await quorum.runner!.provider!.getNetwork()).chainId;
  const domain = quorumPriceDomain(chainId, await quorum.getAddress());
  const signature = await oracle.signTypedData({ ...domain }, MESH_PRICE_TYPES, { price, timestamp });
  return { price, timestamp, signature };
}
