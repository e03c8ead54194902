/**
 * The Hexmesh mission end to end on the in-process chain (`npm run demo`):
 * deploy the suite, approve a maker, onboard a fleet of hotspots across San Francisco (secp256k1 and
 * P-256 keys, real H3 res-12 cells), bond and stake, then for three epochs: distribute emissions,
 * produce signed beacon and witness reports (some bad on purpose), run three oracle services on a
 * 2-of-3 set through the operators' epoch steps (ingest, pull, close, sign, collect, post), wait out
 * the challenge window, claim with the proofs their API serves, and print what happened. Then the
 * storage section (scripts/demo/storage.ts: a file on two providers' agents, one loses data and is
 * terminated) and the compute section (scripts/demo/compute.ts: frames rendered on two providers, one
 * cheats and is slashed); their files go to tmp/demo/. Any failure exits non-zero.
 */
import path from "node:path";

import { formatEther, keccak256, toUtf8Bytes, Wallet } from "ethers";
import { network } from "hardhat";

import type { Hex } from "@hexmesh/protocol";

import { suiteAddresses } from "../deploy/lib/suite.js";
import { runComputeSection } from "./demo/compute.js";
import { closeEpoch, epochBoundsMs, passChallengeWindow } from "./demo/epoch.js";
import { onboardFleet } from "./demo/fleet.js";
import { prepareMarkets } from "./demo/governance.js";
import { claimWithOracleProof, OracleSet } from "./demo/oracles.js";
import { epochReports } from "./demo/reports.js";
import { serveJsonRpc } from "./demo/rpc.js";
import { runStorageSection } from "./demo/storage.js";
import { approveMaker, deployDemoSuite, MESH } from "./demo/suite.js";
import { buyCredits, epochTraffic, startCustomer } from "./demo/traffic.js";
import { runWorkEpochsSection } from "./demo/work-epochs.js";

const EPOCHS = 3;
/** Packets the customer's devices send through the hotspots per epoch. */
const PACKETS = 60;
const DEVICES = 48;
const SAN_FRANCISCO: [number, number] = [37.752, -122.47];

const started = Date.now();
const fmt = (v: bigint, digits = 2) => {
  const [i, f = ""] = formatEther(v).split(".");
  return `${Number(i).toLocaleString("en-US")}.${f.padEnd(digits, "0").slice(0, digits)}`;
};
const short = (a: string) => `${a.slice(0, 6)}…${a.slice(-4)}`;
/** A device id is its key id (a uint256): shown as 0x and its first and last hex digits. */
const shortId = (id: bigint) => short("0x" + id.toString(16).padStart(64, "0"));
const pct = (n: number, d: number) => (d === 0 ? "0.0%" : `${((100 * n) / d).toFixed(1)}%`);

const connection = await network.create();
const { ethers } = connection;

console.log("Hexmesh demo: the coverage mission on an in-process chain\n");
const suite = await deployDemoSuite(connection, { oracleCount: 3, threshold: 2 });
const signers = await ethers.getSigners();
const owners = signers.slice(4, 10);
const staker = signers[10]!;
const business = signers[11]!;
console.log(`Deployed   MESH ${await suite.token.getAddress()}`);
console.log(
  `           DeviceRegistry ${await suite.registry.getAddress()}, StakingVault ${await suite.vault.getAddress()}`,
);
console.log(
  `           EmissionsController ${await suite.controller.getAddress()}, coverage RewardsDistributor ${await suite.distributor.getAddress()}`,
);
console.log(
  `           oracle set ${await suite.distributor.threshold()}-of-${suite.oracleKeys.length}: ${suite.oracleKeys.map((k) => short(k.address)).join(", ")}`,
);
console.log(
  `           admin of registry, vault, distributor, controller: HexmeshTimelock ${await suite.timelock.getAddress()} (deployed with Hardhat Ignition, deployer left without powers)`,
);
const waited = await approveMaker(suite);
console.log(
  `Governance maker #1 (signer ${short(suite.makerKey.address)}) approved through the timelock: scheduled, waited ${waited / 86_400n} days, executed`,
);
console.log(
  `           hotspot class fee 40 MESH and assert fee 5 MESH (collected by the registry, burned once per epoch), bond 100 MESH per device`,
);

