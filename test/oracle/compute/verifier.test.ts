/**
 * ComputeVerifier through the shared epoch path (runEpoch): usage from ComputeJobs' UsageRecorded
 * records is paid by the shared rule (credits at the reward price less the fee), the rest of the pool
 * by availability benchmarks passed; every benchmark that earns nothing has its reason; the result
 * is byte-identical whatever order the benchmarks arrive in.
 */
import { expect } from "chai";

import { ComputeVerifier, type BenchmarkOutcome } from "@hexmesh/oracle/compute/verifier";
import {
  concatChunks,
  creditsValue,
  DEFAULT_USAGE_PARAMS,
  runEpoch,
  subnetworkId,
  toHex,
  type Hex,
} from "@hexmesh/protocol";

import { EPOCH_END, EPOCH_START, MESH, World } from "../../helpers/oracle.js";

const PRICE = 5n * 10n ** 16n; // $0.05 per MESH
const SUBNETWORK_COMPUTE = subnetworkId("hexmesh.subnetwork.compute");
const alice = "0x00000000000000000000000000000000000a11ce" as Hex;
const bob = "0x0000000000000000000000000000000000000b0b" as Hex;
const customer = "0x000000000000000000000000000000000000c0de" as Hex;
const HOUR = 3_600_000;

function setup() {
  const world = new World();
  const a = world.addDevice("a1", { owner: alice });
  const b = world.addDevice("b1", { owner: bob, northM: 2000 });
  world.pool = 1_000n * MESH;
  return { world, a: a.record.id, b: b.record.id };
}

describe("compute oracle: ComputeVerifier through the epoch path", function () {
  it("pays usage by the shared rule and the rest of the pool by benchmarks passed", async function () {
    const { world, a, b } = setup();
    const credits = 2_000_000n; // $2 consumed on alice's jobs
    const index = world.chain({
      usage: {
        subnetwork: SUBNETWORK_COMPUTE,
        price: PRICE,
        priceBlock: 10,
        records: [{ provider: alice, account: customer, credits, block: 5, logIndex: 0 }],
      },
    });
    const benchmarks: BenchmarkOutcome[] = [
      { deviceId: a, sentAt: EPOCH_START + HOUR, passed: true, latencyMs: 900 },
      { deviceId: b, sentAt: EPOCH_START + 2 * HOUR, passed: true, latencyMs: 1_200 },
    ];
    const r = await runEpoch(new ComputeVerifier(), index, { benchmarks });
    const usageValue = creditsValue(credits, PRICE, DEFAULT_USAGE_PARAMS.feeBps);
    expect(usageValue).to.equal(38n * MESH); // $2 at $0.05 = 40 MESH, less 5%
    expect(r.payout.usage!.paid).to.equal(usageValue);
    const availability = 1_000n * MESH - usageValue;
    expect(r.payout.poolAmounts).to.deep.equal([availability]);
    const owner = (o: Hex) => r.payout.owners.find((x) => x.owner === o)!.amount;
    expect(owner(alice)).to.equal(usageValue + availability / 2n);
    expect(owner(bob)).to.equal(availability / 2n);
    expect(r.work.metricNames).to.deep.equal(["benchmarksPassed", "benchmarksFailed"]);
  });

  it("failed, duplicate, out-of-window and unknown-device benchmarks earn nothing, each with its reason", async function () {
    const { world, a, b } = setup();
    const benchmarks: BenchmarkOutcome[] = [
      { deviceId: a, sentAt: EPOCH_START + HOUR, passed: true, latencyMs: 500 },
      { deviceId: a, sentAt: EPOCH_START + 2 * HOUR, passed: true, latencyMs: 500 }, // same day
      { deviceId: b, sentAt: EPOCH_START + HOUR, passed: false, reason: "wrong-output", latencyMs: 700 },
      { deviceId: b, sentAt: EPOCH_END, passed: true, latencyMs: 1 }, // next epoch
      { deviceId: 999n, sentAt: EPOCH_START + HOUR, passed: true, latencyMs: 1 },
    ];
    const r = await runEpoch(new ComputeVerifier(), world.chain(), { benchmarks });
    expect(r.work.verdicts.map((v) => [v.benchmark.deviceId, v.reason])).to.deep.equal(
      [
        [999n, "unknown-device"],
        [a, null],
        [a, "duplicate"],
        [b, "wrong-output"],
        [b, "out-of-window"],
      ].sort((x, y) =>
        (x[0] as bigint) < (y[0] as bigint) ? -1 : (x[0] as bigint) > (y[0] as bigint) ? 1 : 0,
      ),
    );
    expect(r.payout.usage).to.equal(null);
    expect(r.payout.owners.map((o) => [o.owner, o.amount])).to.deep.equal([[alice, 1_000n * MESH]]);
    const bWork = r.work.devices.find((d) => d.deviceId === b)!;
    expect(bWork.weights).to.deep.equal([0n]);
    expect(bWork.metrics).to.deep.equal([0n, 1n]);
    try {
      await new ComputeVerifier().verify(r.chain, {
        benchmarks: [{ deviceId: a, sentAt: EPOCH_START, passed: false }],
      });
      expect.fail("a failure without a reason was accepted");
    } catch (e) {
      expect(e).to.be.instanceOf(RangeError);
      expect((e as Error).message).to.contain("failed without a reason");
    }
  });

  it("gives byte-identical roots whatever order the benchmarks arrive in", async function () {
    const { world, a, b } = setup();
    const benchmarks: BenchmarkOutcome[] = [
      { deviceId: a, sentAt: EPOCH_START + HOUR, passed: true, latencyMs: 10 },
      { deviceId: b, sentAt: EPOCH_START + 3 * HOUR, passed: false, reason: "no-result" },
      { deviceId: b, sentAt: EPOCH_START + 3 * HOUR, passed: true, latencyMs: 30 },
    ];
    const one = await runEpoch(new ComputeVerifier(), world.chain(), { benchmarks });
    const two = await runEpoch(new ComputeVerifier(), world.chain(), {
      benchmarks: [...benchmarks].reverse(),
    });
    expect(one.commit.epochRoot).to.deep.equal(two.commit.epochRoot);
    expect(toHex(concatChunks(one.commit.encoding))).to.equal(toHex(concatChunks(two.commit.encoding)));
    expect(toHex(concatChunks(one.work.record))).to.equal(toHex(concatChunks(two.work.record)));
    // Of two benchmarks of b recorded for the same moment, the passed one counts, whatever the input order.
    expect(one.work.devices.find((d) => d.deviceId === b)!.weights).to.deep.equal([1n]);
  });
});
