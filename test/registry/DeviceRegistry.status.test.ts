import { expect } from "chai";
import { ZeroAddress } from "ethers";
import * as h3 from "h3-js";

import { cellToUint, deviceIdOf, DeviceStatus, p256Device, secp256k1Device } from "../helpers/registry.js";
import {
  createRegistryNetwork,
  HOTSPOT_FEE,
  onboardedDeviceId,
  prepareOnboard,
  setupRegistry,
} from "../helpers/registryFixture.js";

const { ethers, networkHelpers } = await createRegistryNetwork();

const CELL = cellToUint(h3.latLngToCell(48.8566, 2.3522, 12));

/** Alice owns alice1 (located) and alice2 (P-256, not located); bob owns bob1 (located). */
async function fleetFixture() {
  const fx = await setupRegistry(ethers);
  const registry = await fx.registry.getAddress();
  await fx.mesh.connect(fx.alice).approve(registry, HOTSPOT_FEE * 3n);
  const devices = [secp256k1Device(), p256Device(), secp256k1Device()];
  const owners = [fx.alice, fx.alice, fx.bob];
  for (const [i, device] of devices.entries()) {
    const call = await prepareOnboard(fx, { device, owner: owners[i]!.address });
    await fx.registry.connect(fx.alice).onboard(call.req, call.makerSignature, call.deviceSignature);
  }
  // A device's id is its key id: the fleet's owners know them without reading the chain.
  const [alice1, alice2, bob1] = devices.map(deviceIdOf) as [bigint, bigint, bigint];
  await fx.registry.connect(fx.alice).assertLocation(alice1, CELL, 50, 10);
  await fx.registry.connect(fx.bob).assertLocation(bob1, CELL, 50, 10);
  await fx.mesh.connect(fx.alice).approve(registry, HOTSPOT_FEE);
  return { ...fx, alice1, alice2, bob1 };
}