// Owner 5 does not bond: its devices verify but earn nothing.
const fleet = await onboardFleet(
  suite,
  owners,
  { devices: DEVICES, p256Share: 0.4, spacingM: 500, origin: SAN_FRANCISCO, seed: "hexmesh demo" },
  new Set([0, 1, 2, 3, 4]),
);
// Fees paid into the registry and fees burned so far: the registry keeps the difference (one wei after
// each burn, so that the next fee payer does not pay for a fresh balance slot).
let feesPaid = (await suite.registry.deviceClassInfo(1)).onboardingFee * BigInt(fleet.length);
let burned = 0n;
const GENESIS = MESH(300_000_000);
const p256Count = fleet.filter((d) => d.signer.key.type === "p256").length;
console.log(
  `\nOnboarded  ${fleet.length} hotspots in San Francisco (${p256Count} P-256, ${fleet.length - p256Count} secp256k1), ${owners.length} owners, locations asserted at H3 res 12`,
);
await (await suite.token.connect(suite.treasury).transfer(staker.address, MESH(50_000))).wait();
await (await suite.token.connect(staker).approve(await suite.vault.getAddress(), MESH(50_000))).wait();
await (await suite.vault.connect(staker).stake(MESH(50_000))).wait();
console.log(
  `Staked     owners 0-4 bonded 100 MESH per device; owner 5 unbonded; staker ${short(staker.address)} 50,000 MESH`,
);
// The paying customer: a business funds its LoRaWAN router's credits account by burning MESH.
await (await suite.token.connect(suite.treasury).transfer(business.address, MESH(1_000))).wait();
const customer = await startCustomer(suite, business, MESH(2));
let burnedForCredits = 0n;
let creditsBoughtNow = await suite.credits.balanceOf(customer.router.router);
let meshForCreditsNow = MESH(2);
console.log(
  `Customer   business ${short(business.address)} burned 2 MESH for ${creditsBoughtNow.toLocaleString("en-US")} credits (micro-USD at $0.05/MESH) for its router ${short(customer.router.router)}, which authorized DataTransferSettlement ${await suite.dataTransfer.getAddress()} by a signed approval`,
);

