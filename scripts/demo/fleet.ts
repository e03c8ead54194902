/**
 * A fleet of simulated hotspots put on chain the way it happens in the field: the maker attests each
 * device key, the device's firmware signs its owner (secp256k1 or P-256 over the EIP-712 digest),
 * the owner onboards (paying the class fee), asserts the location (an H3 res-12 cell) and bonds stake.
 * No top-level side effects.
 */
import { p256 } from "@noble/curves/nist.js";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { getBytes, hexlify, keccak256, toUtf8Bytes, TypedDataEncoder } from "ethers";

import {
  DEVICE_ATTESTATION_TYPES,
  DEVICE_OWNERSHIP_TYPES,
  registryDomain,
  registryKeyHash,
  registryKeyOf,
  type Hex,
} from "@hexmesh/protocol";
import { makeFleet, type FleetOptions, type SimDevice } from "@hexmesh/sim";

import { HOTSPOT_CLASS, MAKER_ID, type Suite } from "./suite.js";

export interface ChainDevice extends SimDevice {
  /** Secret of the device key (the simulator's derivation), for signing the registry's DeviceOwnership. */
  readonly secret: Uint8Array;
  readonly ownerSigner: HardhatEthersSigner;
}

/**
 * The simulator's fleet (`makeFleet`), devices assigned round-robin in blocks of
 * `devicesPerOwner` to `owners`, onboarded, located and bonded on chain. Returns the devices with
 * their on-chain ids and owners.
 */
export async function onboardFleet(
  suite: Pick<Suite, "registry" | "token" | "vault" | "treasury" | "chainId" | "makerKey" | "ethers">,
  owners: readonly HardhatEthersSigner[],
  fleetOptions: FleetOptions,
  bondedOwners: ReadonlySet<number> = new Set(owners.map((_, i) => i)),
): Promise<ChainDevice[]> {
  const { registry, token, vault, treasury, chainId } = suite;
  const seed = fleetOptions.seed ?? "hexmesh";
  const perOwner = fleetOptions.devicesPerOwner ?? 1;
  const sims = makeFleet(fleetOptions);
  const registryAddress = await registry.getAddress();
  const domain = registryDomain(chainId, registryAddress);
  const fee = (await registry.deviceClassInfo(HOTSPOT_CLASS)).onboardingFee;
  const bond = await vault.minStakePerDevice();
  const now = BigInt((await suite.ethers.provider.getBlock("latest"))!.timestamp);

  // Fund and approve every owner once.
  const counts = owners.map(
    (_, o) => sims.filter((_, i) => Math.floor(i / perOwner) % owners.length === o).length,
  );
  for (const [o, owner] of owners.entries()) {
    const need = fee * BigInt(counts[o]!) + bond * BigInt(counts[o]!);
    await (await token.connect(treasury).transfer(owner.address, need)).wait();
    await (await token.connect(owner).approve(registryAddress, fee * BigInt(counts[o]!))).wait();
  }

  const out: ChainDevice[] = [];
  for (const [i, sim] of sims.entries()) {
    const owner = owners[Math.floor(i / perOwner) % owners.length]!;
    const secret = getBytes(keccak256(toUtf8Bytes(`${seed}:device:${i}`)));
    const key = registryKeyOf(sim.signer.key);
    const keyId = registryKeyHash(sim.signer.key);
    const makerDeadline = now + 365n * 86_400n;
    const deviceDeadline = now + 30n * 86_400n;
    const makerSignature = await suite.makerKey.signTypedData(domain, DEVICE_ATTESTATION_TYPES, {
      keyId,
      deviceClass: HOTSPOT_CLASS,
      makerId: MAKER_ID,
      deadline: makerDeadline,
    });
    const digest = getBytes(
      TypedDataEncoder.hash(domain, DEVICE_OWNERSHIP_TYPES, {
        keyId,
        owner: owner.address,
        deadline: deviceDeadline,
      }),
    );
    // secp256k1: the firmware signer's r ‖ s ‖ v; P-256: r ‖ s over the digest itself (no prehash), low s.
    const deviceSignature =
      key.keyType === 0
        ? hexlify(sim.signer.sign(digest))
        : hexlify(p256.sign(digest, secret, { prehash: false, lowS: true }));
    const req = {
      key,
      deviceClass: HOTSPOT_CLASS,
      makerId: MAKER_ID,
      owner: owner.address,
      makerDeadline,
      deviceDeadline,
    };
    const receipt = await (
      await registry.connect(owner).onboard(req, makerSignature, deviceSignature)
    ).wait();
    const event = receipt!.logs
      .map((l) => {
        try {
          return registry.interface.parseLog(l);
        } catch {
          return null;
        }
      })
      .find((e) => e?.name === "DeviceOnboarded");
    if (!event) throw new Error(`device ${i}: no DeviceOnboarded event`);
    const id = event.args.deviceId as bigint;
    const rec = sim.record;
    await (await registry.connect(owner).assertLocation(id, rec.location!, rec.gain, rec.elevation)).wait();
    out.push({
      ...sim,
      secret,
      ownerSigner: owner,
      record: { ...rec, id, owner: owner.address.toLowerCase() as Hex },
    });
  }

  // Bond: minStakePerDevice per device, for the owners chosen to bond.
  const vaultAddress = await vault.getAddress();
  for (const [o, owner] of owners.entries()) {
    if (!bondedOwners.has(o) || counts[o] === 0) continue;
    const amount = bond * BigInt(counts[o]!);
    await (await token.connect(owner).approve(vaultAddress, amount)).wait();
    await (await vault.connect(owner).stake(amount)).wait();
  }
  return out;
}
