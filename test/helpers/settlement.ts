/**
 * Shared helpers for the data-transfer settlement tests and the gas bench: the rewards system (token,
 * controller, coverage distributor and its oracle set) with a GovernedPrice, UsageCredits and a
 * DataTransferSettlement registered as the coverage spender; routers funded with credits; settlements
 * signed by the oracles with the protocol's field list, as the oracle service signs them. No top-level
 * side effects.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { concat, getBytes, keccak256, Signature, toUtf8Bytes, Wallet } from "ethers";

import {
  compareSettlementEntries,
  DATA_TRANSFER_SETTLEMENT_TYPES,
  dataTransferDomain,
  settlementEntriesHash,
  type Hex,
  type SettlementEntry,
} from "@hexmesh/protocol";

import type { DataTransferSettlement, GovernedPrice, UsageCredits } from "../../typechain-types/index.js";
import { PRICE, signSpenderApproval, UNLIMITED } from "./credits.js";
import { COVERAGE, deployRewardsSystem, MESH, type RewardsSystem, type SystemOptions } from "./rewards.js";

export interface SettlementSystem extends RewardsSystem {
  price: GovernedPrice;
  credits: UsageCredits;
  settlement: DataTransferSettlement;
  chainId: bigint;
}

/** The rewards system (5 oracles, k = 3, one-day epochs from now) plus credits and the settlement. */
export async function deploySettlementSystem(
  ethers: HardhatEthers,
  opts: SystemOptions = {},
): Promise<SettlementSystem> {
  const sys = await deployRewardsSystem(ethers, opts);
  const price = (await ethers.deployContract("GovernedPrice", [
    sys.admin.address,
    PRICE,
  ])) as unknown as GovernedPrice;
  const credits = (await ethers.deployContract("UsageCredits", [
    await sys.token.getAddress(),
    sys.admin.address,
    await price.getAddress(),
  ])) as unknown as UsageCredits;
  const settlement = (await ethers.deployContract("DataTransferSettlement", [
    await credits.getAddress(),
    await sys.distributor.getAddress(),
    await sys.controller.getAddress(),
    sys.admin.address,
    1n,
  ])) as unknown as DataTransferSettlement;
  await credits.connect(sys.admin).registerSpender(await settlement.getAddress(), COVERAGE);
  const chainId = (await ethers.provider.getNetwork()).chainId;
  return { ...sys, price, credits, settlement, chainId };
}

/** Deterministic router keys (a router signs receipts and approvals with its Ethereum key). */
export function routerWallets(count: number, salt = "hexmesh router"): Wallet[] {
  return Array.from({ length: count }, (_, i) => new Wallet(keccak256(toUtf8Bytes(`${salt} ${i}`))));
}

/** Deterministic provider (hotspot owner) addresses. */
export function providerAddresses(count: number, salt = "hexmesh provider"): Hex[] {
  return routerWallets(count, salt).map((w) => w.address.toLowerCase() as Hex);
}

/**
 * Buys `credits` for each router with the treasury's MESH and authorizes the settlement with each
 * router's signed approval (`allowance`, unlimited by default), submitted by the treasury.
 */
export async function fundRouters(
  ethers: HardhatEthers,
  sys: SettlementSystem,
  routers: readonly Wallet[],
  meshEach: bigint,
  allowance = UNLIMITED,
): Promise<void> {
  const creditsAddr = await sys.credits.getAddress();
  const settlementAddr = await sys.settlement.getAddress();
  await sys.token.connect(sys.treasury).approve(creditsAddr, meshEach * BigInt(routers.length));
  const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 86_400n * 365n;
  for (const router of routers) {
    await sys.credits.connect(sys.treasury).burnForCredits(meshEach, 0n, router.address);
    const value = { account: router.address, spender: settlementAddr, allowance, nonce: 0n, deadline };
    const signature = await signSpenderApproval(router.connect(ethers.provider), sys.credits, value);
    await sys.credits
      .connect(sys.treasury)
      .approveSpenderWithSig(router.address, settlementAddr, allowance, deadline, signature);
  }
}

