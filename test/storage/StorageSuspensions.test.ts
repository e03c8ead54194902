import { expect } from "chai";
import { concat, getBytes, Signature, type Wallet } from "ethers";

import { STORAGE_SUSPENSION_TYPES, storageSuspensionsDomain } from "@hexmesh/protocol";

import type { RewardsDistributor, StorageSuspensions } from "../../typechain-types/index.js";
import { createRegistryNetwork } from "../helpers/registryFixture.js";
import { byAddress, oracleWallets } from "../helpers/rewards.js";
import { deployStorage, type StorageSystem } from "../helpers/storage.js";

const { ethers, networkHelpers } = await createRegistryNetwork();
const { loadFixture, time } = networkHelpers;

interface System extends StorageSystem {
  distributor: RewardsDistributor;
  suspensions: StorageSuspensions;
  oracles: Wallet[];
  chainId: bigint;
}

const SUBNET_STORAGE = "0x" + "33".repeat(32);

async function fixture(): Promise<System> {
  const fx = await deployStorage(ethers, networkHelpers);
  const oracles = byAddress(oracleWallets(4, "hexmesh storage oracle"));
  const distributor = (await ethers.deployContract("RewardsDistributor", [
    await fx.token.getAddress(),
    SUBNET_STORAGE,
    fx.admin.address,
    fx.admin.address,
    oracles.map((o) => o.address),
    3,
    3600n,
  ])) as unknown as RewardsDistributor;
  const suspensions = (await ethers.deployContract("StorageSuspensions", [
    await distributor.getAddress(),
  ])) as unknown as StorageSuspensions;
  await fx.deals.connect(fx.admin).setSuspensions(await suspensions.getAddress());
  const { chainId } = await ethers.provider.getNetwork();
  return { ...fx, distributor, suspensions, oracles, chainId };
}

interface Update {
  deviceId: bigint;
  suspended: boolean;
  nonce: bigint;
  deadline: bigint;
  oracleSetVersion: bigint;
}

async function sign(sys: System, signers: readonly Wallet[], u: Update, at?: string): Promise<string> {
  const domain = storageSuspensionsDomain(sys.chainId, at ?? (await sys.suspensions.getAddress()));
  const sigs = await Promise.all(
    signers.map(
      async (o) =>
        Signature.from(await o.signTypedData({ ...domain }, STORAGE_SUSPENSION_TYPES, { ...u })).serialized,
    ),
  );
  return concat(sigs.map((s) => getBytes(s)));
}

async function update(sys: System, suspended: boolean, over: Partial<Update> = {}) {
  const now = BigInt(await time.latest());
  const u: Update = {
    deviceId: sys.storageDevice,
    suspended,
    nonce: await sys.suspensions.nonceOf(sys.storageDevice),
    deadline: now + 600n,
    oracleSetVersion: 1n,
    ...over,
  };
  return { u, sigs: await sign(sys, sys.oracles.slice(0, 3), u) };
}

const send = (sys: System, u: Update, sigs: string) =>
  sys.suspensions.update(u.deviceId, u.suspended, u.nonce, u.deadline, u.oracleSetVersion, sigs);

