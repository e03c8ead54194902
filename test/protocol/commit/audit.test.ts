/**
 * decodeEpochEncoding and auditEpochEncoding: the published encoding of a simulated epoch decodes to
 * exactly what was committed, audits clean against its own EpochRoot, and every kind of tampering,
 * truncation or chain disagreement is named by its finding code.
 */
import { expect } from "chai";

import { runCoverageEpoch } from "@hexmesh/oracle";
import {
  auditEpochEncoding,
  commitEpoch,
  concatChunks,
  decodeEpochEncoding,
  EncodingError,
  type AuditExpectation,
  type ChainIndex,
  type EpochResult,
  type Hex,
  type Payout,
  type WorkResult,
} from "@hexmesh/protocol";
import { makeFleet, simulateEpoch } from "@hexmesh/sim/fleet";

import { CHAIN_ID, DOMAIN, EPOCH_END, EPOCH_START, REGISTRY } from "../../helpers/oracle.js";

const fleet = makeFleet({
  devices: 24,
  p256Share: 0.3,
  spacingM: 1_100,
  devicesPerOwner: 3,
  seed: "audit-test",
});
const sim = simulateEpoch(fleet, {
  domain: DOMAIN,
  epochStart: EPOCH_START,
  epochEnd: EPOCH_END,
  beaconsPerDevice: 2,
  witnessesPerBeacon: 6,
  invalidShare: 0.05,
  seed: "audit-test",
});
const owners = [...new Set(fleet.map((d) => d.record.owner))].sort();
const PREVIOUS = 10n ** 18n;
const index: ChainIndex = {
  chainId: CHAIN_ID,
  registry: REGISTRY,
  epoch: 3n,
  epochStart: EPOCH_START,
  epochEnd: EPOCH_END,
  pool: 12_345_678n * 10n ** 18n + 7n,
  devices: fleet.map((d) => d.record),
  bonds: owners.map((owner) => ({ owner, bondedDevices: 3 })),
  previousCumulative: [{ owner: owners[0]!, amount: PREVIOUS }],
};

