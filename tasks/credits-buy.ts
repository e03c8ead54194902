import { getAddress, isAddress } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  formatCredits,
  formatMesh,
  formatPrice,
  openCredits,
  openSuite,
  parseMesh,
  requireBalance,
  sendOrDryRun,
  signPermit,
  TaskError,
  type CommonArgs,
} from "./lib/common.js";

/**
 * Buys usage credits: an EIP-2612 permit signed off chain, then burnForCreditsWithPermit, at the price
 * source's conservative price, refusing less than the quote minus --slippage percent.
 */
export default async function creditsBuy(
  args: CommonArgs & { amount: string; beneficiary: string; slippage: string },
  hre: HardhatRuntimeEnvironment,
) {
  const suite = await openSuite(hre, args);
  const { credits, price } = await openCredits(suite);
  const amount = parseMesh(args.amount);
  if (amount === 0n) throw new TaskError("amount must be more than 0 MESH");
  const who = args.beneficiary === "" ? suite.signer.address : args.beneficiary;
  if (!isAddress(who)) throw new TaskError(`--beneficiary must be an address, got "${who}"`);
  const beneficiary = getAddress(who);
  const slippage = Number(args.slippage);
  if (!Number.isFinite(slippage) || slippage < 0 || slippage > 100)
    throw new TaskError(`--slippage must be a percentage from 0 to 100, got "${args.slippage}"`);
  if (!(await price.isFresh())) {
    const [, updatedAt] = await price.latestPrice();
    throw new TaskError(
      `the MESH/USD price is stale (last updated at ${updatedAt}): buying credits is stopped until it is updated`,
    );
  }
  await requireBalance(suite, suite.signer.address, amount, "buying credits");
  const quoted = await credits.quote(amount);
  if (quoted === 0n) throw new TaskError(`${formatMesh(amount)} buys less than one credit`);
  // Basis points of the slippage, so "0.5" works.
  const minCredits = (quoted * BigInt(Math.round((100 - slippage) * 100))) / 10_000n;
  suite.log(
    `buying ${formatCredits(quoted)} for ${beneficiary} with ${formatMesh(amount)} at ${formatPrice(await price.creditPrice())} per MESH (at least ${minCredits})`,
  );
  const permit = await signPermit(suite, await credits.getAddress(), amount);
  const result = await sendOrDryRun(
    suite,
    credits,
    "burnForCreditsWithPermit",
    [amount, minCredits, beneficiary, permit.deadline, permit.v, permit.r, permit.s],
    args.dryRun,
  );
  if (result.dryRun) return { ...result, quoted, minCredits };
  const receipt = await suite.ethers.provider.getTransactionReceipt(result.hash!);
  const creditsAddress = await credits.getAddress();
  const bought = receipt?.logs
    .filter((l) => l.address === creditsAddress)
    .map((l) => credits.interface.parseLog(l))
    .find((e) => e?.name === "CreditsBought");
  if (bought == null) throw new TaskError(`transaction ${result.hash} bought no credits`);
  const got = bought.args.credits as bigint;
  suite.log(
    `bought ${formatCredits(got)}; ${beneficiary} now holds ${formatCredits(await credits.balanceOf(beneficiary))}`,
  );
  return { ...result, credits: got, beneficiary };
}
