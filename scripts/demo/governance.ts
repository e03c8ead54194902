/**
 * Governance before the demo's storage and compute sections, as one timelock batch (schedule, wait
 * the delay, execute): the timelock re-records the MESH/USD price at its current value (a governed
 * price is usable for 30 days after it is recorded, and the coverage epochs and the timelock's waits
 * have used most of that), and points ComputeJobs at the compute subnetwork's distributor, whose
 * oracle set signs fraud verdicts (unless the deployment already did). No top-level side effects.
 */
import { id } from "ethers";

import type { Suite } from "./suite.js";

/** Runs the batch; returns what it did (for the demo's printout) and the delay waited (seconds). */
export async function prepareMarkets(suite: Suite): Promise<{ actions: string[]; delay: bigint }> {
  const { timelock, time } = suite;
  const targets: string[] = [];
  const payloads: string[] = [];
  const actions: string[] = [];

  const price = await suite.ethers.getContractAt("GovernedPrice", await suite.meshPrice.getAddress());
  const [current] = await price.latestPrice();
  targets.push(await price.getAddress());
  payloads.push(price.interface.encodeFunctionData("setPrice", [current]));
  actions.push("GovernedPrice.setPrice(the current $0.05, refreshed)");

  const jobs = suite.computeJobs;
  const distributor = await suite.computeDistributor.getAddress();
  if ((await jobs.oracleDistributor()).toLowerCase() !== distributor.toLowerCase()) {
    targets.push(await jobs.getAddress());
    payloads.push(jobs.interface.encodeFunctionData("setOracleDistributor", [distributor]));
    actions.push("ComputeJobs.setOracleDistributor(the compute RewardsDistributor)");
  }

  const values = targets.map(() => 0n);
  const zero = `0x${"00".repeat(32)}`;
  const salt = id(`hexmesh demo: prepare the storage and compute markets ${await time.latest()}`);
  const delay = await timelock.getMinDelay();
  const gov = timelock.connect(suite.admin);
  await (await gov.scheduleBatch(targets, values, payloads, zero, salt, delay)).wait();
  await time.increaseTo(BigInt(await time.latest()) + delay);
  await (await gov.executeBatch(targets, values, payloads, zero, salt)).wait();
  if (!(await suite.meshPrice.isFresh())) throw new Error("the MESH price is not fresh after the refresh");
  return { actions, delay };
}
