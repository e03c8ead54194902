import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { openSuite, sendOrDryRun, TaskError, type CommonArgs } from "./lib/common.js";

/**
 * Distributes every ended epoch: the emissions controller funds at most MAX_CATCHUP_EPOCHS (32) epochs
 * per `distribute` call, so a chain whose genesis is far behind (a node started long after
 * `genesisTime`) needs several; this sends them one after another with progress. Anyone may. Each call
 * is sent with the wallet's own gas estimate: `distribute` requires its worst case up front, so an
 * estimate made at an earlier block always suffices.
 */
export default async function catchUp(
  args: CommonArgs & { maxCalls: string },
  hre: HardhatRuntimeEnvironment,
) {
  if (args.maxCalls !== "" && !/^[1-9][0-9]{0,5}$/.test(args.maxCalls))
    throw new TaskError(`--max-calls must be a positive integer, got "${args.maxCalls}"`);
  const suite = await openSuite(hre, args);
  const c = suite.controller;
  if (c === undefined) throw new TaskError("the deployment names no EmissionsController: pass --controller");
  const [ended, first, perCall] = await Promise.all([c.endedEpochs(), c.nextEpoch(), c.MAX_CATCHUP_EPOCHS()]);
  if (ended <= first) {
    const end = (await c.genesisTime()) + (ended + 1n) * (await c.epochLength());
    suite.log(
      `nothing to distribute: every ended epoch is distributed (next is ${first}, it ends at ${end}, Unix s)`,
    );
    return { distributed: 0n, calls: 0, nextEpoch: first, transactions: [] as string[] };
  }
  const total = ended - first;
  const calls = (total + perCall - 1n) / perCall;
  const limit = args.maxCalls === "" ? calls : BigInt(Math.min(Number(args.maxCalls), Number(calls)));
  suite.log(
    `${total} ended epochs to distribute (${first} to ${ended - 1n}): ${calls} distribute call(s) of at most ${perCall}`,
  );
  const transactions: string[] = [];
  let next = first;
  for (let call = 1n; call <= limit; call++) {
    const batch = ended - next < perCall ? ended - next : perCall;
    const result = await sendOrDryRun(suite, c, "distribute", [batch], args.dryRun);
    if (result.dryRun) return { ...result, distributed: 0n, calls: 0, nextEpoch: next, transactions };
    transactions.push(result.hash!);
    const after = await c.nextEpoch();
    suite.log(`  ${call}/${calls}: epochs ${next} to ${after - 1n} distributed (${after - first}/${total})`);
    next = after;
    if (next >= ended) break;
  }
  const remaining = (await c.endedEpochs()) - next;
  suite.log(
    remaining > 0n
      ? `distributed ${next - first} epochs; ${remaining} more ended epochs wait: run catch-up again`
      : `caught up: epochs ${first} to ${next - 1n} distributed; next is ${next}`,
  );
  return { distributed: next - first, calls: transactions.length, nextEpoch: next, transactions };
}
