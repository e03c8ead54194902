import { expect } from "chai";
import { ZeroAddress } from "ethers";
import * as h3 from "h3-js";

import { DeviceStatus, cellToUint, p256Device, secp256k1Device } from "../helpers/registry.js";
import { HOTSPOT_FEE, prepareOnboard, setupRegistry } from "../helpers/registryFixture.js";
import { createRegistryNetwork } from "../helpers/registryFixture.js";

const { ethers, networkHelpers } = await createRegistryNetwork();

const CELL = cellToUint(h3.latLngToCell(48.8566, 2.3522, 12));

/** Alice owns devices 1 (located) and 2 (P-256, not located); bob owns device 3 (located). */
async function fleetFixture() {
  const fx = await setupRegistry(ethers);
  const registry = await fx.registry.getAddress();
  await fx.mesh.connect(fx.alice).approve(registry, HOTSPOT_FEE * 3n);
  for (const [owner, device] of [
    [fx.alice, secp256k1Device()],
    [fx.alice, p256Device()],
    [fx.bob, secp256k1Device()],
  ] as const) {
    const call = await prepareOnboard(fx, { device, owner: owner.address });
    await fx.registry.connect(fx.alice).onboard(call.req, call.makerSignature, call.deviceSignature);
  }
  await fx.registry.connect(fx.alice).assertLocation(1n, CELL, 50, 10);
  await fx.registry.connect(fx.bob).assertLocation(3n, CELL, 50, 10);
  await fx.mesh.connect(fx.alice).approve(registry, HOTSPOT_FEE);
  return fx;
}