// The in-process chain on localhost JSON-RPC, and three oracle services that reach it there, each
// with its own key and SQLite store: oracle 0 ingests and posts, oracles 1 and 2 pull its inputs.
const rpc = await serveJsonRpc(connection.provider);
const poster = new Wallet(keccak256(toUtf8Bytes("hexmesh demo poster")));
await (await suite.deployer.sendTransaction({ to: poster.address, value: 10n ** 19n })).wait();
const oracles = await OracleSet.start({
  rpcUrl: rpc.url,
  // With UsageCredits: each epoch's paid usage is read from its UsageRecorded logs (none yet here).
  addresses: { ...(await suiteAddresses(suite)), credits: await suite.credits.getAddress() },
  fromBlock: suite.deployBlock,
  oracleKeys: suite.oracleKeys.map((k) => k.privateKey),
  posterKey: poster.privateKey,
});
console.log(
  `Oracles    3 services (own key, own SQLite store, HTTP API ${oracles.urls.join(", ")}) on the chain's JSON-RPC ${rpc.url}`,
);
// Stop the oracles and the endpoint however the run ends, so a failure exits instead of serving on.
try {
  const domain = {
    chainId: suite.chainId,
    verifyingContract: (await suite.registry.getAddress()).toLowerCase() as Hex,
  };
  const ownerName = new Map(owners.map((o, i) => [o.address.toLowerCase(), `owner ${i}`]));

  /** Burns what the registry has collected (if anything) and returns the amount its event reports. */
  async function burnCollectedFees(caller: typeof staker): Promise<bigint> {
    if ((await suite.registry.collectedFees()) === 0n) return 0n;
    const receipt = await (await suite.registry.connect(caller).burnCollectedFees()).wait();
    const registry = await suite.registry.getAddress();
    for (const log of receipt!.logs) {
      if (log.address !== registry) continue;
      const parsed = suite.registry.interface.parseLog(log);
      if (parsed?.name === "CollectedFeesBurned") return parsed.args.amount as bigint;
    }
    throw new Error("burnCollectedFees emitted no CollectedFeesBurned");
  }
  let fundedSoFar = 0n;
  const suspended = new Set<string>();

  for (let e = 0n; e < BigInt(EPOCHS); e++) {
    if (e === 1n) {
      // An owner re-asserts a device's location (same cell, gain and elevation): a later assert pays the fee.
      const device = fleet[0]!;
      const fee = await suite.registry.assertFee();
      const registry = await suite.registry.getAddress();
      await (await suite.token.connect(device.ownerSigner).approve(registry, fee)).wait();
      const rec = device.record;
      await (
        await suite.registry
          .connect(device.ownerSigner)
          .assertLocation(rec.id, rec.location!, rec.gain, rec.elevation)
      ).wait();
      feesPaid += fee;
      console.log(
        `\n(${ownerName.get(rec.owner)} re-asserted device ${shortId(rec.id)} during epoch 1, fee ${fmt(fee)} MESH)`,
      );
    }
    if (e === 2n) {
      // The denylist role suspends one device during epoch 2: its reports are refused as `denied`.
      const victim = fleet[7]!;
      suspended.add(victim.signer.keyId);
      await (await suite.registry.connect(suite.guardian).suspend(victim.record.id, 3)).wait();
      console.log(`\n(guardian suspended device ${shortId(victim.record.id)} during epoch 2, reason code 3)`);
    }
    if (e === 2n) {
      // The customer tops up: more credits, more MESH burned.
      meshForCreditsNow = MESH(1);
      creditsBoughtNow = await buyCredits(suite, business, customer.router, meshForCreditsNow);
    }
    await closeEpoch(suite, e);
    // The customer's packets of the epoch: the router's receipts, handed by the hotspots to every oracle;
    // the oracles settle them on chain before the epoch's rewards.
    const traffic = epochTraffic(customer, fleet, epochBoundsMs(suite, e), e, PACKETS);
    const answered = await oracles.submitReceipts(traffic.receipts);
    if (answered.accepted !== PACKETS)
      throw new Error(`receipts refused: ${JSON.stringify(answered.results)}`);
    const consumedBefore = await suite.credits.totalConsumed();
    const settled = await oracles.settle(e);
    const consumed = (await suite.credits.totalConsumed()) - consumedBefore;
    if (consumed !== settled.settlement.credits)
      throw new Error(`settled ${consumed}, built ${settled.settlement.credits}`);
    const sim = epochReports(fleet, {
      domain,
      ...epochBoundsMs(suite, e),
      seed: `demo epoch ${e}`,
      avoid: suspended,
    });
    const posted = await oracles.runEpoch(e, { reports: sim.reports, entropy: sim.entropy });
    const result = posted.results[0]!;
    const index = (await oracles.services[0]!.store.getChainIndex(e))!;
    const fundedBefore = fundedSoFar;
    fundedSoFar = index.funded;
    await passChallengeWindow(suite);
    // Every owner claims with the proof oracle e % 3 serves (any oracle serves the same root).
    const paid = new Map<string, bigint>();
    for (const o of owners) {
      const a = o.address.toLowerCase();
      const before = await suite.token.balanceOf(a);
      const amount = await claimWithOracleProof(oracles.urls[Number(e) % 3]!, suite.distributor, a);
      const received = (await suite.token.balanceOf(a)) - before;
      if (received !== amount) throw new Error(`claim of ${a}: paid ${amount}, received ${received}`);
      if (amount > 0n) paid.set(a, amount);
    }

    const { summary } = result;
    console.log(
      `\n== Epoch ${e} ==  window ${new Date(index.epochStart).toISOString()} .. ${new Date(index.epochEnd).toISOString()}, state pinned at block ${index.snapshotBlock}`,
    );
    console.log(
      `  reports      ${summary.reports} stored (${sim.beacons} beacons, ${sim.witnesses} witnesses simulated + crafted; ${sim.refusedAtIngest} malformed texts refused at ingest), valid ${summary.valid} = ${pct(summary.valid, summary.reports)}`,
    );
    console.log(
      `  rejected     ${Object.entries(summary.rejected)
        .sort((a, b) => b[1] - a[1])
        .map(([r, n]) => `${r} ${n}`)
        .join(", ")}`,
    );
    console.log(
      `  pool         ${fmt(index.pool)} MESH (this epoch's 60% share + ${index.pool - (index.funded - fundedBefore)} wei carried), allocated all but ${index.pool - BigInt(summary.distributed)} wei of rounding dust`,
    );
    console.log(`  root         ${result.root} dataHash ${result.dataHash}`);
    console.log(
      `  oracles      3 services closed the epoch to the same root; oracle 0 collected 2 signatures over HTTP and posted: ${posted.outcome.status}${posted.outcome.status === "posted" ? ` (gas ${posted.outcome.gasUsed})` : ""}; challenge window passed, finalized`,
    );
    console.log(
      "  rewards      owner        devices  bonded  this epoch MESH    cumulative MESH   claimed now",
    );
    for (const [i, o] of owners.entries()) {
      const addr = o.address.toLowerCase() as Hex;
      const mine = index.devices.filter((d) => d.owner === addr).length;
      const bond = index.bonds.find((b) => b.owner === addr)?.bondedDevices ?? 0;
      const po = result.owners.find((x) => x.owner === addr);
      console.log(
        `               ${`owner ${i}`.padEnd(12)} ${String(mine).padStart(7)}  ${String(bond).padStart(6)}  ${fmt(po?.amount ?? 0n).padStart(15)}  ${fmt(po?.cumulative ?? 0n).padStart(16)}  ${fmt(paid.get(addr) ?? 0n).padStart(12)}`,
      );
    }
    for (const [a] of paid) {
      if (!ownerName.has(a)) throw new Error(`unexpected claimant ${a}`);
      const cumulative = result.owners.find((x) => x.owner === a)?.cumulative ?? 0n;
      if ((await suite.distributor.claimed(a)) !== cumulative)
        throw new Error(`claimed total of ${a} is not ${cumulative}`);
    }
    console.log(
      `  credits      bought ${creditsBoughtNow.toLocaleString("en-US")} this epoch for ${fmt(meshForCreditsNow)} MESH; router balance ${(await suite.credits.balanceOf(customer.router.router)).toLocaleString("en-US")}`,
    );
    console.log(
      `  packets      ${PACKETS} receipts accepted; carried per hotspot: ${[...traffic.carried.entries()]
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([id, n]) => `${shortId(id)} ${n}`)
        .join(", ")}`,
    );
    console.log(
      `  settled      ${settled.settlement.credits} credits in ${settled.settlement.entries.length} UsageRecorded (router, owner) entries; ${settled.outcome.status === "settled" ? `DataTransferSettlement.settle gas ${settled.outcome.gasUsed}` : settled.outcome.status}`,
    );
    // The shared reward stage paid the settled usage (its UsageRecorded logs) before Proof of Coverage.
    const usagePaid = BigInt(summary.usage?.paid ?? "0");
    console.log(
      `  rewards by   data transfer ${fmt(usagePaid, 8)} MESH to ${summary.usage?.providers.length ?? 0} hotspot owners (value of their settled credits at the reward price, less the fee); proof of coverage ${fmt(BigInt(summary.distributed) - usagePaid)} MESH`,
    );
    creditsBoughtNow = 0n;
    meshForCreditsNow = 0n;
    const earned = await suite.vault.earned(staker.address);
    console.log(
      `  staking      30% of the emission to the vault, streamed over the next epoch; stake ${fmt(await suite.vault.totalActiveStake())} MESH; staker ${short(staker.address)} earned ${fmt(earned)} MESH so far`,
    );
    // Anyone may burn the registry's collected fees; once an epoch keeps the supply printed below exact.
    const burnedNow = await burnCollectedFees(staker);
    burned += burnedNow;
    const registryHeld = await suite.token.balanceOf(await suite.registry.getAddress());
    if (registryHeld !== feesPaid - burned)
      throw new Error(`registry holds ${registryHeld}, not fees paid - burned`);
    console.log(
      burnedNow === 0n
        ? `  fees         none collected since the last burn; registry keeps ${registryHeld} wei`
        : `  fees         burned ${fmt(burnedNow, 18)} MESH of collected registry fees (burnCollectedFees); registry keeps ${registryHeld} wei`,
    );
    // Anyone may burn the MESH paid for credits (collected by the ledger).
    if ((await suite.token.balanceOf(await suite.credits.getAddress())) > 0n) {
      const receipt = await (await suite.credits.connect(staker).burnCollected()).wait();
      for (const log of receipt!.logs) {
        const parsed = suite.credits.interface.parseLog(log);
        if (parsed?.name === "CollectedMeshBurned") burnedForCredits += parsed.args.amount as bigint;
      }
    }
    const supply = await suite.token.totalSupply();
    const emitted = await suite.controller.emitted();
    const held = await suite.token.balanceOf(await suite.distributor.getAddress());
    if (supply !== GENESIS + emitted - burned - burnedForCredits)
      throw new Error(`supply ${supply} != genesis + emitted - burned fees - burned for credits`);
    if (held !== index.funded - result.totalCumulative)
      throw new Error(`distributor holds ${held}, not funded - paid`);
    console.log(
      `  supply       MESH ${fmt(supply)} = genesis 300,000,000 + emitted ${fmt(emitted)} - burned fees ${fmt(burned, 18)} - burned for credits ${fmt(burnedForCredits, 18)} (to the wei); distributor keeps ${held} wei of dust for the next epoch`,
    );
  }

  // Posting is idempotent: a retry of the last epoch is detected and skipped.
  const again = await oracles.services[0]!.post(BigInt(EPOCHS - 1));
  if (again.status !== "skipped") throw new Error("re-post was not skipped");
  console.log(`\nRe-posting epoch ${EPOCHS - 1}: ${again.status} (already ${again.state})`);
  console.log(
    "Rejections: ~2% of reports spoiled by the simulator (bad_signature: forged; truncated texts: refused at ingest; too_late/too_early: delayed\n" +
      "  witness or beacon; their witnesses then count as invalid_beacon/unknown_beacon), plus per epoch a device witnessing itself\n" +
      "  (self_witness), a signal 30 dB above the free-space bound (bad_rssi), a witness and a beacon sent again (duplicate), an\n" +
      "  unregistered key (gateway_not_found); in epoch 2 the suspended device's reports are denied. same_owner: a device's\n" +
      "  witness of a beacon from a device with the same owner is refused (self-dealing rings, see docs/sim/report.md); the\n" +
      "  demo's six owners each hold neighbouring devices, so about one witness in nine falls to it.",
  );
} finally {
  await oracles.stop();
  await rpc.close();
}

