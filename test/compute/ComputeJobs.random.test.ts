import { expect } from "chai";

import {
  convict,
  CPU_PRICE,
  deadlineIn,
  deployCompute,
  expectComputeBooks,
  HOUR,
  PenaltyStatus,
  RESULT,
  SPEC,
  Status,
  Tier,
  type ComputeSystem,
} from "../helpers/compute.js";
import { prng } from "../helpers/prng.js";
import { createRegistryNetwork } from "../helpers/registryFixture.js";

const { ethers, networkHelpers } = await createRegistryNetwork();
const { time, mine } = networkHelpers;

const SEED = 0x18c0de;
const STEPS = 160;

describe("ComputeJobs under random operation sequences", function () {
  it("for every job, locked + consumed + refunded = deposited; books balance after every step", async function () {
    this.timeout(300_000);
    const fx: ComputeSystem = await deployCompute(ethers, networkHelpers);
    const random = prng(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const jobsAddr = await fx.jobs.getAddress();
    const startBalance = await fx.credits.balanceOf(fx.customer.address);
    const devices = new Map([
      [fx.providerA.address, fx.cpuA],
      [fx.providerB.address, fx.cpuB],
    ]);
    /** Per job: credits deposited, and consumed/released as the contract's events report them. */
    const books = new Map<
      bigint,
      { deposited: bigint; consumed: bigint; released: bigint; settled: number }
    >();
    let consumedTotal = 0n;

    const settleFrom = async (tx: Promise<{ wait(): Promise<unknown> }>) => {
      const receipt = (await (await tx).wait()) as {
        logs: { address: string; topics: string[]; data: string }[];
      };
      for (const log of receipt.logs) {
        if (log.address.toLowerCase() !== jobsAddr.toLowerCase()) continue;
        const parsed = fx.jobs.interface.parseLog(log);
        if (parsed?.name === "JobFinalized") {
          const entry = books.get(parsed.args[0] as bigint)!;
          entry.consumed += parsed.args[2] as bigint;
          entry.released += parsed.args[3] as bigint;
          entry.settled++;
          consumedTotal += parsed.args[2] as bigint;
        } else if (parsed?.name === "JobRefunded") {
          const entry = books.get(parsed.args[0] as bigint)!;
          entry.released += parsed.args[2] as bigint;
          entry.settled++;
        }
      }
    };

    const counts: Record<string, number> = {};
    for (let step = 0; step < STEPS; step++) {
      const count = await fx.jobs.jobCount();
      const jobs: { id: bigint; j: Awaited<ReturnType<typeof fx.jobs.job>> }[] = [];
      for (let id = 1n; id <= count; id++) jobs.push({ id, j: await fx.jobs.job(id) });
      const at = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      const withStatus = (s: bigint) => jobs.filter((x) => x.j.status === s);
      const options: [string, () => Promise<void>][] = [
        [
          "create",
          async () => {
            const units = BigInt(1 + Math.floor(random() * 1_000));
            const hours = BigInt(1 + Math.floor(random() * 6));
            await fx.jobs
              .connect(fx.customer)
              .createJob(SPEC, 7, units, await deadlineIn(fx, hours), Tier.Standard);
            books.set(await fx.jobs.jobCount(), {
              deposited: units * CPU_PRICE,
              consumed: 0n,
              released: 0n,
              settled: 0,
            });
          },
        ],
        [
          "time",
          // Mostly hours (deadlines fall), sometimes past a whole acceptance window.
          async () =>
            void (await time.increase(
              random() < 0.1
                ? 5n * 24n * HOUR
                : random() < 0.2
                  ? 25n * HOUR
                  : BigInt(Math.floor(random() * 4 * Number(HOUR))),
            )),
        ],
      ];
      const open = withStatus(Status.Open).filter((x) => x.j.deadline > at + 1n);
      if (open.length) {
        options.push([
          "accept",
          async () => {
            const x = pick(open);
            const who = pick([fx.providerA, fx.providerB]);
            const p = await fx.jobs.providerAccount(who.address);
            if (p.suspendedUntil > at + 1n) return;
            await fx.jobs.connect(who).acceptJob(x.id, devices.get(who.address)!);
          },
        ]);
        options.push([
          "cancel",
          async () => settleFrom(fx.jobs.connect(fx.customer).cancelJob(pick(open).id)),
        ]);
      }
      const accepted = withStatus(Status.Accepted).filter((x) => x.j.deadline > at + 1n);
      if (accepted.length)
        options.push([
          "commit",
          async () => {
            const x = pick(accepted);
            const signer = x.j.provider === fx.providerA.address ? fx.providerA : fx.providerB;
            const used = BigInt(Math.floor(random() * (Number(x.j.maxUnits) + 1)));
            await fx.jobs.connect(signer).commitResult(x.id, RESULT, used);
          },
        ]);
      const expirable = jobs.filter(
        (x) => (x.j.status === Status.Open || x.j.status === Status.Accepted) && x.j.deadline < at,
      );
      if (expirable.length)
        options.push(["expire", async () => settleFrom(fx.jobs.expire(pick(expirable).id))]);
      const inWindow = withStatus(Status.Committed).filter((x) => x.j.committedAt + 24n * HOUR > at + 1n);
      if (inWindow.length) {
        options.push([
          "acceptResult",
          async () => settleFrom(fx.jobs.connect(fx.customer).acceptResult(pick(inWindow).id)),
        ]);
        options.push([
          "dispute",
          async () =>
            void (await fx.jobs.connect(fx.customer).dispute(pick(inWindow).id, "0x" + "d1".repeat(32))),
        ]);
      }
      const due = withStatus(Status.Committed).filter((x) => x.j.committedAt + 24n * HOUR <= at);
      if (due.length) options.push(["finalize", async () => settleFrom(fx.jobs.finalize(pick(due).id))]);
      // The oracle quorum convicts a committed or disputed job now and then; a dispute no verdict
      // reached is paid after its resolution period; penalties are executed or vetoed.
      const convictable = jobs.filter(
        (x) => x.j.status === Status.Committed || x.j.status === Status.Disputed,
      );
      if (convictable.length && random() < 0.5)
        options.push(["verdict", async () => settleFrom(convict(fx, pick(convictable).id))]);
      const unresolved = withStatus(Status.Disputed).filter((x) => x.j.committedAt + 8n * 24n * HOUR <= at);
      if (unresolved.length)
        options.push(["finalizeDisputed", async () => settleFrom(fx.jobs.finalize(pick(unresolved).id))]);
      const scheduled: { id: bigint; executableAt: bigint }[] = [];
      for (const x of jobs) {
        const pen = await fx.jobs.penalty(x.id);
        if (pen.status === PenaltyStatus.Scheduled)
          scheduled.push({ id: x.id, executableAt: pen.executableAt });
      }
      const executable = scheduled.filter((x) => x.executableAt <= at);
      if (executable.length)
        options.push([
          "executePenalty",
          async () => void (await fx.jobs.executePenalty(pick(executable).id)),
        ]);
      const vetoable = scheduled.filter((x) => x.executableAt > at + 1n);
      if (vetoable.length && random() < 0.3)
        options.push([
          "veto",
          async () => void (await fx.jobs.connect(fx.guardian).vetoPenalty(pick(vetoable).id)),
        ]);
      const [name, run] = pick(options);
      await run();
      counts[name] = (counts[name] ?? 0) + 1;
      if (name === "commit") await mine(1);

      await expectComputeBooks(fx);
      // The customer's credits: what it holds + what is locked for it + what its jobs consumed = its start.
      const locked = await fx.credits.locked(fx.customer.address, jobsAddr);
      expect((await fx.credits.balanceOf(fx.customer.address)) + locked + consumedTotal).to.equal(
        startBalance,
      );
    }
    // Every settled job settled once, and its deposit was consumed or released to the last credit.
    let settledJobs = 0;
    for (const [id, entry] of books) {
      const status = (await fx.jobs.job(id)).status;
      if (status === Status.Finalized || status === Status.Refunded) {
        settledJobs++;
        expect(entry.settled, `job ${id}`).to.equal(1);
        expect(entry.consumed + entry.released, `job ${id}`).to.equal(entry.deposited);
      } else expect(entry.settled, `job ${id}`).to.equal(0);
    }
    console.log("      operations:", counts, "settled jobs:", settledJobs);
    expect(settledJobs).to.be.greaterThan(10);
  });
});