describe("DeviceRegistry: status, retirement and ownership", function () {
  describe("suspend / reinstate", function () {
    it("suspends with a reason code: not eligible, cannot assert, still owned and counted", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await expect(fx.registry.connect(fx.denylister).suspend(1n, 404))
        .to.emit(fx.registry, "DeviceSuspended")
        .withArgs(1n, 404);
      expect(await fx.registry.statusOf(1n)).to.equal(DeviceStatus.Suspended);
      const info = await fx.registry.deviceInfo(1n);
      expect(info.status).to.equal(DeviceStatus.Suspended);
      expect(info.suspensionReason).to.equal(404n);
      expect(await fx.registry.isEligible(1n)).to.equal(false);
      expect(await fx.registry.ownerOf(1n)).to.equal(fx.alice.address);
      expect(await fx.registry.balanceOf(fx.alice.address)).to.equal(2n);
    });

    it("reinstates a suspended device: eligible again, reason cleared", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await fx.registry.connect(fx.denylister).suspend(1n, 404);
      await expect(fx.registry.connect(fx.denylister).reinstate(1n))
        .to.emit(fx.registry, "DeviceReinstated")
        .withArgs(1n);
      const info = await fx.registry.deviceInfo(1n);
      expect(info.status).to.equal(DeviceStatus.Active);
      expect(info.suspensionReason).to.equal(0n);
      expect(await fx.registry.isEligible(1n)).to.equal(true);
      await expect(fx.registry.connect(fx.alice).assertLocation(1n, CELL, 60, 10)).to.emit(
        fx.registry,
        "LocationAsserted",
      );
    });

    it("refuses callers without DENYLIST_ROLE", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      const role = await fx.registry.DENYLIST_ROLE();
      for (const caller of [fx.alice, fx.admin, fx.guardian]) {
        await expect(fx.registry.connect(caller).suspend(1n, 1))
          .to.be.revertedWithCustomError(fx.registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, role);
        await expect(fx.registry.connect(caller).reinstate(1n))
          .to.be.revertedWithCustomError(fx.registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, role);
      }
    });

    it("refuses unknown devices and the wrong status", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await expect(fx.registry.connect(fx.denylister).suspend(99n, 1))
        .to.be.revertedWithCustomError(fx.registry, "UnknownDevice")
        .withArgs(99n);
      await expect(fx.registry.connect(fx.denylister).reinstate(99n))
        .to.be.revertedWithCustomError(fx.registry, "UnknownDevice")
        .withArgs(99n);
      await expect(fx.registry.connect(fx.denylister).reinstate(1n))
        .to.be.revertedWithCustomError(fx.registry, "DeviceNotSuspended")
        .withArgs(1n, DeviceStatus.Active);
      await fx.registry.connect(fx.denylister).suspend(1n, 1);
      await expect(fx.registry.connect(fx.denylister).suspend(1n, 2))
        .to.be.revertedWithCustomError(fx.registry, "DeviceNotActive")
        .withArgs(1n, DeviceStatus.Suspended);
      await fx.registry.connect(fx.alice).retire(2n);
      await expect(fx.registry.connect(fx.denylister).suspend(2n, 1))
        .to.be.revertedWithCustomError(fx.registry, "DeviceNotActive")
        .withArgs(2n, DeviceStatus.Retired);
      await expect(fx.registry.connect(fx.denylister).reinstate(2n))
        .to.be.revertedWithCustomError(fx.registry, "DeviceNotSuspended")
        .withArgs(2n, DeviceStatus.Retired);
    });

    it("works while paused (the pause covers onboarding and asserts only)", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await fx.registry.connect(fx.guardian).pause();
      await expect(fx.registry.connect(fx.denylister).suspend(1n, 5)).to.emit(fx.registry, "DeviceSuspended");
      await expect(fx.registry.connect(fx.denylister).reinstate(1n)).to.emit(fx.registry, "DeviceReinstated");
      await expect(fx.registry.connect(fx.alice).transferFrom(fx.alice.address, fx.bob.address, 1n)).to.emit(
        fx.registry,
        "Transfer",
      );
      await expect(fx.registry.connect(fx.bob).retire(1n)).to.emit(fx.registry, "DeviceRetired");
    });
  });

  describe("retire", function () {
    it("burns the NFT, keeps the record readable and lowers the owner's count", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await expect(fx.registry.connect(fx.alice).retire(1n))
        .to.emit(fx.registry, "DeviceRetired")
        .withArgs(1n, fx.alice.address)
        .and.to.emit(fx.registry, "Transfer")
        .withArgs(fx.alice.address, ZeroAddress, 1n);
      expect(await fx.registry.balanceOf(fx.alice.address)).to.equal(1n);
      await expect(fx.registry.ownerOf(1n))
        .to.be.revertedWithCustomError(fx.registry, "ERC721NonexistentToken")
        .withArgs(1n);
      const info = await fx.registry.deviceInfo(1n);
      expect(info.status).to.equal(DeviceStatus.Retired);
      expect(info.owner).to.equal(fx.alice.address);
      expect(info.cell).to.equal(CELL);
      expect(info.assertCount).to.equal(1n);
      expect(await fx.registry.statusOf(1n)).to.equal(DeviceStatus.Retired);
      expect(await fx.registry.isEligible(1n)).to.equal(false);
      expect(await fx.registry.deviceIdByKey(info.keyId)).to.equal(1n);
    });

    it("retires a suspended device too, and keeps its P-256 key readable", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      const before = await fx.registry.deviceInfo(2n);
      await fx.registry.connect(fx.denylister).suspend(2n, 9);
      await expect(fx.registry.connect(fx.alice).retire(2n))
        .to.emit(fx.registry, "DeviceRetired")
        .withArgs(2n, fx.alice.address);
      const after = await fx.registry.deviceInfo(2n);
      expect(after.status).to.equal(DeviceStatus.Retired);
      expect(after.keyX).to.equal(before.keyX);
      expect(after.keyY).to.equal(before.keyY);
      expect(after.keyId).to.equal(before.keyId);
    });

    it("refuses anyone but the owner, unknown devices and a second retirement", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await expect(fx.registry.connect(fx.bob).retire(1n))
        .to.be.revertedWithCustomError(fx.registry, "NotDeviceOwner")
        .withArgs(1n, fx.bob.address);
      // Even an approved operator may not retire: retirement is the owner's decision.
      await fx.registry.connect(fx.alice).approve(fx.bob.address, 1n);
      await expect(fx.registry.connect(fx.bob).retire(1n))
        .to.be.revertedWithCustomError(fx.registry, "NotDeviceOwner")
        .withArgs(1n, fx.bob.address);
      await expect(fx.registry.connect(fx.alice).retire(0n))
        .to.be.revertedWithCustomError(fx.registry, "UnknownDevice")
        .withArgs(0n);
      await fx.registry.connect(fx.alice).retire(1n);
      await expect(fx.registry.connect(fx.alice).retire(1n))
        .to.be.revertedWithCustomError(fx.registry, "DeviceIsRetired")
        .withArgs(1n);
    });
  });

  describe("transfers and counts", function () {
    it("moves the device and the count with the NFT; the record follows the new owner", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      await fx.registry.connect(fx.alice).transferFrom(fx.alice.address, fx.carol.address, 1n);
      expect(await fx.registry.balanceOf(fx.alice.address)).to.equal(1n);
      expect(await fx.registry.balanceOf(fx.carol.address)).to.equal(1n);
      expect((await fx.registry.deviceInfo(1n)).owner).to.equal(fx.carol.address);
      expect(await fx.registry.isEligible(1n)).to.equal(true);
      await fx.registry.connect(fx.alice).setApprovalForAll(fx.bob.address, true);
      await fx.registry
        .connect(fx.bob)
        ["safeTransferFrom(address,address,uint256)"](fx.alice.address, fx.bob.address, 2n);
      expect(await fx.registry.balanceOf(fx.alice.address)).to.equal(0n);
      expect(await fx.registry.balanceOf(fx.bob.address)).to.equal(2n);
      await fx.registry.connect(fx.carol).retire(1n);
      expect((await fx.registry.deviceInfo(1n)).owner).to.equal(fx.carol.address);
      expect(await fx.registry.balanceOf(fx.carol.address)).to.equal(0n);
    });

    it("keeps balanceOf equal to each owner's live devices through a random sequence", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      const owners = [fx.alice, fx.bob, fx.carol];
      const live = new Map<bigint, string>([
        [1n, fx.alice.address],
        [2n, fx.alice.address],
        [3n, fx.bob.address],
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
          await fx.registry.connect(fx.carol).onboard(call.req, call.makerSignature, call.deviceSignature);
          live.set(await fx.registry.lastDeviceId(), to.address);
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
    it("report None / not eligible / revert with UnknownDevice", async function () {
      const fx = await networkHelpers.loadFixture(fleetFixture);
      expect(await fx.registry.statusOf(77n)).to.equal(DeviceStatus.None);
      expect(await fx.registry.isEligible(77n)).to.equal(false);
      expect(await fx.registry.deviceIdByKey(ethers.ZeroHash)).to.equal(0n);
      await expect(fx.registry.deviceInfo(77n))
        .to.be.revertedWithCustomError(fx.registry, "UnknownDevice")
        .withArgs(77n);
      await expect(fx.registry.deviceInfo(0n))
        .to.be.revertedWithCustomError(fx.registry, "UnknownDevice")
        .withArgs(0n);
    });
  });
});
