import { randomBytes } from "node:crypto";

import { expect } from "chai";

import { revertDataOf } from "@hexmesh/contracts";

import { prng } from "../helpers/prng.js";
import { createRegistryNetwork } from "../helpers/registryFixture.js";
import {
  addPieces,
  buildProofs,
  currentPeriodEnd,
  DAY,
  deployStorage,
  expectBooksBalance,
  openDataSet,
  topUpCollateral,
  WINDOW,
} from "../helpers/storage.js";

const { ethers, networkHelpers } = await createRegistryNetwork();
const { time, mine } = networkHelpers;

describe("StorageDeals under random operation sequences", function () {
  it("books balance after every step, no period is paid twice, every payment is a UsageRecorded", async function () {
    this.timeout(300_000);
    const fx = await deployStorage(ethers, networkHelpers);
    await fx.deals.connect(fx.admin).setPrice(10n ** 12n);
    const copies = new Map<bigint, Uint8Array[]>();
    for (let i = 0; i < 2; i++) {
      const data = [randomBytes(1000 + 97 * i), randomBytes(3000)];
      copies.set(await openDataSet(fx, data), data);
    }
    const rand = prng(19);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const ids = [...copies.keys()];
    /** Only the contracts' own refusals are acceptable outcomes of a random step. */
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (e) {
        const data = revertDataOf(e) ?? "";
        const parsed = data
          ? (fx.deals.interface.parseError(data) ??
            fx.credits.interface.parseError(data) ??
            fx.price.interface.parseError(data))
          : null;
        // PriceStale: the governed price expires 30 days after its last update, and adding pieces
        // converts the collateral requirement at the current price.
        if (!parsed || !/^(Storage|Credits|PriceStale)/.test(parsed.name)) throw e;
      }
    };
    for (let step = 0; step < 160; step++) {
      const id = pick(ids);
      const op = pick([
        "prove",
        "prove",
        "miss",
        "miss",
        "arm",
        "declare",
        "time",
        "piece",
        "credits",
        "withdraw",
        "burn",
        "settle",
      ]);
      const ds = await fx.deals.dataSet(id);
      if (ds.status !== 2n) continue;
      switch (op) {
        case "prove": {
          const end = await currentPeriodEnd(fx, id);
          const now = BigInt(await time.latest());
          if (now < end - WINDOW) await time.increaseTo(end - WINDOW + BigInt(Math.floor(rand() * 1500)));
          await attempt(() => fx.deals.connect(fx.keeper).recordSeed(id));
          await mine(1);
          await topUpCollateral(fx, id);
          await attempt(async () =>
            fx.deals.connect(fx.provider).provePossession(id, await buildProofs(fx, id, copies.get(id)!)),
          );
          break;
        }
        case "miss": {
          // The challenge is armed and recorded in the window, and the provider does not answer.
          const end = await currentPeriodEnd(fx, id);
          if (BigInt(await time.latest()) < end - WINDOW) await time.increaseTo(end - WINDOW + 1n);
          await attempt(() => fx.deals.connect(fx.keeper).recordSeed(id));
          await mine(1);
          await attempt(() => fx.deals.connect(fx.keeper).recordSeed(id));
          break;
        }
        case "arm":
          await attempt(() => fx.deals.connect(fx.keeper).recordSeed(id));
          break;
        case "declare":
          await attempt(() => fx.deals.connect(fx.provider).declareFault(id));
          break;
        case "time":
          await time.increase(BigInt(Math.floor(rand() * Number(DAY) * 2.5)));
          break;
        case "piece": {
          const data = randomBytes(1 + Math.floor(rand() * 5000));
          await attempt(async () => {
            await addPieces(fx, id, [data]);
            copies.get(id)!.push(data);
          });
          break;
        }
        case "credits":
          await attempt(() =>
            fx.deals.connect(fx.client).depositCredits(id, BigInt(1 + Math.floor(rand() * 500))),
          );
          break;
        case "withdraw":
          await attempt(() => fx.deals.connect(fx.client).withdrawMesh());
          break;
        case "burn":
          await attempt(() => fx.deals.connect(fx.outsider).burnFees());
          break;
        case "settle":
          await attempt(() => fx.deals.connect(fx.outsider).settle(id));
          break;
      }
      await expectBooksBalance(fx, [fx.client.address]);
    }
    const proven = await fx.deals.queryFilter(fx.deals.filters.PossessionProven());
    const keys = proven.map((e) => `${e.args.id}:${e.args.period}`);
    expect(new Set(keys).size, "a period proven twice").to.equal(keys.length);
    const usage = await fx.credits.queryFilter(fx.credits.filters.UsageRecorded());
    const paid = proven.reduce((sum, e) => sum + e.args.paid, 0n);
    expect(usage.reduce((sum, e) => sum + e.args.credits, 0n)).to.equal(paid);
    expect(await fx.credits.totalConsumed()).to.equal(paid);
    const settled = await fx.deals.queryFilter(fx.deals.filters.PeriodSettled());
    console.log(
      `      ${proven.length} proven periods, ${settled.length} settled:`,
      Object.entries(
        settled.reduce<Record<string, number>>((acc, e) => {
          const k = ["proven", "rescheduled", "declared", "freeMiss", "faulted"][Number(e.args.outcome)]!;
          acc[k] = (acc[k] ?? 0) + 1;
          return acc;
        }, {}),
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
    );
    expect(proven.length).to.be.greaterThan(5);
  });
});