describe("StorageSuspensions and StorageDeals' suspension gate", function () {
  it("a quorum-signed suspension stops new data sets with the device; reinstating lets them through again", async function () {
    const sys = await loadFixture(fixture);
    const { u, sigs } = await update(sys, true);
    await expect(send(sys, u, sigs))
      .to.emit(sys.suspensions, "SuspensionUpdated")
      .withArgs(sys.storageDevice, true, 0n, 1n);
    expect(await sys.suspensions.isSuspended(sys.storageDevice)).to.equal(true);
    expect(await sys.suspensions.nonceOf(sys.storageDevice)).to.equal(1n);
    await expect(sys.deals.connect(sys.client).createDataSet(sys.storageDevice))
      .to.be.revertedWithCustomError(sys.deals, "StorageDeviceSuspended")
      .withArgs(sys.storageDevice);

    const back = await update(sys, false);
    await expect(send(sys, back.u, back.sigs))
      .to.emit(sys.suspensions, "SuspensionUpdated")
      .withArgs(sys.storageDevice, false, 1n, 1n);
    await expect(sys.deals.connect(sys.client).createDataSet(sys.storageDevice)).to.emit(
      sys.deals,
      "DataSetCreated",
    );
  });

  it("a device suspended after a proposal cannot be accepted; running data sets are untouched", async function () {
    const sys = await loadFixture(fixture);
    await sys.deals.connect(sys.client).createDataSet(sys.storageDevice);
    await sys.deals.connect(sys.client).createDataSet(sys.storageDevice);
    await sys.deals.connect(sys.provider).acceptDataSet(1n);
    const { u, sigs } = await update(sys, true);
    await send(sys, u, sigs);
    await expect(sys.deals.connect(sys.provider).acceptDataSet(2n))
      .to.be.revertedWithCustomError(sys.deals, "StorageDeviceSuspended")
      .withArgs(sys.storageDevice);
    expect((await sys.deals.dataSet(1n)).status).to.equal(2n);
  });

  it("refuses replayed, out-of-order, expired, forged and short-signed updates", async function () {
    const sys = await loadFixture(fixture);
    const { u, sigs } = await update(sys, true);
    await send(sys, u, sigs);
    await expect(send(sys, u, sigs))
      .to.be.revertedWithCustomError(sys.suspensions, "SuspensionsWrongNonce")
      .withArgs(sys.storageDevice, 0n, 1n);
    const ahead = await update(sys, false, { nonce: 5n });
    await expect(send(sys, ahead.u, ahead.sigs))
      .to.be.revertedWithCustomError(sys.suspensions, "SuspensionsWrongNonce")
      .withArgs(sys.storageDevice, 5n, 1n);

    const late = await update(sys, false);
    await time.increase(601);
    await expect(send(sys, late.u, late.sigs))
      .to.be.revertedWithCustomError(sys.suspensions, "SuspensionsExpired")
      .withArgs(late.u.deadline);

    const fresh = await update(sys, false);
    // Signed for another contract (domain binds the contract): recovers to strangers.
    const elsewhere = await sign(sys, sys.oracles.slice(0, 3), fresh.u, sys.client.address);
    await expect(send(sys, fresh.u, elsewhere)).to.be.revertedWithCustomError(
      sys.suspensions,
      "OracleSignaturesNotOracle",
    );
    // A field changed after signing.
    await expect(send(sys, { ...fresh.u, suspended: true }, fresh.sigs)).to.be.revertedWithCustomError(
      sys.suspensions,
      "OracleSignaturesNotOracle",
    );
    const two = await sign(sys, sys.oracles.slice(0, 2), fresh.u);
    await expect(send(sys, fresh.u, two))
      .to.be.revertedWithCustomError(sys.suspensions, "OracleSignaturesTooFew")
      .withArgs(2n, 3n);
    await expect(send(sys, fresh.u, fresh.sigs + "00"))
      .to.be.revertedWithCustomError(sys.suspensions, "OracleSignaturesBadLength")
      .withArgs(196n);
    const dup = await sign(sys, [sys.oracles[0]!, sys.oracles[0]!, sys.oracles[1]!], fresh.u);
    await expect(send(sys, fresh.u, dup))
      .to.be.revertedWithCustomError(sys.suspensions, "OracleSignaturesNotAscending")
      .withArgs(1n, sys.oracles[0]!.address);
    const junk = concat([getBytes(fresh.sigs).slice(0, 130), new Uint8Array(65)]);
    await expect(send(sys, fresh.u, junk))
      .to.be.revertedWithCustomError(sys.suspensions, "OracleSignaturesInvalid")
      .withArgs(2n);
    const stale = await update(sys, false, { oracleSetVersion: 2n });
    await expect(send(sys, stale.u, stale.sigs))
      .to.be.revertedWithCustomError(sys.suspensions, "OracleSignaturesStaleOracleSet")
      .withArgs(2n, 1n);
    expect(await sys.suspensions.isSuspended(sys.storageDevice)).to.equal(true);
    await send(sys, fresh.u, fresh.sigs);
    expect(await sys.suspensions.isSuspended(sys.storageDevice)).to.equal(false);
  });

  it("a new oracle set kills the old set's signatures", async function () {
    const sys = await loadFixture(fixture);
    const { u, sigs } = await update(sys, true);
    await sys.distributor.connect(sys.admin).setOracleSet(
      sys.oracles.slice(1).map((o) => o.address),
      2,
    );
    await expect(send(sys, u, sigs))
      .to.be.revertedWithCustomError(sys.suspensions, "OracleSignaturesStaleOracleSet")
      .withArgs(1n, 2n);
    const again = await sign(sys, sys.oracles.slice(0, 2), { ...u, oracleSetVersion: 2n });
    await expect(send(sys, { ...u, oracleSetVersion: 2n }, again))
      .to.be.revertedWithCustomError(sys.suspensions, "OracleSignaturesNotOracle")
      .withArgs(sys.oracles[0]!.address);
    const members = await sign(sys, sys.oracles.slice(1, 3), { ...u, oracleSetVersion: 2n });
    await expect(send(sys, { ...u, oracleSetVersion: 2n }, members)).to.emit(
      sys.suspensions,
      "SuspensionUpdated",
    );
  });

  it("the digest is the protocol's EIP-712 hash; construction and governance are checked", async function () {
    const sys = await loadFixture(fixture);
    const { u } = await update(sys, true);
    const domain = storageSuspensionsDomain(sys.chainId, await sys.suspensions.getAddress());
    expect(
      await sys.suspensions.suspensionDigest(
        u.deviceId,
        u.suspended,
        u.nonce,
        u.deadline,
        u.oracleSetVersion,
      ),
    ).to.equal(ethers.TypedDataEncoder.hash({ ...domain }, STORAGE_SUSPENSION_TYPES, { ...u }));
    expect(await sys.suspensions.distributor()).to.equal(await sys.distributor.getAddress());
    await expect(
      ethers.deployContract("StorageSuspensions", [ethers.ZeroAddress]),
    ).to.be.revertedWithCustomError(sys.suspensions, "SuspensionsZeroAddress");
    await expect(
      sys.deals.connect(sys.outsider).setSuspensions(sys.outsider.address),
    ).to.be.revertedWithCustomError(sys.deals, "AccessControlUnauthorizedAccount");
    // Suspend, then governance turns the gate off: the device may take data sets again.
    const s = await update(sys, true);
    await send(sys, s.u, s.sigs);
    await expect(sys.deals.connect(sys.admin).setSuspensions(ethers.ZeroAddress))
      .to.emit(sys.deals, "SuspensionsSet")
      .withArgs(ethers.ZeroAddress);
    expect(await sys.deals.suspensions()).to.equal(ethers.ZeroAddress);
    await expect(sys.deals.connect(sys.client).createDataSet(sys.storageDevice)).to.emit(
      sys.deals,
      "DataSetCreated",
    );
  });
});
