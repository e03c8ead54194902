import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { network } from "hardhat";

import { p256Device, secp256k1Device, type DeviceSigner } from "../../test/helpers/registry.js";
import {
  CLASS_HOTSPOT,
  HOTSPOT_FEE,
  prepareOnboard,
  setupRegistry,
  type RegistryFixture,
} from "../../test/helpers/registryFixture.js";
import type { GasBench } from "./types.js";

/** A resolution-12 cell in San Francisco and its neighbour. */
const CELL_A = 0x8c283082800b3ffn;
const CELL_B = 0x8c283082800b1ffn;
const FREE_CLASS = 3;

async function onboard(
  fx: RegistryFixture,
  owner: HardhatEthersSigner,
  device: DeviceSigner,
  deviceClass = CLASS_HOTSPOT,
) {
  // The owner approves exactly the fee, the usual wallet flow.
  if (deviceClass === CLASS_HOTSPOT) {
    await (await fx.mesh.connect(owner).approve(await fx.registry.getAddress(), HOTSPOT_FEE)).wait();
  }
  const call = await prepareOnboard(fx, { device, owner: owner.address, deviceClass });
  const tx = await fx.registry.connect(owner).onboard(call.req, call.makerSignature, call.deviceSignature);
  return (await tx.wait())!.gasUsed;
}

/**
 * Receipt gasUsed of onboarding and location asserts on the default (Osaka, P-256 precompile) chain.
 * Unless named otherwise, a measured onboarding is a new owner's first device (its NFT balance slot
 * goes from zero), paying the 40-MESH class fee into the registry (burned later in one batch).
 */
const bench: GasBench = async () => {
  const { ethers } = await network.create();
  const fx = await setupRegistry(ethers);
  const [, , , , , , , , dave] = await ethers.getSigners();

  await onboard(fx, fx.relayer, secp256k1Device()); // nothing measured pays for the registry's first write
  const secp = await onboard(fx, fx.alice, secp256k1Device());
  const secpSecond = await onboard(fx, fx.alice, secp256k1Device());
  await fx.registry
    .connect(fx.admin)
    .setDeviceClass(FREE_CLASS, { enabled: true, subnetwork: 0, onboardingFee: 0n });
  const secpNoFee = await onboard(fx, dave!, secp256k1Device(), FREE_CLASS);
  const bobsDevice = p256Device();
  const p256 = await onboard(fx, fx.bob, bobsDevice);

  const deviceId = BigInt(bobsDevice.keyId); // a device's id is its key id
  await (await fx.mesh.connect(fx.bob).approve(await fx.registry.getAddress(), 10n ** 24n)).wait();
  const first = await (await fx.registry.connect(fx.bob).assertLocation(deviceId, CELL_A, 50, 12)).wait();
  const next = await (await fx.registry.connect(fx.bob).assertLocation(deviceId, CELL_B, 80, 15)).wait();
  // One burn for everything collected above (5 onboarding fees and an assert fee): its cost does not
  // grow with the batch.
  const burn = await (await fx.registry.connect(dave!).burnCollectedFees()).wait();

  // A registry nobody has paid yet: its first fee ever writes its MESH balance slot from zero.
  const fresh = await setupRegistry(ethers);
  const secpFreshRegistry = await onboard(fresh, fresh.alice, secp256k1Device());
  return {
    "registry.onboard.secp256k1": secp,
    "registry.onboard.secp256k1.ownersSecondDevice": secpSecond,
    "registry.onboard.secp256k1.zeroFeeClass": secpNoFee,
    "registry.onboard.p256": p256,
    "registry.assertLocation.first": first!.gasUsed,
    "registry.assertLocation.next": next!.gasUsed,
    "registry.burnCollectedFees": burn!.gasUsed,
    "registry.onboard.secp256k1.freshRegistry": secpFreshRegistry,
  };
};
export default bench;
