import { expect } from "chai";

import { scoresOf } from "@hexmesh/oracle/storage/score";
import { StorageVerifier, type ProvenPeriod } from "@hexmesh/oracle/storage/verifier";
import {
  ChainView,
  commitEpoch,
  computePayout,
  concatChunks,
  creditsValue,
  DEFAULT_USAGE_PARAMS,
  subnetworkId,
  type Hex,
} from "@hexmesh/protocol";

import { MESH, World } from "../../helpers/oracle.js";

const PRICE = 5n * 10n ** 16n; // $0.05 per MESH
const alice = "0x00000000000000000000000000000000000a11ce" as Hex;
const bob = "0x0000000000000000000000000000000000000b0b" as Hex;
const client = "0x000000000000000000000000000000000000c11e" as Hex;
const STORAGE = subnetworkId("hexmesh.subnetwork.storage");

function setup() {
  const world = new World();
  world.addDevice("a1", { owner: alice }); // id 1
  world.addDevice("b1", { owner: bob, northM: 2000 }); // id 2
  world.pool = 1_000n * MESH;
  return world;
}

const period = (
  dataSetId: bigint,
  deviceId: bigint,
  provider: Hex,
  p: bigint,
  leaves: bigint,
): ProvenPeriod => ({
  dataSetId,
  deviceId,
  provider,
  period: p,
  challengedLeaves: leaves,
});

/** Bob's device failed `failures` probes in a row; Alice's passed one. */
const scores = (failures: number) =>
  scoresOf([
    { deviceId: 1n, day: 0n, dataSetId: 1n, provider: alice, outcome: "ok" },
    ...Array.from({ length: failures }, (_, d) => ({
      deviceId: 2n,
      day: BigInt(d),
      dataSetId: 2n,
      provider: bob,
      outcome: "refused",
    })),
  ] as never);

describe("StorageVerifier: the storage epoch through the Verifier seam", function () {
  it("capacity pays proven bytes × proven periods; usage pays proven, paid storage by the shared rule, scaled by the retrieval score below 0.9", async function () {
    const world = setup();
    // Alice: a 1 MiB data set proven 3 periods; Bob: 3 MiB proven 1 period. Both paid usage.
    const proven = [
      period(1n, 1n, alice, 0n, 32_768n),
      period(1n, 1n, alice, 1n, 32_768n),
      period(1n, 1n, alice, 2n, 32_768n),
      period(2n, 2n, bob, 0n, 98_304n),
    ];
    const records = [
      { provider: alice, account: client, credits: 3_000_000n, block: 10, logIndex: 0 },
      { provider: bob, account: client, credits: 1_000_000n, block: 11, logIndex: 0 },
    ];
    const index = world.chain({ usage: { subnetwork: STORAGE, price: PRICE, priceBlock: 9, records } });
    const chain = new ChainView(index);
    const work = await new StorageVerifier().verify(chain, { proven, scores: scores(5) });
    expect(work.pools).to.deep.equal([{ name: "capacity", bps: 10_000 }]);
    expect(work.devices.map((d) => [d.deviceId, d.weights, d.metrics])).to.deep.equal([
      [1n, [3n * 32_768n * 32n], [3n * 32_768n * 32n, 3n, 1_000_000n]],
      [2n, [98_304n * 32n], [98_304n * 32n, 1n, 773_780n]],
    ]);
    const payout = computePayout(chain, work);
    const full = (c: bigint) => creditsValue(c, PRICE, DEFAULT_USAGE_PARAMS.feeBps);
    // Bob's score 0.95^5 (integer EMA: 773,780 ppm) < 0.9: his usage value is scaled by it.
    // Providers by ascending address (Bob's is lower).
    expect(payout.usage!.providers.map((p) => [p.provider, p.reward])).to.deep.equal([
      [bob, (full(1_000_000n) * 773_780n) / 1_000_000n],
      [alice, full(3_000_000n)],
    ]);
    // The rest of the pool to capacity, 1:1 here (3 periods × 1 MiB against 1 × 3 MiB).
    const capacity = 1_000n * MESH - payout.usage!.paid;
    expect(payout.poolAmounts).to.deep.equal([capacity]);
    expect(payout.devices.map((d) => d.amount)).to.deep.equal([capacity / 2n, capacity / 2n]);
    const owners = new Map(payout.owners.map((o) => [o.owner, o.amount]));
    expect(owners.get(alice)).to.equal(capacity / 2n + full(3_000_000n));
    expect(owners.get(bob)).to.equal(capacity / 2n + (full(1_000_000n) * 773_780n) / 1_000_000n);

    // At 0.9 or above usage is not scaled: one failure (0.95) pays Bob in full.
    const once = computePayout(
      chain,
      await new StorageVerifier().verify(chain, { proven, scores: scores(1) }),
    );
    expect(once.usage!.providers.find((p) => p.provider === bob)!.reward).to.equal(full(1_000_000n));
  });

  it("is deterministic: inputs in any order give byte-identical encodings and roots; unknown devices earn nothing", async function () {
    const world = setup();
    const proven = [
      period(2n, 2n, bob, 4n, 10n),
      period(1n, 1n, alice, 1n, 7n),
      period(1n, 1n, alice, 0n, 7n),
      period(9n, 99n, bob, 0n, 1_000n), // a device the registry does not know
    ];
    const chain = new ChainView(world.chain());
    const a = await new StorageVerifier().verify(chain, { proven, scores: scores(3) });
    const b = await new StorageVerifier().verify(chain, { proven: [...proven].reverse(), scores: scores(3) });
    const commitA = commitEpoch(chain, a, computePayout(chain, a));
    const commitB = commitEpoch(chain, b, computePayout(chain, b));
    expect(concatChunks(commitA.encoding)).to.deep.equal(concatChunks(commitB.encoding));
    expect(commitA.epochRoot.root).to.equal(commitB.epochRoot.root);
    expect(a.record).to.have.length(3);
    expect(a.devices.map((d) => d.deviceId)).to.deep.equal([1n, 2n]);
    // Without usage records the whole pool is capacity, split by bytes × periods (14 : 10).
    const payout = computePayout(chain, a);
    expect(payout.usage).to.equal(null);
    expect(payout.devices.map((d) => d.amount)).to.deep.equal([
      (1_000n * MESH * 14n * 32n) / (24n * 32n),
      (1_000n * MESH * 10n * 32n) / (24n * 32n),
    ]);
  });
});
