import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { ethers } from "ethers";
import fc from "fast-check";

import { CoverageVerifier, runCoverageEpoch } from "@hexmesh/oracle";
import {
  ChainView,
  concatChunks,
  runEpoch,
  toHex,
  ZERO_BYTES32,
  type ChainIndex,
  type ReceivedReport,
  type Verifier,
  type WorkResult,
} from "@hexmesh/protocol";
import { makeFleet, simulateEpoch } from "@hexmesh/sim/fleet";

import { CHAIN_ID, DOMAIN, EPOCH_END, EPOCH_START, REGISTRY, shuffled } from "../helpers/oracle.js";

const fleet = makeFleet({
  devices: 64,
  p256Share: 0.3,
  spacingM: 1_100,
  devicesPerOwner: 3,
  seed: "epoch-test",
});
const sim = simulateEpoch(fleet, {
  domain: DOMAIN,
  epochStart: EPOCH_START,
  epochEnd: EPOCH_END,
  beaconsPerDevice: 2,
  witnessesPerBeacon: 6,
  invalidShare: 0.05,
  seed: "epoch-test",
});
const owners = [...new Set(fleet.map((d) => d.record.owner))].sort();

function chainIndex(overrides: Partial<ChainIndex> = {}): ChainIndex {
  return {
    chainId: CHAIN_ID,
    registry: REGISTRY,
    epoch: 3n,
    epochStart: EPOCH_START,
    epochEnd: EPOCH_END,
    pool: 12_345_678n * 10n ** 18n + 7n,
    devices: fleet.map((d) => d.record),
    // owners alternate between a full bond (3 devices) and a short one (1 device)
    bonds: owners.map((owner, i) => ({ owner, bondedDevices: i % 2 === 0 ? 3 : 1 })),
    previousCumulative: [
      { owner: owners[0]!, amount: 10n ** 18n },
      { owner: `0x${"77".repeat(20)}`, amount: 5n },
    ],
    ...overrides,
  };
}

