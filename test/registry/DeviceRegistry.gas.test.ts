import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import * as h3 from "h3-js";

import { coverageRun } from "../helpers/gas.js";
import {
  cellToUint,
  deviceIdOf,
  p256Device,
  secp256k1Device,
  type DeviceSigner,
} from "../helpers/registry.js";
import {
  CLASS_HOTSPOT,
  createRegistryNetwork,
  HOTSPOT_FEE,
  prepareOnboard,
  setupRegistry,
  type RegistryFixture,
} from "../helpers/registryFixture.js";

const { ethers, networkHelpers } = await createRegistryNetwork();

/** SPEC and issue 3: onboarding a device with a secp256k1 key, class fee included. */
const ONBOARD_BUDGET = 160_000n;
const FREE_CLASS = 3;

/**
 * Ceilings a little above the measured receipts (random keys and ids vary calldata by a few hundred
 * gas), so that a regression shows. Measured on the default chain (P-256 precompile): first secp256k1
 * device with the fee 144.8k, the owner's second 127.7k, zero-fee class 123.4k, P-256 197.4k, asserts
 * 57.4k first (free) / 66.6k next (fee), burnCollectedFees 74.8k.
 */
const CEILING = {
  firstDevice: 146_500n,
  secondDevice: 129_500n,
  zeroFeeClass: 125_000n,
  p256: 199_500n,
  assertFirst: 59_000n,
  assertNext: 68_000n,
  burn: 76_500n,
};

async function gasFixture() {
  const fx = await setupRegistry(ethers);
  await fx.registry
    .connect(fx.admin)
    .setDeviceClass(FREE_CLASS, { enabled: true, subnetwork: 0, onboardingFee: 0n });
  const [, , , , , , , , ...fresh] = await ethers.getSigners();
  // The registry's first fee ever fills its MESH balance slot (measured separately below); after that
  // the slot never returns to zero, because burnCollectedFees keeps one wei.
  await onboard(fx, fx.relayer, secp256k1Device(), CLASS_HOTSPOT);
  return { fx, fresh };
}

/**
 * Onboards for `owner` and returns the receipt's gasUsed. The owner approves exactly the fee (the usual
 * wallet flow) and keeps MESH after paying it, as bench/gas/registry.ts does: emptying the payer's
 * balance would earn a storage refund (~4.8k) that real payers mostly do not get.
 */
async function onboard(
  fx: RegistryFixture,
  owner: HardhatEthersSigner,
  device: DeviceSigner,
  deviceClass: number,
) {
  if (deviceClass === CLASS_HOTSPOT) {
    await fx.mesh.connect(fx.treasury).transfer(owner.address, HOTSPOT_FEE * 10n);
    await fx.mesh.connect(owner).approve(await fx.registry.getAddress(), HOTSPOT_FEE);
  }
  const call = await prepareOnboard(fx, { device, owner: owner.address, deviceClass });
  const tx = await fx.registry.connect(owner).onboard(call.req, call.makerSignature, call.deviceSignature);
  return (await tx.wait())!.gasUsed;
}

