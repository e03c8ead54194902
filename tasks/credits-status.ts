import { getAddress, isAddress } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { UNLIMITED_ALLOWANCE } from "@hexmesh/protocol";

import {
  formatCredits,
  formatPrice,
  openCredits,
  openSuite,
  TaskError,
  type CommonArgs,
} from "./lib/common.js";

/**
 * An account's credits: available balance, each registered spender's allowance and lock, and the usage
 * recorded against it (UsageRecorded events, by subnetwork and epoch); plus the MESH/USD price.
 */
export default async function creditsStatus(
  args: CommonArgs & { address: string; fromBlock: string },
  hre: HardhatRuntimeEnvironment,
) {
  const suite = await openSuite(hre, args);
  const { credits, price } = await openCredits(suite);
  const who = args.address === "" ? suite.signer.address : args.address;
  if (!isAddress(who)) throw new TaskError(`--address must be an address, got "${who}"`);
  const account = getAddress(who);
  if (!/^\d+$/.test(args.fromBlock))
    throw new TaskError(`--from-block must be a block number, got "${args.fromBlock}"`);
  const fromBlock = Number(args.fromBlock);

  const [[latest, updatedAt], average, fresh, balance] = await Promise.all([
    price.latestPrice(),
    price.averagePrice(),
    price.isFresh(),
    credits.balanceOf(account),
  ]);
  // Spenders ever registered, minus those removed: the events are the registry of spenders.
  const registered = await credits.queryFilter(credits.filters.SpenderRegistered(), fromBlock);
  const spenders = [...new Set(registered.map((e) => e.args.spender))];
  const grants = [];
  for (const spender of spenders) {
    const subnetwork = await credits.spenderSubnetwork(spender);
    const [allowance, locked] = await Promise.all([
      credits.allowance(account, spender),
      credits.locked(account, spender),
    ]);
    if (allowance === 0n && locked === 0n && subnetwork === "0x" + "00".repeat(32)) continue;
    grants.push({
      spender,
      subnetwork,
      registered: subnetwork !== "0x" + "00".repeat(32),
      allowance,
      locked,
    });
  }
  const usageEvents = await credits.queryFilter(credits.filters.UsageRecorded(), fromBlock);
  const usage = usageEvents
    .filter((e) => e.args.account === account)
    .map((e) => ({
      subnetwork: e.args.subnetwork,
      epoch: e.args.epoch,
      provider: e.args.provider,
      credits: e.args.credits,
      block: e.blockNumber,
    }));
  const consumed = usage.reduce((s, u) => s + u.credits, 0n);

  suite.log(`credits of ${account}: ${formatCredits(balance)} available`);
  for (const g of grants) {
    const allowance = g.allowance === UNLIMITED_ALLOWANCE ? "unlimited" : formatCredits(g.allowance);
    suite.log(
      `  spender ${g.spender}${g.registered ? ` (subnetwork ${g.subnetwork})` : " (removed: reclaim its lock)"}: allowance ${allowance}, locked ${formatCredits(g.locked)}`,
    );
  }
  suite.log(`  usage: ${usage.length} record(s), ${formatCredits(consumed)} consumed`);
  for (const u of usage)
    suite.log(
      `    epoch ${u.epoch} subnetwork ${u.subnetwork} provider ${u.provider}: ${formatCredits(u.credits)}`,
    );
  suite.log(
    `price: latest ${formatPrice(latest)} per MESH (observed at ${updatedAt}), 24-hour average ${formatPrice(average)}, ${fresh ? "fresh" : "STALE: buying credits is stopped"}`,
  );
  return { account, balance, grants, usage, consumed, price: { latest, updatedAt, average, fresh } };
}