describe("oracle / epoch pipeline", function () {
  this.timeout(300_000);

  it("simulated epoch: mostly valid, every spoiled report refused", async function () {
    const r = await runCoverageEpoch(chainIndex(), sim, { preparer: "inline" });
    const count = (reason: string | null) => r.work.verdicts.filter((v) => v.reason === reason).length;
    expect(r.work.verdicts.length).to.equal(sim.reports.length);
    expect(count(null)).to.be.greaterThan(Math.floor(sim.reports.length * 0.85));
    expect(count("malformed") + count("bad_signature")).to.be.greaterThan(0);
  });

  it("two oracles fed the same inputs in different orders commit byte-identical results", async function () {
    const a = await runCoverageEpoch(chainIndex(), sim, { preparer: "inline" });
    const index = chainIndex();
    const b = await runCoverageEpoch(
      {
        ...index,
        devices: shuffled(index.devices, 7),
        bonds: shuffled(index.bonds, 8),
        previousCumulative: shuffled(index.previousCumulative, 9),
      },
      { reports: shuffled(sim.reports, 10), entropy: shuffled(sim.entropy, 11) },
      { preparer: "workers" },
    );
    expect(toHex(concatChunks(b.commit.encoding))).to.equal(toHex(concatChunks(a.commit.encoding)));
    expect(b.commit.epochRoot).to.deep.equal(a.commit.epochRoot);
  });

  it("given the chain index or its ChainView (built once by a caller), the epoch is the same, on that view", async function () {
    const a = await runCoverageEpoch(chainIndex(), sim, { preparer: "inline" });
    const view = new ChainView(chainIndex());
    const b = await runCoverageEpoch(view, sim, { preparer: "inline" });
    expect(b.chain, "the caller's view, not a second one").to.equal(view);
    expect(b.commit.epochRoot).to.deep.equal(a.commit.epochRoot);
    expect(toHex(concatChunks(b.commit.encoding))).to.equal(toHex(concatChunks(a.commit.encoding)));
  });

  it("worker threads and the calling thread give the same verdicts", async function () {
    const chain = new ChainView(chainIndex());
    const inline = await new CoverageVerifier({ preparer: "inline" }).verify(chain, sim);
    const workers = await new CoverageVerifier({ preparer: "workers" }).verify(chain, sim);
    expect(workers.verdicts).to.deep.equal(inline.verdicts);
  });

  it("dataHash is keccak256 of the encoding; the root is the library's over (owner, cumulative)", async function () {
    const r = await runCoverageEpoch(chainIndex(), sim, { preparer: "inline" });
    const bytes = concatChunks(r.commit.encoding);
    expect(bytes.length).to.equal(r.commit.byteLength);
    expect(r.commit.epochRoot.dataHash).to.equal(ethers.keccak256(bytes));
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).to.equal("HXMEPOCH");
    const lib = StandardMerkleTree.of(
      r.payout.owners.map((o) => [o.owner, o.cumulative.toString()]),
      ["address", "uint256"],
    );
    expect(r.commit.epochRoot.root).to.equal(lib.root);
    const o = r.payout.owners[3]!;
    expect(r.commit.tree!.proof(o.owner)).to.deep.equal(lib.getProof([o.owner, o.cumulative.toString()]));
    // the encoding ends with the root
    expect(toHex(bytes.subarray(bytes.length - 32))).to.equal(r.commit.epochRoot.root);
  });

  it("conserves the pool: distributed + dust = pool, cumulative grows by what was distributed", async function () {
    const index = chainIndex();
    const r = await runCoverageEpoch(index, sim, { preparer: "inline" });
    const p = r.payout;
    expect(p.distributed + p.dust).to.equal(index.pool);
    expect(p.dust >= 0n && p.dust < BigInt(p.devices.length * 2 + 2)).to.equal(true);
    const previous = index.previousCumulative.reduce((s, c) => s + c.amount, 0n);
    expect(p.totalCumulative).to.equal(previous + p.distributed);
    expect(r.commit.epochRoot.totalCumulative).to.equal(p.totalCumulative);
    // short bonds: owners with a 1-device bond earn for one device only
    const shortOwners = new Set(index.bonds.filter((b) => b.bondedDevices === 1).map((b) => b.owner));
    const paidDevices = p.devices.filter((d) => shortOwners.has(d.owner) && d.amount > 0n);
    const perOwner = new Map<string, number>();
    for (const d of paidDevices) perOwner.set(d.owner, (perOwner.get(d.owner) ?? 0) + 1);
    expect([...perOwner.values()].every((n) => n === 1)).to.equal(true);
    expect(p.devices.some((d) => !d.bonded && d.amount === 0n)).to.equal(true);
  });

  it("the next epoch adds to the previous cumulative amounts", async function () {
    const first = await runCoverageEpoch(chainIndex(), sim, { preparer: "inline" });
    const second = await runCoverageEpoch(
      chainIndex({
        epoch: 4n,
        previousCumulative: first.payout.owners.map((o) => ({ owner: o.owner, amount: o.cumulative })),
      }),
      sim,
      { preparer: "inline" },
    );
    for (const o of second.payout.owners) {
      const before = first.payout.owners.find((x) => x.owner === o.owner)?.cumulative ?? 0n;
      expect(o.cumulative).to.equal(before + o.amount);
    }
    expect(second.commit.epochRoot.totalCumulative).to.equal(
      first.commit.epochRoot.totalCumulative + second.payout.distributed,
    );
  });

  it("an epoch without reports distributes nothing; without any owner the root is zero", async function () {
    const r = await runCoverageEpoch(
      chainIndex({ previousCumulative: [] }),
      { reports: [], entropy: [] },
      { preparer: "inline" },
    );
    expect(r.payout.distributed).to.equal(0n);
    expect(r.commit.tree).to.equal(null);
    expect(r.commit.epochRoot.root).to.equal(ZERO_BYTES32);
  });

  it("junk mixed into an epoch is refused with a reason, never throws, and changes nothing else (property)", async function () {
    const sample = sim.reports.slice(0, 120);
    const chain = new ChainView(chainIndex());
    const verifier = new CoverageVerifier({ preparer: "inline" });
    const base = await verifier.verify(chain, { reports: sample, entropy: sim.entropy });
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.string({ maxLength: 300 }),
            fc.json(),
            // a real report with one character changed
            fc
              .tuple(fc.nat(sample.length - 1), fc.nat(), fc.string({ minLength: 1, maxLength: 1 }))
              .map(([i, at, ch]) => {
                const raw = sample[i]!.raw;
                const k = at % raw.length;
                return raw.slice(0, k) + ch + raw.slice(k + 1);
              }),
          ),
          { maxLength: 8 },
        ),
        async (junk) => {
          const extra: ReceivedReport[] = junk
            .filter((raw) => !sample.some((r) => r.raw === raw))
            .map((raw, i) => ({ raw, receivedAt: EPOCH_START + 5 + i }));
          const work = await verifier.verify(chain, { reports: [...sample, ...extra], entropy: sim.entropy });
          expect(work.verdicts.length).to.equal(sample.length + extra.length);
          const mine = work.verdicts.filter((v) => v.receivedAt < EPOCH_START + 1_000);
          for (const v of mine) expect(v.reason, v.id).to.not.equal(null);
          const others = work.verdicts.filter((v) => v.receivedAt >= EPOCH_START + 1_000);
          expect(others).to.deep.equal(base.verdicts);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("any kind of work plugs into the same reward and commit stages (Verifier seam)", async function () {
    const compute: Verifier<{ jobs: Map<bigint, bigint> }> = {
      kind: "compute",
      verify(_chain, inputs): Promise<WorkResult> {
        return Promise.resolve({
          kind: "compute",
          pools: [{ name: "jobs", bps: 10_000 }],
          metricNames: ["gpuSeconds"],
          devices: [...inputs.jobs].map(([deviceId, seconds]) => ({
            deviceId,
            weights: [seconds],
            metrics: [seconds],
          })),
          record: [new TextEncoder().encode("compute verdicts")],
        });
      },
    };
    const index = chainIndex({ pool: 1_000n, previousCumulative: [] });
    const r = await runEpoch(compute, index, {
      jobs: new Map([
        [1n, 1n],
        [4n, 3n],
      ]),
    });
    expect(r.payout.devices.map((d) => d.amount)).to.deep.equal([250n, 750n]);
    expect(r.commit.epochRoot.totalCumulative).to.equal(1_000n);
    expect(new TextDecoder().decode(concatChunks(r.commit.encoding).subarray(9, 9 + 1 + 7))).to.equal(
      "\x07compute",
    );
    const liar: Verifier<null> = {
      kind: "storage",
      verify: () => compute.verify(new ChainView(index), { jobs: new Map() }),
    };
    let error: unknown;
    try {
      await runEpoch(liar, index, null);
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/returned compute work/);
  });
});