// Staking rewards stream: close one more epoch so the last stream completes, then claim.
await suite.time.increaseTo(suite.genesisTime + BigInt(EPOCHS + 1) * suite.epochLength);
const before = await suite.token.balanceOf(staker.address);
await (await suite.vault.connect(staker).claimRewards()).wait();
const got = (await suite.token.balanceOf(staker.address)) - before;
console.log(`Staker ${short(staker.address)} claimed ${fmt(got)} MESH of staking rewards`);

// The storage and compute subnetworks, after the coverage epochs (their roots do not depend on them):
// the agents and commands reach the chain over a JSON-RPC endpoint on localhost, as on a node.
const sectionsRpc = await serveJsonRpc(connection.provider);
const outDir = path.resolve("tmp/demo");
try {
  const prepared = await prepareMarkets(suite);
  console.log(
    `\nGovernance through the timelock (one batch, waited ${prepared.delay / 86_400n} days): ${prepared.actions.join("; ")}`,
  );
  console.log("\n== Storage ==  a file on two providers' agents, proven daily; one loses data");
  await runStorageSection(suite, sectionsRpc.url, outDir, (line) => console.log(line));
  console.log("\n== Compute ==  frames rendered by two providers; one cheats");
  await runComputeSection(suite, sectionsRpc.url, outDir, (line) => console.log(line));
  console.log("\n== Storage and compute epochs ==  each subnetwork's rewards through the one epoch path");
  await runWorkEpochsSection(suite, sectionsRpc.url, (line) => console.log(line));
} finally {
  await sectionsRpc.close();
}
console.log(
  `Final MESH supply ${fmt(await suite.token.totalSupply())} of cap ${fmt(await suite.token.cap())}`,
);
console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