/** The oracles' signatures (ascending signers) of a settlement, concatenated as `settle` takes them. */
export async function signSettlement(
  sys: SettlementSystem,
  oracles: readonly Wallet[],
  epoch: bigint,
  entries: readonly SettlementEntry[],
  oracleSetVersion = 1n,
  settlementAddress?: string,
): Promise<string> {
  const domain = dataTransferDomain(sys.chainId, settlementAddress ?? (await sys.settlement.getAddress()));
  const value = { epoch, entriesHash: settlementEntriesHash(entries), oracleSetVersion };
  const sigs = await Promise.all(
    oracles.map(
      async (o) =>
        Signature.from(await o.signTypedData({ ...domain }, DATA_TRANSFER_SETTLEMENT_TYPES, value))
          .serialized,
    ),
  );
  return concat(sigs.map((s) => getBytes(s)));
}

/** Entries as `settle` takes them. */
export const asUsages = (entries: readonly SettlementEntry[]) =>
  entries.map((e) => ({ account: e.router, provider: e.provider, credits: e.credits }));

/** One entry per router, all to one provider, `credits` each: sorted by router. */
export function entriesFor(
  routers: readonly Wallet[],
  providers: readonly Hex[],
  credits: bigint,
): SettlementEntry[] {
  const out: SettlementEntry[] = [];
  for (const r of routers) {
    for (const p of providers) out.push({ router: r.address.toLowerCase() as Hex, provider: p, credits });
  }
  return out.sort(compareSettlementEntries);
}

/** Receipt gas budget the tests assert and the bench reports (issue 17). */
export const SETTLEMENT_GAS_BUDGETS: Record<string, bigint> = { "settlement.settle.100routers": 1_500_000n };

/**
 * Receipt gas of `settle` (the first ever, then) for 1, 10 and 100 routers with one provider each, and 100 routers with 3
 * providers each; routers hold credits from earlier purchases and approved the settlement unlimited
 * (their allowance is not written), each epoch a fresh one, 3 of 5 oracles signing.
 */
export async function measureSettlementGas(ethers: HardhatEthers): Promise<Record<string, bigint>> {
  const sys = await deploySettlementSystem(ethers);
  const routers = routerWallets(100);
  await fundRouters(ethers, sys, routers, MESH(1n));
  const providers = providerAddresses(3);
  const signers = sys.oracles.slice(0, 3);
  const out: Record<string, bigint> = {};
  let epoch = 0n;
  const settleGas = async (entries: SettlementEntry[]) => {
    await ethers.provider.send("evm_setNextBlockTimestamp", [
      Number(sys.genesisTime + (epoch + 1n) * sys.epochLength),
    ]);
    const sigs = await signSettlement(sys, signers, epoch, entries);
    const tx = await sys.settlement.settle(epoch, 1n, asUsages(entries), sigs);
    epoch += 1n;
    return (await tx.wait())!.gasUsed;
  };
  const bounded = routerWallets(1, "hexmesh bounded router");
  await fundRouters(ethers, sys, bounded, MESH(1n), 1_000_000n);
  // Steady state: the first settlement ever also creates the next-epoch slot (+17,100).
  out["settlement.settle.first"] = await settleGas(
    entriesFor(routers.slice(0, 1), providers.slice(0, 1), 10n),
  );
  out["settlement.settle.1router"] = await settleGas(
    entriesFor(routers.slice(0, 1), providers.slice(0, 1), 10n),
  );
  out["settlement.settle.1router.boundedAllowance"] = await settleGas(
    entriesFor(bounded, providers.slice(0, 1), 10n),
  );
  out["settlement.settle.10routers"] = await settleGas(
    entriesFor(routers.slice(0, 10), providers.slice(0, 1), 10n),
  );
  out["settlement.settle.100routers"] = await settleGas(entriesFor(routers, providers.slice(0, 1), 10n));
  out["settlement.settle.100routers.3providers"] = await settleGas(entriesFor(routers, providers, 10n));
  return out;
}