describe("protocol: decode and audit a published epoch encoding", function () {
  this.timeout(120_000);
  let r: EpochResult<WorkResult>;
  let bytes: Uint8Array;
  let expectation: AuditExpectation;
  const codes = (b: Uint8Array, e: Partial<AuditExpectation> = {}) =>
    auditEpochEncoding(b, { ...expectation, ...e }).findings.map((f) => f.code);
  /** The encoding of a tampered payout, and an expectation that posts what it commits to. */
  const tampered = (change: (p: Payout) => Payout) => {
    const c = commitEpoch(r.chain, r.work, change(r.payout));
    return { bytes: concatChunks(c.encoding), posted: c.epochRoot };
  };

  before(async function () {
    r = await runCoverageEpoch(index, sim, { preparer: "inline" });
    bytes = concatChunks(r.commit.encoding);
    expectation = {
      posted: r.commit.epochRoot,
      chainId: CHAIN_ID,
      registry: REGISTRY,
      fundedPool: { amount: index.pool, exact: true },
      totalFunded: r.payout.totalCumulative,
      previous: new Map([[owners[0]!, PREVIOUS]]),
    };
  });

  it("decodes exactly what was committed", function () {
    const d = decodeEpochEncoding(bytes);
    expect(d.epoch).to.equal(3n);
    expect(d.chainId).to.equal(CHAIN_ID);
    expect(d.registry).to.equal(REGISTRY);
    expect(d.kind).to.equal("coverage");
    expect(d.metricNames).to.deep.equal(["beaconUnits", "witnessUnits", "scale"]);
    expect(d.pools.map((p) => p.amount)).to.deep.equal(r.payout.poolAmounts);
    expect(d.owners).to.deep.equal(r.payout.owners);
    expect(
      d.devices.map((x) => [x.deviceId, x.owner, x.bonded, x.amount, [...x.metrics], [...x.weights]]),
    ).to.deep.equal(
      r.payout.devices.map((x) => [x.deviceId, x.owner, x.bonded, x.amount, [...x.metrics], [...x.weights]]),
    );
    expect([d.distributed, d.dust, d.totalCumulative, d.root]).to.deep.equal([
      r.payout.distributed,
      r.payout.dust,
      r.payout.totalCumulative,
      r.commit.epochRoot.root,
    ]);
  });

  it("encodes device rows past one batch exactly, the same at every read, its length known beforehand", function () {
    // 10,001 devices: the device rows are encoded 4,096 at a time as the encoding is read.
    const devices = Array.from({ length: 10_001 }, (_, k) => ({
      deviceId: BigInt(k + 1) * 1_000_003n,
      owner: owners[k % owners.length]!,
      bonded: k % 3 !== 0,
      weights: [BigInt(k) * 10n ** 30n, BigInt(k % 7)],
      metrics: [BigInt(k), 2n ** 255n - BigInt(k), 10n ** 18n],
      amount: BigInt(k) * 3n,
    }));
    const c = commitEpoch(r.chain, r.work, { ...r.payout, devices });
    const once = concatChunks(c.encoding);
    expect(once.length).to.equal(c.byteLength);
    expect(c.encoding.byteLength).to.equal(c.byteLength);
    expect(concatChunks(c.encoding)).to.deep.equal(once);
    const d = decodeEpochEncoding(once);
    expect(
      d.devices.map((x) => [x.deviceId, x.owner, x.bonded, x.amount, [...x.metrics], [...x.weights]]),
    ).to.deep.equal(devices.map((x) => [x.deviceId, x.owner, x.bonded, x.amount, x.metrics, x.weights]));
    expect(d.owners).to.deep.equal(r.payout.owners);
    expect(d.root).to.equal(c.epochRoot.root);
  });

  it("refuses a device row that cannot be encoded when committing, not later", function () {
    const d = r.payout.devices[0]!;
    const bad = {
      deviceId: d.deviceId,
      owner: d.owner,
      bonded: d.bonded,
      weights: d.weights,
      metrics: d.metrics,
      amount: 2n ** 256n,
    };
    expect(() => commitEpoch(r.chain, r.work, { ...r.payout, devices: [bad] })).to.throw(RangeError);
  });

  it("audits clean against its own EpochRoot, and rebuilds the root", function () {
    const a = auditEpochEncoding(bytes, expectation);
    expect(a.findings).to.deep.equal([]);
    expect(a.ok).to.equal(true);
    expect(a.rebuiltRoot).to.equal(r.commit.epochRoot.root);
    expect(a.dataHash).to.equal(r.commit.epochRoot.dataHash);
  });

  it("refuses truncated, extended and foreign bytes with a clear error", function () {
    expect(() => decodeEpochEncoding(bytes.subarray(0, bytes.length - 1))).to.throw(
      EncodingError,
      /ends inside root/,
    );
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => decodeEpochEncoding(longer)).to.throw(EncodingError, /1 bytes after the root/);
    const foreign = bytes.slice();
    foreign[0] = 0x41;
    expect(() => decodeEpochEncoding(foreign)).to.throw(EncodingError, /not an epoch encoding/);
    const version = bytes.slice();
    version[8] = 9;
    expect(() => decodeEpochEncoding(version)).to.throw(EncodingError, /version 9/);
    expect(codes(bytes.subarray(0, 100))).to.deep.equal(["data_hash_mismatch", "malformed_encoding"]);
  });

  it("names a posted root, dataHash, total or epoch the bytes do not commit to", function () {
    const posted = expectation.posted;
    expect(codes(bytes, { posted: { ...posted, root: `0x${"ab".repeat(32)}` as Hex } })).to.deep.equal([
      "root_mismatch",
      "root_mismatch",
    ]);
    expect(codes(bytes, { posted: { ...posted, dataHash: `0x${"cd".repeat(32)}` as Hex } })).to.deep.equal([
      "data_hash_mismatch",
    ]);
    expect(codes(bytes, { posted: { ...posted, totalCumulative: posted.totalCumulative + 1n } })).to.include(
      "total_mismatch",
    );
    expect(codes(bytes, { posted: { ...posted, epoch: 4n } })).to.deep.equal(["epoch_mismatch"]);
    expect(codes(bytes, { chainId: 1n, registry: `0x${"11".repeat(20)}` as Hex })).to.deep.equal([
      "chain_mismatch",
      "chain_mismatch",
    ]);
  });

  it("names a pool or total the chain did not fund", function () {
    expect(codes(bytes, { fundedPool: { amount: index.pool - 1n, exact: true } })).to.deep.equal([
      "pool_not_funded",
    ]);
    expect(codes(bytes, { fundedPool: { amount: index.pool + 1n, exact: false } })).to.deep.equal([]);
    expect(codes(bytes, { fundedPool: { amount: index.pool - 1n, exact: false } })).to.deep.equal([
      "pool_not_funded",
    ]);
    expect(codes(bytes, { totalFunded: r.payout.totalCumulative - 1n })).to.deep.equal(["over_funded"]);
  });

  it("catches one owner inflated with a root and dataHash that match the forged bytes", function () {
    const rich = r.payout.owners[1]!;
    const forged = tampered((p) => ({
      ...p,
      owners: p.owners.map((o) => (o.owner === rich.owner ? { ...o, cumulative: o.cumulative + 5n } : o)),
      totalCumulative: p.totalCumulative + 5n,
    }));
    // The tree and dataHash match the forged bytes; the owner's cumulative does not follow from the
    // previous root and its amount.
    expect(codes(forged.bytes, { posted: forged.posted, totalFunded: undefined })).to.deep.equal([
      "cumulative_mismatch",
    ]);
    // A forged owner amount no device earned.
    const amount = tampered((p) => ({
      ...p,
      owners: p.owners.map((o) =>
        o.owner === rich.owner ? { ...o, amount: o.amount + 5n, cumulative: o.cumulative + 5n } : o,
      ),
      totalCumulative: p.totalCumulative + 5n,
      distributed: p.distributed + 5n,
      dust: p.dust - 5n,
    }));
    expect(codes(amount.bytes, { posted: amount.posted, totalFunded: undefined })).to.deep.equal([
      "owner_amount_mismatch",
    ]);
  });

  it("catches a device paid more than its weights give, and a pool split that is not the rule", function () {
    const device = tampered((p) => ({
      ...p,
      // By name: a computed payout's rows read their weights and metrics from the work (no spread).
      devices: p.devices.map((d, i) =>
        i === 0
          ? {
              deviceId: d.deviceId,
              owner: d.owner,
              bonded: d.bonded,
              weights: d.weights,
              metrics: d.metrics,
              amount: d.amount + 1n,
            }
          : d,
      ),
    }));
    expect(codes(device.bytes, { posted: device.posted })).to.deep.equal([
      "device_amount_mismatch",
      "owner_amount_mismatch",
    ]);
    const split = tampered((p) => ({ ...p, poolAmounts: [p.poolAmounts[0]! + 1n, p.poolAmounts[1]! - 1n] }));
    expect(codes(split.bytes, { posted: split.posted })).to.include("pool_split_mismatch");
  });

  it("catches owners out of order and totals that do not add up", function () {
    const unordered = tampered((p) => ({ ...p, owners: [...p.owners].reverse() }));
    expect(codes(unordered.bytes, { posted: unordered.posted })).to.include("owner_order");
    const dust = tampered((p) => ({ ...p, dust: p.dust + 1n }));
    expect(codes(dust.bytes, { posted: dust.posted })).to.deep.equal(["distributed_mismatch"]);
    const dropped = tampered((p) => ({
      ...p,
      owners: p.owners.filter((o) => o.owner !== owners[0]),
      totalCumulative: p.totalCumulative - p.owners.find((o) => o.owner === owners[0])!.cumulative,
    }));
    expect(codes(dropped.bytes, { posted: dropped.posted, totalFunded: undefined })).to.include(
      "cumulative_mismatch",
    );
  });
});
