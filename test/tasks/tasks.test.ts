import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { getAddress, HDNodeWallet, Wallet } from "ethers";
import { getResolution, latLngToCell } from "h3-js";
import hre, { network } from "hardhat";

import type { StoredEpochResult } from "@hexmesh/oracle";
import { OracleClient } from "@hexmesh/oracle/api/client";
import type { Hex } from "@hexmesh/protocol";
import { liveRound } from "@hexmesh/sim";

import { loadHexmeshParameters, ROLES } from "../../deploy/lib/hexmesh.js";
import { deploySuite, suiteAddresses, type DeployedSuite } from "../../deploy/lib/suite.js";
import { closeEpoch, passChallengeWindow } from "../../scripts/demo/epoch.js";
import { onboardFleet } from "../../scripts/demo/fleet.js";
import { OracleSet } from "../../scripts/demo/oracles.js";
import { freePort, serveJsonRpc, type JsonRpcEndpoint } from "../../scripts/demo/rpc.js";
import { formatDuration, formatMesh, parseMesh, TaskError } from "../../tasks/lib/common.js";
import type {
  DeviceRegistry,
  EmissionsController,
  MeshToken,
  RewardsDistributor,
  StakingVault,
} from "../../typechain-types/index.js";
import { LOCAL_PARAMETERS } from "../helpers/deploy.js";
import { DeviceStatus, registryDomain, secp256k1Device, signAttestation } from "../helpers/registry.js";
import { taskRunner } from "../helpers/tasks.js";

const M = (n: string) => parseMesh(n);
// Hardhat's well-known development key #5: the maker signer in deploy/parameters/localhost.json.
const MAKER_KEY = new Wallet("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba");
const DEPLOYMENT_ID = `test-tasks-${process.pid}`;
/** Boulder, Colorado: inside the oracle's US915 region. */
const BOULDER: [number, number] = [40.015, -105.2705];

/**
 * The private key of one of the in-process network's development accounts (derived from its
 * configured mnemonic: Hardhat's well-known test accounts, whose keys are public).
 */
async function developmentKey(address: string): Promise<string> {
  const accounts = hre.config.networks.default!.accounts as {
    mnemonic?: { get(): Promise<string> };
    path?: string;
    count?: number;
  };
  if (accounts.mnemonic === undefined) throw new Error("the default network has no mnemonic accounts");
  const phrase = await accounts.mnemonic.get();
  for (let i = 0; i < (accounts.count ?? 20); i++) {
    const w = HDNodeWallet.fromPhrase(phrase, undefined, `${accounts.path ?? "m/44'/60'/0'/0"}/${i}`);
    if (w.address === getAddress(address)) return w.privateKey;
  }
  throw new Error(`${address} is not one of the default network's development accounts`);
}