describe("DeviceRegistry: gas", function () {
  beforeEach(function () {
    if (coverageRun) this.skip(); // instrumented code costs more gas by design
  });

  it("onboards a new owner's first secp256k1 device, paying the class fee, under the 160k budget", async function () {
    const { fx, fresh } = await networkHelpers.loadFixture(gasFixture);
    // Three fresh slots (NFT owner, NFT balance, device record) and the fee moved into the registry:
    // the payer's balance and allowance rewritten, the registry's nonzero balance raised. No burn here:
    // MeshToken is ERC20Votes, and burning each fee at once wrote a total-supply checkpoint per payer
    // (200.4k before); burnCollectedFees does that once per batch.
    const withFee = await onboard(fx, fresh[0]!, secp256k1Device(), CLASS_HOTSPOT);
    expect(withFee).to.be.lessThan(ONBOARD_BUDGET);
    expect(withFee).to.be.lessThan(CEILING.firstDevice);
  });

  it("keeps the owner's second device, a zero-fee class and the fee's own share within their ceilings", async function () {
    const { fx, fresh } = await networkHelpers.loadFixture(gasFixture);
    const first = await onboard(fx, fresh[1]!, secp256k1Device(), CLASS_HOTSPOT);
    const second = await onboard(fx, fresh[1]!, secp256k1Device(), CLASS_HOTSPOT);
    const noFee = await onboard(fx, fresh[2]!, secp256k1Device(), FREE_CLASS);
    expect(second).to.be.lessThan(CEILING.secondDevice);
    expect(second).to.be.lessThan(first - 15_000n); // the owner's NFT balance slot is already nonzero
    expect(noFee).to.be.lessThan(CEILING.zeroFeeClass);
    // The fee costs a transferFrom into a warm, nonzero balance (~21k), not a burn with a checkpoint.
    expect(first - noFee).to.be.lessThan(23_000n);
  });

  it("charges the very first fee a fresh registry collects for its balance slot, once", async function () {
    // No gasFixture: nothing has paid the registry yet. Deployment can pre-pay this by sending the
    // registry one wei of MESH; otherwise the first onboarding ever pays ~17k more (a zero-to-nonzero
    // balance write) and is the only one above the budget.
    const fx = await setupRegistry(ethers);
    const [, , , , , , , , a, b] = await ethers.getSigners();
    const veryFirst = await onboard(fx, a!, secp256k1Device(), CLASS_HOTSPOT);
    const next = await onboard(fx, b!, secp256k1Device(), CLASS_HOTSPOT);
    expect(veryFirst - next).to.be.greaterThan(15_000n);
    expect(veryFirst - next).to.be.lessThan(18_000n);
    expect(next).to.be.lessThan(ONBOARD_BUDGET);

    const seeded = await setupRegistry(ethers);
    await seeded.mesh.connect(seeded.treasury).transfer(await seeded.registry.getAddress(), 1n);
    const afterSeed = await onboard(seeded, a!, secp256k1Device(), CLASS_HOTSPOT);
    expect(afterSeed).to.be.lessThan(CEILING.firstDevice);
  });

  it("onboards a P-256 device (precompile) and asserts locations within their ceilings", async function () {
    const { fx, fresh } = await networkHelpers.loadFixture(gasFixture);
    const owner = fresh[3]!;
    const device = p256Device();
    const p256 = await onboard(fx, owner, device, CLASS_HOTSPOT);
    const id = deviceIdOf(device);
    await fx.mesh.connect(fx.treasury).transfer(owner.address, 10n ** 20n);
    await fx.mesh.connect(owner).approve(await fx.registry.getAddress(), 10n ** 20n);
    const cell = cellToUint(h3.latLngToCell(51.5, -0.12, 12));
    const first = (await (await fx.registry.connect(owner).assertLocation(id, cell, 50, 10)).wait())!.gasUsed;
    const next = (await (await fx.registry.connect(owner).assertLocation(id, cell, 60, 12)).wait())!.gasUsed;
    expect(p256).to.be.lessThan(CEILING.p256);
    expect(first).to.be.lessThan(CEILING.assertFirst);
    expect(next).to.be.lessThan(CEILING.assertNext);
  });

  it("burns a batch of collected fees for the price of one burn", async function () {
    const { fx, fresh } = await networkHelpers.loadFixture(gasFixture);
    for (const owner of fresh.slice(4, 8)) await onboard(fx, owner, secp256k1Device(), CLASS_HOTSPOT);
    const receipt = await (await fx.registry.connect(fresh[8]!).burnCollectedFees()).wait();
    // The registry's balance, the supply and one new total-supply checkpoint, however many fees.
    expect(receipt!.gasUsed).to.be.lessThan(CEILING.burn);
  });
});