describe("DeviceRegistry: status, retirement and ownership", function () {
  describe("suspend / reinstate", function () {
    it("suspends with a reason code: not eligible, cannot assert, still owned and counted", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await expect(fx.registry.connect(fx.denylister).suspend(fx.alice1, 404))
        .to.emit(fx.registry, "DeviceSuspended")
        .withArgs(fx.alice1, 404);
      expect(await fx.registry.statusOf(fx.alice1)).to.equal(DeviceStatus.Suspended);
      const info = await fx.registry.deviceInfo(fx.alice1);
      expect(info.status).to.equal(DeviceStatus.Suspended);
      expect(info.suspensionReason).to.equal(404n);
      expect(await fx.registry.isEligible(fx.alice1)).to.equal(false);
      expect(await fx.registry.ownerOf(fx.alice1)).to.equal(fx.alice.address);
      expect(await fx.registry.balanceOf(fx.alice.address)).to.equal(2n);
    });

    it("reinstates a suspended device: eligible again, reason cleared", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await fx.registry.connect(fx.denylister).suspend(fx.alice1, 404);
      await expect(fx.registry.connect(fx.denylister).reinstate(fx.alice1))
        .to.emit(fx.registry, "DeviceReinstated")
        .withArgs(fx.alice1);
      const info = await fx.registry.deviceInfo(fx.alice1);
      expect(info.status).to.equal(DeviceStatus.Active);
      expect(info.suspensionReason).to.equal(0n);
      expect(await fx.registry.isEligible(fx.alice1)).to.equal(true);
      await expect(fx.registry.connect(fx.alice).assertLocation(fx.alice1, CELL, 60, 10)).to.emit(
        fx.registry,
        "LocationAsserted",
      );
    });

    it("refuses callers without DENYLIST_ROLE", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      const role = await fx.registry.DENYLIST_ROLE();
      for (const caller of [fx.alice, fx.admin, fx.guardian]) {
        await expect(fx.registry.connect(caller).suspend(fx.alice1, 1))
          .to.be.revertedWithCustomError(fx.registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, role);
        await expect(fx.registry.connect(caller).reinstate(fx.alice1))
          .to.be.revertedWithCustomError(fx.registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, role);
      }
    });

    it("refuses unknown devices and the wrong status", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await expect(fx.registry.connect(fx.denylister).suspend(99n, 1))
        .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownDevice")
        .withArgs(99n);
      await expect(fx.registry.connect(fx.denylister).reinstate(99n))
        .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownDevice")
        .withArgs(99n);
      await expect(fx.registry.connect(fx.denylister).reinstate(fx.alice1))
        .to.be.revertedWithCustomError(fx.registry, "RegistryDeviceNotSuspended")
        .withArgs(fx.alice1, DeviceStatus.Active);
      await fx.registry.connect(fx.denylister).suspend(fx.alice1, 1);
      await expect(fx.registry.connect(fx.denylister).suspend(fx.alice1, 2))
        .to.be.revertedWithCustomError(fx.registry, "RegistryDeviceNotActive")
        .withArgs(fx.alice1, DeviceStatus.Suspended);
      await fx.registry.connect(fx.alice).retire(fx.alice2);
      await expect(fx.registry.connect(fx.denylister).suspend(fx.alice2, 1))
        .to.be.revertedWithCustomError(fx.registry, "RegistryDeviceNotActive")
        .withArgs(fx.alice2, DeviceStatus.Retired);
      await expect(fx.registry.connect(fx.denylister).reinstate(fx.alice2))
        .to.be.revertedWithCustomError(fx.registry, "RegistryDeviceNotSuspended")
        .withArgs(fx.alice2, DeviceStatus.Retired);
    });

    it("works while paused (the pause covers onboarding and asserts only)", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await fx.registry.connect(fx.guardian).pause();
      await expect(fx.registry.connect(fx.denylister).suspend(fx.alice1, 5)).to.emit(
        fx.registry,
        "DeviceSuspended",
      );
      await expect(fx.registry.connect(fx.denylister).reinstate(fx.alice1)).to.emit(
        fx.registry,
        "DeviceReinstated",
      );
      await expect(
        fx.registry.connect(fx.alice).transferFrom(fx.alice.address, fx.bob.address, fx.alice1),
      ).to.emit(fx.registry, "Transfer");
      await expect(fx.registry.connect(fx.bob).retire(fx.alice1)).to.emit(fx.registry, "DeviceRetired");
    });
  });

  describe("retire", function () {
    it("burns the NFT, keeps the record readable and lowers the owner's count", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await expect(fx.registry.connect(fx.alice).retire(fx.alice1))
        .to.emit(fx.registry, "DeviceRetired")
        .withArgs(fx.alice1, fx.alice.address)
        .and.to.emit(fx.registry, "Transfer")
        .withArgs(fx.alice.address, ZeroAddress, fx.alice1);
      expect(await fx.registry.balanceOf(fx.alice.address)).to.equal(1n);
      await expect(fx.registry.ownerOf(fx.alice1))
        .to.be.revertedWithCustomError(fx.registry, "ERC721NonexistentToken")
        .withArgs(fx.alice1);
      const info = await fx.registry.deviceInfo(fx.alice1);
      expect(info.status).to.equal(DeviceStatus.Retired);
      expect(info.owner).to.equal(fx.alice.address);
      expect(info.cell).to.equal(CELL);
      expect(info.assertCount).to.equal(1n);
      expect(await fx.registry.statusOf(fx.alice1)).to.equal(DeviceStatus.Retired);
      expect(await fx.registry.isEligible(fx.alice1)).to.equal(false);
      expect(await fx.registry.deviceIdByKey(info.keyId)).to.equal(fx.alice1);
    });

    it("retires a suspended device too, and keeps its P-256 key readable", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      const before = await fx.registry.deviceInfo(fx.alice2);
      await fx.registry.connect(fx.denylister).suspend(fx.alice2, 9);
      await expect(fx.registry.connect(fx.alice).retire(fx.alice2))
        .to.emit(fx.registry, "DeviceRetired")
        .withArgs(fx.alice2, fx.alice.address);
      const after = await fx.registry.deviceInfo(fx.alice2);
      expect(after.status).to.equal(DeviceStatus.Retired);
      expect(after.keyX).to.equal(before.keyX);
      expect(after.keyY).to.equal(before.keyY);
      expect(after.keyId).to.equal(before.keyId);
    });

    it("refuses anyone but the owner, unknown devices and a second retirement", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await expect(fx.registry.connect(fx.bob).retire(fx.alice1))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotDeviceOwner")
        .withArgs(fx.alice1, fx.bob.address);
      // Even an approved operator may not retire: retirement is the owner's decision.
      await fx.registry.connect(fx.alice).approve(fx.bob.address, fx.alice1);
      await expect(fx.registry.connect(fx.bob).retire(fx.alice1))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotDeviceOwner")
        .withArgs(fx.alice1, fx.bob.address);
      await expect(fx.registry.connect(fx.alice).retire(0n))
        .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownDevice")
        .withArgs(0n);
      await fx.registry.connect(fx.alice).retire(fx.alice1);
      await expect(fx.registry.connect(fx.alice).retire(fx.alice1))
        .to.be.revertedWithCustomError(fx.registry, "RegistryDeviceIsRetired")
        .withArgs(fx.alice1);
    });
  });

  describe("transfers and counts", function () {
    it("moves the device and the count with the NFT; the record follows the new owner", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await fx.registry.connect(fx.alice).transferFrom(fx.alice.address, fx.carol.address, fx.alice1);
      expect(await fx.registry.balanceOf(fx.alice.address)).to.equal(1n);
      expect(await fx.registry.balanceOf(fx.carol.address)).to.equal(1n);
      expect((await fx.registry.deviceInfo(fx.alice1)).owner).to.equal(fx.carol.address);
      expect(await fx.registry.isEligible(fx.alice1)).to.equal(true);
      await fx.registry.connect(fx.alice).setApprovalForAll(fx.bob.address, true);
      await fx.registry
        .connect(fx.bob)
        ["safeTransferFrom(address,address,uint256)"](fx.alice.address, fx.bob.address, fx.alice2);
      expect(await fx.registry.balanceOf(fx.alice.address)).to.equal(0n);
      expect(await fx.registry.balanceOf(fx.bob.address)).to.equal(2n);
      await fx.registry.connect(fx.carol).retire(fx.alice1);
      expect((await fx.registry.deviceInfo(fx.alice1)).owner).to.equal(fx.carol.address);
      expect(await fx.registry.balanceOf(fx.carol.address)).to.equal(0n);
    });

    it("keeps balanceOf equal to each owner's live devices through a random sequence", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      const owners = [fx.alice, fx.bob, fx.carol];
      const live = new Map<bigint, string>([
        [fx.alice1, fx.alice.address],
        [fx.alice2, fx.alice.address],
        [fx.bob1, fx.bob.address],
      ]);
      let seed = 12345;
      const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      await fx.mesh.connect(fx.carol).approve(await fx.registry.getAddress(), HOTSPOT_FEE * 10n);
      for (let step = 0; step < 30; step++) {
        const ids = [...live.keys()];
        const action = rand(4);
        if (action === 0 || ids.length === 0) {
          const to = owners[rand(3)]!;
          const call = await prepareOnboard(fx, { device: secp256k1Device(), owner: to.address });
          if ((await fx.mesh.allowance(fx.carol.address, await fx.registry.getAddress())) < HOTSPOT_FEE)
            continue;
          const tx = await fx.registry
            .connect(fx.carol)
            .onboard(call.req, call.makerSignature, call.deviceSignature);
          live.set(await onboardedDeviceId(fx.registry, await tx.wait()), to.address);
        } else {
          const id = ids[rand(ids.length)]!;
          const holder = owners.find((o) => o.address === live.get(id))!;
          if (action === 1) {
            await fx.registry.connect(holder).retire(id);
            live.delete(id);
          } else if (action === 2) {
            const to = owners[rand(3)]!;
            await fx.registry.connect(holder).transferFrom(holder.address, to.address, id);
            live.set(id, to.address);
          } else {
            const status = await fx.registry.statusOf(id);
            if (status === DeviceStatus.Active) await fx.registry.connect(fx.denylister).suspend(id, 1);
            else await fx.registry.connect(fx.denylister).reinstate(id);
          }
        }
        for (const o of owners) {
          const expected = [...live.values()].filter((a) => a === o.address).length;
          expect(await fx.registry.balanceOf(o.address)).to.equal(BigInt(expected));
        }
      }
    });
  });

  describe("views of unknown devices", function () {
    it("report None / not eligible / revert with RegistryUnknownDevice", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      expect(await fx.registry.statusOf(77n)).to.equal(DeviceStatus.None);
      expect(await fx.registry.isEligible(77n)).to.equal(false);
      expect(await fx.registry.deviceIdByKey(ethers.ZeroHash)).to.equal(0n);
      await expect(fx.registry.deviceInfo(77n))
        .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownDevice")
        .withArgs(77n);
      await expect(fx.registry.deviceInfo(0n))
        .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownDevice")
        .withArgs(0n);
    });
  });
});