describe("tasks: hexmesh wallet and operator commands", function () {
  let ethers: Awaited<ReturnType<typeof network.getOrCreate>>["ethers"];
  let helpers: Awaited<ReturnType<typeof network.getOrCreate>>["networkHelpers"];
  let token: MeshToken;
  let registry: DeviceRegistry;
  let vault: StakingVault;
  let distributor: RewardsDistributor;
  let controller: EmissionsController;
  let treasury: HardhatEthersSigner;
  let guardian: HardhatEthersSigner;
  let alice: HardhatEthersSigner;
  let bob: HardhatEthersSigner;
  let pauper: HardhatEthersSigner;
  let tmp: string;
  let deployed: DeployedSuite;
  const deploymentDir = path.join("deploy", "deployments", DEPLOYMENT_ID);
  const params = loadHexmeshParameters(LOCAL_PARAMETERS);

  const { run, fails } = taskRunner(DEPLOYMENT_ID);

  before(async function () {
    // The tasks run on the default network's shared connection: deploy the suite there.
    const suite = await deploySuite(await network.getOrCreate(), params);
    deployed = suite;
    ({ token, registry, vault, distributor, controller } = suite);
    ethers = suite.connection.ethers;
    helpers = suite.connection.networkHelpers;
    mkdirSync(deploymentDir, { recursive: true });
    writeFileSync(
      path.join(deploymentDir, "deployed_addresses.json"),
      JSON.stringify({
        "Hexmesh#HexmeshTimelock": await suite.timelock.getAddress(),
        "Hexmesh#MeshToken": await token.getAddress(),
        "Hexmesh#P256Verifier": suite.p256,
        "Hexmesh#DeviceRegistry": await registry.getAddress(),
        "Hexmesh#StakingVault": await vault.getAddress(),
        "Hexmesh#RewardsDistributor": await distributor.getAddress(),
        "Hexmesh#EmissionsController": await controller.getAddress(),
      }),
    );
    tmp = path.join(os.tmpdir(), DEPLOYMENT_ID);
    mkdirSync(tmp, { recursive: true });
    const signers = await ethers.getSigners();
    treasury = signers.find((s) => s.address === params.treasury)!;
    guardian = signers.find((s) => s.address === params.guardian)!;
    [alice, bob, pauper] = [signers[6]!, signers[7]!, signers[8]!];
    for (const who of [alice, bob]) await token.connect(treasury).transfer(who.address, M("1000"));
  });

  after(function () {
    rmSync(deploymentDir, { recursive: true, force: true });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe("amounts", function () {
    it("parses and formats MESH with 18 decimals and refuses junk", function () {
      expect(parseMesh("2.5")).to.equal(25n * 10n ** 17n);
      expect(formatMesh(25n * 10n ** 17n)).to.equal("2.5 MESH");
      expect(formatMesh(10n ** 18n)).to.equal("1 MESH");
      expect(formatDuration(90_061n)).to.equal("1d 1h 1m 1s");
      expect(() => parseMesh("-1")).to.throw(TaskError, /MESH amount/);
      expect(() => parseMesh("1e18")).to.throw(TaskError, /MESH amount/);
      expect(() => parseMesh("0." + "1".repeat(19))).to.throw(TaskError, /more than 18 decimals/);
    });
  });

  describe("addresses and network", function () {
    it("refuses a chain without a deployment", async function () {
      await fails(
        "status",
        { deploymentId: "chain-nowhere" },
        undefined,
        /no Hexmesh deployment for chain 31337/,
      );
    });

    it("refuses addresses without contracts (wrong network)", async function () {
      await fails(
        "status",
        { token: alice.address, registry: alice.address, vault: alice.address, distributor: alice.address },
        undefined,
        /no token contract at 0x.* on chain 31337 .*wrong network\?/,
      );
    });

    it("takes explicit addresses instead of a deployment, and refuses unknown accounts", async function () {
      const { result } = await run("status", {
        deploymentId: "chain-nowhere",
        token: await token.getAddress(),
        registry: await registry.getAddress(),
        vault: await vault.getAddress(),
        distributor: await distributor.getAddress(),
        address: treasury.address,
      });
      expect(result.balance).to.equal(await token.balanceOf(treasury.address));
      await fails(
        "status",
        { account: Wallet.createRandom().address },
        undefined,
        /not one of this network's configured accounts/,
      );
      await fails("status", { token: "0x1234" }, undefined, /--token must be an address/);
    });
  });

  describe("stake, unstake, withdraw, claim", function () {
    it("stakes with a permit in one transaction", async function () {
      const before = await token.balanceOf(alice.address);
      const { result, out } = await run("stake", { amount: "250.5" }, alice);
      expect(result.function).to.equal("stakeWithPermit");
      expect(result.gasUsed).to.be.greaterThan(0n);
      expect(out).to.contain("staking 250.5 MESH");
      expect(await vault.activeStakeOf(alice.address)).to.equal(M("250.5"));
      expect(await token.balanceOf(alice.address)).to.equal(before - M("250.5"));
    });

    it("dry-runs a stake: decoded call and estimated gas, nothing sent", async function () {
      const block = await ethers.provider.getBlockNumber();
      const { result, out } = await run("stake", { amount: "10", dryRun: true }, alice);
      expect(result.dryRun).to.equal(true);
      expect(result.gas).to.be.greaterThan(21_000n);
      expect(vault.interface.parseTransaction({ data: result.data })!.args[0]).to.equal(M("10"));
      expect(out).to.match(
        /dry run, not sent:[\s\S]*call  stakeWithPermit\(amount=10000000000000000000, deadline=/,
      );
      expect(await ethers.provider.getBlockNumber()).to.equal(block);
      expect(await vault.activeStakeOf(alice.address)).to.equal(M("250.5"));
    });

    it("refuses a stake beyond the balance, of zero or of junk", async function () {
      await fails(
        "stake",
        { amount: "1000000" },
        alice,
        /insufficient MESH balance for staking: .* has 749.5 MESH, needs 1000000 MESH/,
      );
      await fails("stake", { amount: "0" }, alice, /more than 0 MESH/);
      await fails("stake", { amount: "ten" }, alice, /must be a MESH amount/);
    });

    it("refuses to stake while the vault is paused", async function () {
      await vault.connect(guardian).pause();
      try {
        await fails("stake", { amount: "1" }, alice, /staking vault is paused by the guardian/);
        await fails("unstake-request", { amount: "1" }, alice, /paused/);
        await fails("claim-staking", {}, alice, /paused/);
      } finally {
        await vault.connect(guardian).unpause();
      }
    });

    it("requests an unstake, refuses more than the stake, and shows the request in status", async function () {
      await fails(
        "unstake-request",
        { amount: "300" },
        alice,
        /insufficient stake: .* has 250.5 MESH staked, asked to unstake 300 MESH/,
      );
      const dry = await run("unstake-request", { amount: "50", dryRun: true }, alice);
      expect(dry.result.dryRun).to.equal(true);
      const { result } = await run("unstake-request", { amount: "50" }, alice);
      expect(result.requestId).to.equal(1n);
      expect(await vault.pendingUnstakeOf(alice.address)).to.equal(M("50"));
      const status = await run("status", {}, alice);
      expect(status.result.staked).to.equal(M("200.5"));
      expect(status.out).to.match(/request 1: 50 MESH, withdrawable in 1d/);
    });

    it("refuses a withdraw before the cooldown, with the time left, then withdraws", async function () {
      await fails("withdraw", {}, alice, /cooldown not over: request 1 unlocks at .*Z, in (23h 59m|1d)/);
      await helpers.time.increase(params.vault.cooldown);
      const dry = await run("withdraw", { dryRun: true }, alice);
      expect(dry.result.function).to.equal("withdraw");
      const before = await token.balanceOf(alice.address);
      await run("withdraw", { request: "1" }, alice);
      expect(await token.balanceOf(alice.address)).to.equal(before + M("50"));
      await fails("withdraw", {}, alice, /has no pending unstake request/);
      await fails("withdraw", { request: "1" }, alice, /has no pending unstake request 1/);
      await fails("withdraw", { request: "x" }, alice, /--request must be a request id/);
    });

    it("withdraws a matured request even while the vault is paused", async function () {
      await run("unstake-request", { amount: "1" }, alice);
      await helpers.time.increase(params.vault.cooldown);
      await vault.connect(guardian).pause();
      try {
        const { result } = await run("withdraw", {}, alice);
        expect(result.gasUsed).to.be.greaterThan(0n);
      } finally {
        await vault.connect(guardian).unpause();
      }
    });

    it("cancels a request, asking for an id when several are pending", async function () {
      await run("unstake-request", { amount: "10" }, alice);
      await run("unstake-request", { amount: "20" }, alice);
      await fails("unstake-cancel", {}, alice, /has 2 pending requests \(3, 4\); pass --request <id>/);
      await run("unstake-cancel", { request: "3" }, alice);
      await run("unstake-cancel", {}, alice);
      expect(await vault.pendingUnstakeOf(alice.address)).to.equal(0n);
      expect(await vault.activeStakeOf(alice.address)).to.equal(M("199.5"));
      await fails("unstake-cancel", {}, alice, /no pending unstake request/);
    });

    it("claims staking rewards, and says so when there are none", async function () {
      await fails("claim-staking", {}, bob, /has no staking rewards to claim/);
      // Stand in for the emissions controller: the timelock grants the notifier role to the treasury.
      const tl = await ethers.getImpersonatedSigner(await timelockAddress());
      await helpers.setBalance(await tl.getAddress(), 10n ** 18n);
      await vault.connect(tl).grantRole(ROLES.REWARDS_NOTIFIER, treasury.address);
      await token.connect(treasury).transfer(await vault.getAddress(), M("100"));
      await vault.connect(treasury).notifyRewards(M("100"));
      await helpers.time.increase(params.vault.rewardsDuration);
      const dry = await run("claim-staking", { dryRun: true }, alice);
      expect(dry.result.function).to.equal("claimRewards");
      const before = await token.balanceOf(alice.address);
      const { result, out } = await run("claim-staking", {}, alice);
      expect(out).to.match(/claiming 99\.99\d* MESH|claiming 100 MESH/);
      expect((await token.balanceOf(alice.address)) - before).to.be.greaterThanOrEqual(result.earned);
    });
  });

  async function timelockAddress(): Promise<string> {
    const filter = vault.filters.RoleGranted(ROLES.DEFAULT_ADMIN);
    const events = await vault.queryFilter(filter);
    return events[events.length - 1]!.args.account;
  }

  describe("devices", function () {
    let deviceId: bigint;

    async function onboardingFile(owner: string, overrides: { makerDeadline?: bigint } = {}) {
      const { chainId } = await ethers.provider.getNetwork();
      const domain = registryDomain(chainId, await registry.getAddress());
      const device = secp256k1Device();
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      const makerDeadline = overrides.makerDeadline ?? now + 86_400n;
      const deviceDeadline = now + 3_600n;
      const makerSignature = await signAttestation(MAKER_KEY, domain, {
        keyId: device.keyId,
        deviceClass: 1,
        makerId: 1,
        deadline: makerDeadline,
      });
      const deviceSignature = await device.signOwnership(domain, owner, deviceDeadline);
      const file = path.join(tmp, `onboard-${device.keyId.slice(2, 10)}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          req: {
            key: device.key,
            deviceClass: 1,
            makerId: 1,
            owner,
            makerDeadline: makerDeadline.toString(),
            deviceDeadline: deviceDeadline.toString(),
          },
          makerSignature,
          deviceSignature,
        }),
      );
      return { file, keyId: device.keyId };
    }

    it("onboards a device from a maker attestation and a device signature, fee by permit", async function () {
      const { file, keyId } = await onboardingFile(bob.address);
      const dry = await run("onboard", { file, dryRun: true }, bob);
      expect(dry.result.function).to.equal("onboardWithPermit");
      expect(dry.result.deviceId).to.equal(BigInt(keyId)); // known before sending: the key id
      expect(await registry.deviceIdByKey(keyId)).to.equal(0n);
      const before = await token.balanceOf(bob.address);
      const supply = await token.totalSupply();
      const held = await token.balanceOf(await registry.getAddress());
      const { result, out } = await run("onboard", { file }, bob);
      deviceId = result.deviceId;
      expect(deviceId).to.equal(BigInt(keyId));
      expect(await registry.deviceIdByKey(keyId)).to.equal(deviceId);
      expect(out).to.contain(
        `as device ${keyId}; fee 40 MESH (collected by the registry, burned in its next batch)`,
      );
      expect(out).to.contain(`device ${keyId} onboarded`);
      expect(await registry.ownerOf(deviceId)).to.equal(bob.address);
      expect(await token.balanceOf(bob.address)).to.equal(before - M("40"));
      expect(await token.balanceOf(await registry.getAddress())).to.equal(held + M("40"));
      expect(await token.totalSupply()).to.equal(supply);
      await fails("onboard", { file }, bob, new RegExp(`already registered, as device ${keyId}`));
    });

    it("refuses onboarding without the fee, while paused, from a bad file, and decodes custom errors", async function () {
      await fails(
        "onboard",
        { file: (await onboardingFile(pauper.address)).file },
        pauper,
        /insufficient MESH balance for the class 1 onboarding fee/,
      );
      await registry.connect(guardian).pause();
      try {
        await fails(
          "onboard",
          { file: (await onboardingFile(bob.address)).file },
          bob,
          /device registry is paused/,
        );
      } finally {
        await registry.connect(guardian).unpause();
      }
      const bad = path.join(tmp, "bad.json");
      writeFileSync(bad, "{}");
      await fails("onboard", { file: bad }, bob, /must hold \{req/);
      await fails("onboard", { file: path.join(tmp, "missing.json") }, bob, /cannot read onboarding file/);
      await fails("onboard", {}, bob, /--file <onboarding.json> is required/);
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      const { file: expired } = await onboardingFile(bob.address, { makerDeadline: now - 1n });
      await fails(
        "onboard",
        { file: expired },
        bob,
        /onboardWithPermit would revert: RegistryAttestationExpired\(deadline=\d+\): the maker.s attestation has expired/,
      );
    });

    it("asserts a location from lat/lng (first assert free), then from a cell with the fee approved", async function () {
      const first = await run(
        "assert-location",
        { device: deviceId.toString(), lat: "52.52", lng: "13.405", gain: "3.5", elevation: "12" },
        bob,
      );
      const expectedCell = latLngToCell(52.52, 13.405, 12);
      expect(first.result.cell).to.equal(expectedCell);
      expect(first.result.fee).to.equal(0n);
      const info = await registry.deviceInfo(deviceId);
      expect(info.cell).to.equal(BigInt("0x" + expectedCell));
      expect(info.gain).to.equal(35n);

      const other = latLngToCell(52.53, 13.41, 12);
      const dry = await run(
        "assert-location",
        { device: deviceId.toString(), cell: "0x" + other, dryRun: true },
        bob,
      );
      expect(dry.out).to.match(
        /approving the registry for the 5 MESH assert fee[\s\S]*call  approve\(spender=/,
      );
      expect(dry.out).to.contain("then  assertLocation(");
      const before = await token.balanceOf(bob.address);
      await run("assert-location", { device: deviceId.toString(), cell: other }, bob);
      expect(await token.balanceOf(bob.address)).to.equal(before - M("5"));
      expect((await registry.deviceInfo(deviceId)).assertCount).to.equal(2n);
    });

    it("refuses bad cells, gains, devices, owners and asserts while paused", async function () {
      const d = deviceId.toString();
      const res9 = latLngToCell(52.52, 13.405, 9);
      expect(getResolution(res9)).to.equal(9);
      await fails(
        "assert-location",
        { device: d, cell: res9 },
        bob,
        /has resolution 9; the registry takes resolution 12/,
      );
      await fails("assert-location", { device: d, cell: "zz" }, bob, /is not a valid H3 cell/);
      await fails("assert-location", { device: d }, bob, /give --cell <h3 hex> or --lat/);
      await fails("assert-location", { device: d, lat: "95", lng: "0" }, bob, /latitude in \[-90, 90\]/);
      await fails(
        "assert-location",
        { device: d, lat: "1", lng: "1", gain: "20" },
        bob,
        /--gain must be in dBi between 1 and 15/,
      );
      await fails(
        "assert-location",
        { device: d, lat: "1", lng: "1", elevation: "1.5" },
        bob,
        /whole metres/,
      );
      await fails(
        "assert-location",
        { device: "99", lat: "1", lng: "1" },
        bob,
        /device 0x0{62}63 does not exist/,
      );
      await fails("assert-location", { device: d, lat: "1", lng: "1" }, alice, /belongs to 0x.*, not to/);
      await registry.connect(guardian).pause();
      try {
        await fails("assert-location", { device: d, lat: "1", lng: "1" }, bob, /device registry is paused/);
      } finally {
        await registry.connect(guardian).unpause();
      }
    });

    it("shows a device's owner, key, status and location, and an owner's bonded devices", async function () {
      const { result, out } = await run("status", { device: deviceId.toString() });
      expect(result.owner).to.equal(bob.address);
      expect(result.status).to.equal("active");
      expect(result.keyType).to.equal("secp256k1");
      expect(result.resolution).to.equal(12);
      const hexId = "0x" + deviceId.toString(16).padStart(64, "0");
      expect(out).to.contain(`device ${hexId}: active, owner ${bob.address}, secp256k1 key 0x`);
      expect(out).to.match(/location [0-9a-f]{15} \(res 12, 52\.5/);
      expect(Number(DeviceStatus.Active)).to.equal(1);
      // The id as its 0x key id works the same as the decimal token id.
      expect((await run("status", { device: hexId })).result.owner).to.equal(bob.address);
      await fails("status", { device: "42" }, undefined, /device 0x0{62}2a does not exist/);
      await fails("status", { device: "one" }, undefined, /--device must be a device id/);
      await fails("status", { device: "0x" + "1".repeat(65) }, undefined, /--device must be a device id/);

      await run("stake", { amount: "100" }, bob);
      const account = await run("status", { address: bob.address });
      expect(account.result.devices).to.equal(1n);
      expect(account.result.bonded).to.equal(1n);
      expect(account.out).to.contain("1 owned, 1 bonded (bond 100 MESH per device)");
      await fails("status", { address: "nope" }, undefined, /--address must be an address/);
    });
  });

  describe("burn-fees", function () {
    it("dry-runs, then burns the registry's collected fees from any account, and refuses when none are left", async function () {
      const registryAddress = await registry.getAddress();
      const collected = await registry.collectedFees();
      // 40 MESH onboarding fee and one 5 MESH assert fee from the devices above, less the wei kept.
      expect(collected).to.equal(M("45") - 1n);
      const supply = await token.totalSupply();
      const dry = await run("burn-fees", { dryRun: true }, pauper);
      expect(dry.result.function).to.equal("burnCollectedFees");
      expect(dry.result.amount).to.equal(collected);
      expect(await token.totalSupply()).to.equal(supply);

      const { result, out } = await run("burn-fees", {}, pauper); // pauper holds no MESH and no role
      expect(result.amount).to.equal(collected);
      expect(out).to.contain(`burning ${formatMesh(collected)} of collected registry fees`);
      expect(out).to.contain(
        `burned ${formatMesh(collected)}; MESH supply now ${formatMesh(supply - collected)}`,
      );
      expect(await token.totalSupply()).to.equal(supply - collected);
      expect(await token.balanceOf(registryAddress)).to.equal(1n);
      await fails("burn-fees", {}, pauper, /the device registry holds no collected fees to burn/);
    });
  });

  describe("claim-coverage, against oracle services on localhost", function () {
    // The proofs come from real oracle services (the same ones operators run), on this chain:
    // a fleet is onboarded here, the services take a real epoch of signed reports through their
    // steps (ingest, pull, close, sign, collect, post), and the root goes live.
    this.timeout(300_000);
    let rpc: JsonRpcEndpoint | undefined;
    let oracles: OracleSet | undefined;
    let url: string;
    let result: StoredEpochResult | undefined;
    let carol: HardhatEthersSigner;
    const cumulativeOf = (owner: HardhatEthersSigner) =>
      result!.owners.find((o) => o.owner === owner.address.toLowerCase())?.cumulative ?? 0n;

    before(async function () {
      const signers = await ethers.getSigners();
      carol = signers[9]!;
      const { chainId } = await ethers.provider.getNetwork();
      const chain = {
        ...deployed,
        ethers,
        treasury,
        makerKey: MAKER_KEY,
        genesisTime: BigInt(params.emissions.genesisTime),
        epochLength: BigInt(params.emissions.epochLength),
        time: {
          increaseTo: (t: bigint | number) => helpers.time.increaseTo(t),
          latest: () => helpers.time.latest(),
        },
      };
      const fleet = await onboardFleet(chain, [bob, alice, carol], {
        devices: 9,
        p256Share: 0.3,
        spacingM: 400,
        origin: BOULDER,
        seed: "tasks claim-coverage",
      });
      // The next epoch: the fleet is on chain and bonded before it starts. The services' clock is
      // put a minute into it (the chain's time runs ahead of the host's), as with oracle:dev.
      const epoch = (BigInt(await helpers.time.latest()) - chain.genesisTime) / chain.epochLength + 1n;
      const start = Number(chain.genesisTime + epoch * chain.epochLength) * 1000;

      // The tasks' chain as JSON-RPC on localhost, and the deployment's three oracles (Hardhat
      // development accounts) as services on it; oracle 0 posts from another development account.
      rpc = await serveJsonRpc((await network.getOrCreate()).provider);
      oracles = await OracleSet.start({
        rpcUrl: rpc.url,
        addresses: await suiteAddresses(deployed),
        fromBlock: deployed.deployBlock,
        oracleKeys: await Promise.all(params.coverage.oracles.map((a) => developmentKey(a))),
        posterKey: await developmentKey(signers[13]!.address),
        firstEpoch: Number(epoch),
        clockOffsetMs: start + 60_000 - Date.now(),
      });

      // The fleet reports to oracle 0 over HTTP: beacons citing its entropy, then the witnesses.
      const ingest = new OracleClient(oracles.urls[0]!);
      const entropy = await ingest.entropy();
      const round = liveRound(
        fleet,
        { chainId, verifyingContract: (await registry.getAddress()).toLowerCase() as Hex },
        { value: entropy.value as Hex, blockHash: entropy.blockHash as Hex, timestamp: entropy.timestamp },
        start + 60_000,
        "tasks claim-coverage",
      );
      const beacons = await ingest.submitReports(round.beacons);
      const witnesses = await ingest.submitReports(round.witnesses);
      expect(beacons.accepted + witnesses.accepted).to.equal(round.beacons.length + round.witnesses.length);

      // The epoch ends and is funded on chain; every oracle closes it (oracles 1 and 2 pull oracle
      // 0's inputs first), all sign, oracle 0 collects the signatures over HTTP and posts.
      await closeEpoch(chain, epoch);
      await oracles.pull(epoch);
      [result] = await oracles.close(epoch);
      expect((await oracles.post(epoch)).status).to.equal("posted");
      await passChallengeWindow(chain);
      expect((await distributor.liveRoot())[1]).to.equal(result!.root);
      for (const o of [bob, alice, carol]) expect(cumulativeOf(o), o.address).to.be.greaterThan(0n);
      expect(cumulativeOf(pauper)).to.equal(0n);
      // Any oracle of the set serves the live root's proofs; a trailing slash is fine.
      url = `${oracles.urls[1]}/`;
    });

    after(async function () {
      await oracles?.stop();
      await rpc?.close();
    });

    it("refuses missing or both sources, unknown owners, unreachable or wrong oracles, bad documents and a paused distributor", async function () {
      await fails("claim-coverage", {}, bob, /exactly one of --oracle <url> and --proof-file <file>/);
      await fails("claim-coverage", { oracle: url, proofFile: "x.json" }, bob, /exactly one of/);
      await fails(
        "claim-coverage",
        { oracle: url },
        pauper,
        /the oracle has no rewards for 0x[0-9a-fA-F]{40}: owner 0x[0-9a-f]{40} has no amount in the live root \(epoch \d+\) \(http:\/\/127\.0\.0\.1:\d+\/\S+: HTTP 404\)/,
      );
      await fails(
        "claim-coverage",
        { oracle: `http://127.0.0.1:${await freePort()}` },
        pauper,
        /cannot reach the oracle at http:\/\/127\.0\.0\.1:\d+\/\S+: fetch failed \(ECONNREFUSED\)/,
      );
      // Not an oracle (the chain's JSON-RPC endpoint): its answer is no proof.
      await fails(
        "claim-coverage",
        { oracle: rpc!.url },
        bob,
        /the answer of the oracle at http:\/\/127\.0\.0\.1:\d+: "cumulative" must be a wei amount/,
      );
      const bad = path.join(tmp, "bad-proof.json");
      writeFileSync(bad, JSON.stringify({ cumulative: "1.5", proof: [] }));
      await fails("claim-coverage", { proofFile: bad }, pauper, /"cumulative" must be a wei amount/);
      writeFileSync(bad, JSON.stringify({ cumulative: "5", proof: ["0x12"] }));
      await fails(
        "claim-coverage",
        { proofFile: bad },
        pauper,
        /"proof" must be an array of 32-byte hex strings/,
      );
      writeFileSync(bad, JSON.stringify({ cumulative: "5", proof: [ethers.ZeroHash] }));
      await fails(
        "claim-coverage",
        { proofFile: bad },
        pauper,
        /claim would revert: DistributorInvalidProof\(owner=0x[0-9a-fA-F]{40}, cumulative=\d+\): the proof is not for the live root/,
      );
      // A saved answer is the proof of the owner it names.
      const bobs = path.join(tmp, "bob-answer.json");
      writeFileSync(bobs, JSON.stringify(await new OracleClient(url).owner(bob.address)));
      await fails(
        "claim-coverage",
        { proofFile: bobs },
        pauper,
        /bob-answer\.json is the proof of 0x[0-9a-f]{40}, not of 0x[0-9a-fA-F]{40} \(pass --owner\)/,
      );
      await fails(
        "claim-coverage",
        { proofFile: path.join(tmp, "none.json") },
        pauper,
        /cannot read proof file/,
      );
      await distributor.connect(guardian).pause();
      try {
        await fails("claim-coverage", { oracle: url }, bob, /coverage rewards distributor is paused/);
        await fails("claim-coverage", { proofFile: bad }, pauper, /coverage rewards distributor is paused/);
      } finally {
        await distributor.connect(guardian).unpause();
      }
      expect(await distributor.claimed(bob.address)).to.equal(0n);
    });

    it("dry-runs, then claims with the proof the oracle serves: the owner is paid exactly its cumulative amount", async function () {
      const amount = cumulativeOf(bob);
      const dry = await run("claim-coverage", { oracle: url, dryRun: true }, bob);
      expect(dry.result.function).to.equal("claim");
      expect(dry.result.amount).to.equal(amount);
      expect(await distributor.claimed(bob.address)).to.equal(0n);
      const before = await token.balanceOf(bob.address);
      const { result: claimed, out } = await run("claim-coverage", { oracle: url }, bob);
      expect(claimed.amount).to.equal(amount);
      expect(out).to.contain(`claiming ${formatMesh(amount)} of coverage rewards for ${bob.address}`);
      expect(await token.balanceOf(bob.address)).to.equal(before + amount);
      expect(await distributor.claimed(bob.address)).to.equal(amount);
      // Every oracle of the set now says so.
      for (const u of oracles!.urls) {
        expect(await new OracleClient(u).owner(bob.address)).to.deep.include({
          cumulative: amount.toString(),
          claimed: amount.toString(),
          claimable: "0",
        });
      }
      await fails(
        "claim-coverage",
        { oracle: url },
        bob,
        /nothing to claim for 0x.*: lifetime .* MESH, already claimed/,
      );
    });

    it("claims for another owner with a saved oracle answer or a bare {cumulative, proof}: the owner is paid", async function () {
      const saved = path.join(tmp, "alice-answer.json");
      writeFileSync(saved, JSON.stringify(await new OracleClient(oracles!.urls[2]!).owner(alice.address)));
      let before = await token.balanceOf(alice.address);
      await run("claim-coverage", { proofFile: saved, owner: alice.address }, pauper);
      expect(await token.balanceOf(alice.address)).to.equal(before + cumulativeOf(alice));

      const answer = await new OracleClient(oracles!.urls[0]!).owner(carol.address);
      const bare = path.join(tmp, "carol-proof.json");
      writeFileSync(bare, JSON.stringify({ cumulative: answer.cumulative, proof: answer.proof }));
      before = await token.balanceOf(carol.address);
      await run("claim-coverage", { proofFile: bare, owner: carol.address }, bob);
      expect(await token.balanceOf(carol.address)).to.equal(before + cumulativeOf(carol));
      expect(await distributor.claimed(carol.address)).to.equal(cumulativeOf(carol));
    });
  });
});
