import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { Wallet } from "ethers";
import * as h3 from "h3-js";

import type { ERC1271WalletMock } from "../../typechain-types/index.js";
import {
  cellToUint,
  DeviceStatus,
  p256Device,
  registryDomain,
  secp256k1Device,
  signLocation,
} from "../helpers/registry.js";
import {
  ASSERT_FEE,
  createRegistryNetwork,
  HOTSPOT_FEE,
  onboardedDeviceId,
  prepareOnboard,
  setupRegistry,
  type RegistryFixture,
} from "../helpers/registryFixture.js";

const { ethers, networkHelpers } = await createRegistryNetwork();

const CELL_SF = cellToUint(h3.latLngToCell(37.7749, -122.4194, 12));
const CELL_OAKLAND = cellToUint(h3.latLngToCell(37.8044, -122.2712, 12));

async function onboardTo(fx: RegistryFixture, owner: string, payer: HardhatEthersSigner, p256 = false) {
  await fx.mesh.connect(payer).approve(await fx.registry.getAddress(), HOTSPOT_FEE);
  const call = await prepareOnboard(fx, { device: p256 ? p256Device() : secp256k1Device(), owner });
  const tx = await fx.registry.connect(payer).onboard(call.req, call.makerSignature, call.deviceSignature);
  return onboardedDeviceId(fx.registry, await tx.wait());
}

/** Alice owns alice1 (secp256k1) and alice2 (P-256); bob owns bob1; fees approved for asserts. */
async function locatedFixture() {
  const fx = await setupRegistry(ethers);
  const alice1 = await onboardTo(fx, fx.alice.address, fx.alice);
  const alice2 = await onboardTo(fx, fx.alice.address, fx.alice, true);
  const bob1 = await onboardTo(fx, fx.bob.address, fx.bob);
  await fx.mesh.connect(fx.alice).approve(await fx.registry.getAddress(), ASSERT_FEE * 100n);
  await fx.mesh.connect(fx.bob).approve(await fx.registry.getAddress(), ASSERT_FEE * 100n);
  return { ...fx, alice1, alice2, bob1 };
}

async function deadlineIn(seconds: number) {
  return BigInt(await networkHelpers.time.latest()) + BigInt(seconds);
}

describe("DeviceRegistry: location asserts", function () {
  describe("assertLocation", function () {
    it("records the first assert for free and emits everything the oracle indexes", async function () {
      const fx = await networkHelpers.loadFixture(locatedFixture);
      const supply = await fx.mesh.totalSupply();
      const tx = fx.registry.connect(fx.alice).assertLocation(fx.alice1, CELL_SF, 55, 12);
      await expect(tx)
        .to.emit(fx.registry, "LocationAsserted")
        .withArgs(fx.alice1, fx.alice.address, CELL_SF, 55, 12, 1, 0n);
      await expect(tx).to.not.emit(fx.mesh, "Transfer");
      expect(await fx.mesh.totalSupply()).to.equal(supply);
      const info = await fx.registry.deviceInfo(fx.alice1);
      expect(info.cell).to.equal(CELL_SF);
      expect(info.gain).to.equal(55n);
      expect(info.elevation).to.equal(12n);
      expect(info.assertCount).to.equal(1n);
      expect(info.lastAssertAt).to.equal(BigInt(await networkHelpers.time.latest()));
      expect(await fx.registry.isEligible(fx.alice1)).to.equal(true);
      expect(await fx.registry.isEligible(fx.alice2)).to.equal(false);
    });

    it("collects the assert fee from the owner on every later assert (for the batch burn)", async function () {
      const fx = await networkHelpers.loadFixture(locatedFixture);
      await fx.registry.connect(fx.alice).assertLocation(fx.alice2, CELL_SF, 55, 12);
      const supply = await fx.mesh.totalSupply();
      const collected = await fx.registry.collectedFees();
      await expect(fx.registry.connect(fx.alice).assertLocation(fx.alice2, CELL_OAKLAND, 80, -3))
        .to.emit(fx.registry, "LocationAsserted")
        .withArgs(fx.alice2, fx.alice.address, CELL_OAKLAND, 80, -3, 2, ASSERT_FEE)
        .and.to.emit(fx.mesh, "Transfer")
        .withArgs(fx.alice.address, await fx.registry.getAddress(), ASSERT_FEE);
      await expect(fx.registry.connect(fx.alice).assertLocation(fx.alice2, CELL_OAKLAND, 80, -3))
        .to.emit(fx.registry, "LocationAsserted")
        .withArgs(fx.alice2, fx.alice.address, CELL_OAKLAND, 80, -3, 3, ASSERT_FEE);
      // Held for the batch burn: the supply only falls when burnCollectedFees runs.
      expect(await fx.mesh.totalSupply()).to.equal(supply);
      expect(await fx.registry.collectedFees()).to.equal(collected + 2n * ASSERT_FEE);
      const info = await fx.registry.deviceInfo(fx.alice2);
      expect(info.cell).to.equal(CELL_OAKLAND);
      expect(info.elevation).to.equal(-3n);
      expect(info.assertCount).to.equal(3n);
    });

    it("takes nothing when governance sets the assert fee to zero", async function () {
      const fx = await networkHelpers.loadFixture(locatedFixture);
      await fx.registry.connect(fx.alice).assertLocation(fx.alice1, CELL_SF, 55, 12);
      await fx.registry.connect(fx.admin).setAssertFee(0n);
      await expect(fx.registry.connect(fx.alice).assertLocation(fx.alice1, CELL_OAKLAND, 55, 12))
        .to.emit(fx.registry, "LocationAsserted")
        .withArgs(fx.alice1, fx.alice.address, CELL_OAKLAND, 55, 12, 2, 0n)
        .and.not.to.emit(fx.mesh, "Transfer");
    });

    it("fails on the token when the owner has not approved the fee", async function () {
      const fx = await networkHelpers.loadFixture(locatedFixture);
      await fx.registry.connect(fx.alice).assertLocation(fx.alice1, CELL_SF, 55, 12);
      await fx.mesh.connect(fx.alice).approve(await fx.registry.getAddress(), 0n);
      await expect(fx.registry.connect(fx.alice).assertLocation(fx.alice1, CELL_SF, 55, 12))
        .to.be.revertedWithCustomError(fx.mesh, "ERC20InsufficientAllowance")
        .withArgs(await fx.registry.getAddress(), 0n, ASSERT_FEE);
    });

    it("accepts the gain and elevation bounds and refuses one step past them", async function () {
      const fx = await networkHelpers.loadFixture(locatedFixture);
      for (const [gain, elevation] of [
        [10, -500],
        [150, 1000],
      ] as const) {
        await expect(
          fx.registry.connect(fx.alice).assertLocation(fx.alice1, CELL_SF, gain, elevation),
        ).to.emit(fx.registry, "LocationAsserted");
      }
      for (const gain of [0, 9, 151, 65535]) {
        await expect(fx.registry.connect(fx.alice).assertLocation(fx.alice1, CELL_SF, gain, 0))
          .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidGain")
          .withArgs(gain);
      }
      for (const elevation of [-32768, -501, 1001, 32767]) {
        await expect(fx.registry.connect(fx.alice).assertLocation(fx.alice1, CELL_SF, 50, elevation))
          .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidElevation")
          .withArgs(elevation);
      }
    });

    it("refuses cells that are not valid resolution-12 cells", async function () {
      const fx = await networkHelpers.loadFixture(locatedFixture);
      const res11 = cellToUint(h3.latLngToCell(37.7749, -122.4194, 11));
      const res13 = cellToUint(h3.latLngToCell(37.7749, -122.4194, 13));
      const edge = cellToUint(h3.originToDirectedEdges(h3.latLngToCell(37.7749, -122.4194, 12))[0]!);
      const digit7 = CELL_SF | (7n << 9n); // digit 12 set to 7
      const bad = [0n, res11, res13, edge, digit7, CELL_SF | (1n << 63n), 0xffffffffffffffffn];
      for (const cell of bad) {
        expect(h3.isValidCell(cell.toString(16)) && h3.getResolution(cell.toString(16)) === 12).to.equal(
          false,
        );
        await expect(fx.registry.connect(fx.alice).assertLocation(fx.alice1, cell, 50, 10))
          .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidCell")
          .withArgs(cell);
      }
    });

    it("refuses anyone but the owner, unknown devices, retired and suspended devices", async function () {
      const fx = await networkHelpers.loadFixture(locatedFixture);
      await expect(fx.registry.connect(fx.bob).assertLocation(fx.alice1, CELL_SF, 50, 10))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotDeviceOwner")
        .withArgs(fx.alice1, fx.bob.address);
      await expect(fx.registry.connect(fx.bob).assertLocation(42n, CELL_SF, 50, 10))
        .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownDevice")
        .withArgs(42n);
      await fx.registry.connect(fx.denylister).suspend(fx.alice1, 7);
      await expect(fx.registry.connect(fx.alice).assertLocation(fx.alice1, CELL_SF, 50, 10))
        .to.be.revertedWithCustomError(fx.registry, "RegistryDeviceNotActive")
        .withArgs(fx.alice1, DeviceStatus.Suspended);
      await fx.registry.connect(fx.alice).retire(fx.alice2);
      await expect(fx.registry.connect(fx.alice).assertLocation(fx.alice2, CELL_SF, 50, 10))
        .to.be.revertedWithCustomError(fx.registry, "RegistryDeviceIsRetired")
        .withArgs(fx.alice2);
    });

    it("is stopped by the pause", async function () {
      const fx = await networkHelpers.loadFixture(locatedFixture);
      await fx.registry.connect(fx.guardian).pause();
      await expect(
        fx.registry.connect(fx.alice).assertLocation(fx.alice1, CELL_SF, 50, 10),
      ).to.be.revertedWithCustomError(fx.registry, "EnforcedPause");
    });

    it("lets the new owner assert after a transfer, and not the previous one", async function () {
      const fx = await networkHelpers.loadFixture(locatedFixture);
      await fx.registry.connect(fx.alice).assertLocation(fx.alice1, CELL_SF, 50, 10);
      await fx.registry.connect(fx.alice).transferFrom(fx.alice.address, fx.bob.address, fx.alice1);
      await expect(fx.registry.connect(fx.alice).assertLocation(fx.alice1, CELL_SF, 50, 10))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotDeviceOwner")
        .withArgs(fx.alice1, fx.alice.address);
      await expect(fx.registry.connect(fx.bob).assertLocation(fx.alice1, CELL_OAKLAND, 60, 20))
        .to.emit(fx.registry, "LocationAsserted")
        .withArgs(fx.alice1, fx.bob.address, CELL_OAKLAND, 60, 20, 2, ASSERT_FEE)
        .and.to.emit(fx.mesh, "Transfer")
        .withArgs(fx.bob.address, await fx.registry.getAddress(), ASSERT_FEE);
    });
  });

  describe("assertLocationBySig (relayed, signed by the owner)", function () {
    async function sign(
      fx: RegistryFixture,
      signer: { signTypedData: Wallet["signTypedData"] },
      deviceId: bigint,
      cell: bigint,
      owner: string,
      overrides: {
        deadline?: bigint;
        nonce?: bigint;
        chainId?: bigint;
        gain?: number;
        elevation?: number;
      } = {},
    ) {
      const deadline = overrides.deadline ?? (await deadlineIn(600));
      const nonce = overrides.nonce ?? (await fx.registry.nonces(owner));
      const domain = registryDomain(overrides.chainId ?? fx.chainId, await fx.registry.getAddress());
      const gain = overrides.gain ?? 50;
      const elevation = overrides.elevation ?? 10;
      const signature = await signLocation(signer, domain, {
        deviceId,
        cell,
        gain,
        elevation,
        nonce,
        deadline,
      });
      return { deviceId, cell, gain, elevation, deadline, signature };
    }

    function relay(fx: RegistryFixture, a: Awaited<ReturnType<typeof sign>>) {
      return fx.registry
        .connect(fx.relayer)
        .assertLocationBySig(a.deviceId, a.cell, a.gain, a.elevation, a.deadline, a.signature);
    }

    it("asserts for an EOA owner, uses its nonce and charges the owner, not the relayer", async function () {
      const fx = await networkHelpers.loadFixture(locatedFixture);
      const first = await sign(fx, fx.alice, fx.alice1, CELL_SF, fx.alice.address);
      await expect(relay(fx, first))
        .to.emit(fx.registry, "LocationAsserted")
        .withArgs(fx.alice1, fx.alice.address, CELL_SF, 50, 10, 1, 0n);
      expect(await fx.registry.nonces(fx.alice.address)).to.equal(1n);
      // Replaying the consumed signature fails: the nonce moved on.
      await expect(relay(fx, first))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidOwnerSignature")
        .withArgs(fx.alice1, fx.alice.address);
      const relayerBalance = await fx.mesh.balanceOf(fx.relayer.address);
      const second = await sign(fx, fx.alice, fx.alice1, CELL_OAKLAND, fx.alice.address);
      await expect(relay(fx, second))
        .to.emit(fx.mesh, "Transfer")
        .withArgs(fx.alice.address, await fx.registry.getAddress(), ASSERT_FEE);
      expect(await fx.mesh.balanceOf(fx.relayer.address)).to.equal(relayerBalance);
      expect((await fx.registry.deviceInfo(fx.alice1)).cell).to.equal(CELL_OAKLAND);
    });

    it("refuses signatures by others, for other values, devices, chains, nonces, and expired ones", async function () {
      const fx = await networkHelpers.loadFixture(locatedFixture);
      const bad = [
        await sign(fx, fx.bob, fx.alice1, CELL_SF, fx.alice.address), // not the owner
        await sign(fx, fx.alice, fx.alice1, CELL_SF, fx.alice.address, { chainId: fx.chainId + 1n }),
        await sign(fx, fx.alice, fx.alice1, CELL_SF, fx.alice.address, { nonce: 1n }),
        { ...(await sign(fx, fx.alice, fx.alice1, CELL_SF, fx.alice.address)), cell: CELL_OAKLAND },
        { ...(await sign(fx, fx.alice, fx.alice1, CELL_SF, fx.alice.address)), gain: 51 },
        { ...(await sign(fx, fx.alice, fx.alice1, CELL_SF, fx.alice.address)), elevation: 11 },
        {
          ...(await sign(fx, fx.alice, fx.alice1, CELL_SF, fx.alice.address)),
          deadline: (await deadlineIn(600)) + 1n,
        },
        { ...(await sign(fx, fx.alice, fx.alice1, CELL_SF, fx.alice.address)), signature: "0x1234" },
      ];
      for (const a of bad) {
        await expect(relay(fx, a))
          .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidOwnerSignature")
          .withArgs(fx.alice1, fx.alice.address);
      }
      // Alice's signature for one device presented for her other device.
      const forOne = await sign(fx, fx.alice, fx.alice1, CELL_SF, fx.alice.address);
      await expect(relay(fx, { ...forOne, deviceId: fx.alice2 }))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidOwnerSignature")
        .withArgs(fx.alice2, fx.alice.address);
      const expiring = await sign(fx, fx.alice, fx.alice1, CELL_SF, fx.alice.address, {
        deadline: await deadlineIn(5),
      });
      await networkHelpers.time.increase(10);
      await expect(relay(fx, expiring))
        .to.be.revertedWithCustomError(fx.registry, "RegistryAssertionExpired")
        .withArgs(expiring.deadline);
    });

    it("refuses a previous owner's signature after the device changed hands", async function () {
      const fx = await networkHelpers.loadFixture(locatedFixture);
      const signed = await sign(fx, fx.alice, fx.alice1, CELL_SF, fx.alice.address);
      await fx.registry.connect(fx.alice).transferFrom(fx.alice.address, fx.bob.address, fx.alice1);
      await expect(relay(fx, signed))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidOwnerSignature")
        .withArgs(fx.alice1, fx.bob.address);
    });

    it("refuses unknown, retired and suspended devices, and is stopped by the pause", async function () {
      const fx = await networkHelpers.loadFixture(locatedFixture);
      await expect(relay(fx, await sign(fx, fx.alice, 9n, CELL_SF, fx.alice.address)))
        .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownDevice")
        .withArgs(9n);
      await fx.registry.connect(fx.alice).retire(fx.alice2);
      await expect(relay(fx, await sign(fx, fx.alice, fx.alice2, CELL_SF, fx.alice.address)))
        .to.be.revertedWithCustomError(fx.registry, "RegistryDeviceIsRetired")
        .withArgs(fx.alice2);
      await fx.registry.connect(fx.denylister).suspend(fx.alice1, 3);
      await expect(relay(fx, await sign(fx, fx.alice, fx.alice1, CELL_SF, fx.alice.address)))
        .to.be.revertedWithCustomError(fx.registry, "RegistryDeviceNotActive")
        .withArgs(fx.alice1, DeviceStatus.Suspended);
      await fx.registry.connect(fx.guardian).pause();
      await expect(
        relay(fx, await sign(fx, fx.bob, fx.bob1, CELL_SF, fx.bob.address)),
      ).to.be.revertedWithCustomError(fx.registry, "EnforcedPause");
    });

    describe("smart-wallet owners (ERC-1271)", function () {
      async function walletFixture() {
        const fx = await setupRegistry(ethers);
        const walletKey = new Wallet(Wallet.createRandom().privateKey, ethers.provider);
        await fx.alice.sendTransaction({ to: walletKey.address, value: 10n ** 18n });
        const wallet = (await ethers.deployContract("ERC1271WalletMock", [
          walletKey.address,
        ])) as unknown as ERC1271WalletMock;
        const walletAddress = await wallet.getAddress();
        // The wallet owns a device (onboarded and paid by alice) and holds MESH it approves for fees.
        const deviceId = await onboardTo(fx, walletAddress, fx.alice);
        await fx.mesh.connect(fx.treasury).transfer(walletAddress, ASSERT_FEE * 10n);
        const approve = fx.mesh.interface.encodeFunctionData("approve", [
          await fx.registry.getAddress(),
          ASSERT_FEE * 10n,
        ]);
        await wallet.connect(walletKey).execute(await fx.mesh.getAddress(), approve);
        return { fx, wallet, walletAddress, walletKey, deviceId };
      }

      it("asserts with a signature the wallet validates, and charges the wallet", async function () {
        const { fx, walletAddress, walletKey, deviceId } = await networkHelpers.loadFixture(walletFixture);
        expect(await fx.registry.ownerOf(deviceId)).to.equal(walletAddress);
        await expect(relay(fx, await sign(fx, walletKey, deviceId, CELL_SF, walletAddress)))
          .to.emit(fx.registry, "LocationAsserted")
          .withArgs(deviceId, walletAddress, CELL_SF, 50, 10, 1, 0n);
        await expect(relay(fx, await sign(fx, walletKey, deviceId, CELL_OAKLAND, walletAddress)))
          .to.emit(fx.mesh, "Transfer")
          .withArgs(walletAddress, await fx.registry.getAddress(), ASSERT_FEE);
        expect(await fx.registry.nonces(walletAddress)).to.equal(2n);
      });

      it("refuses a signature the wallet rejects", async function () {
        const { fx, walletAddress, deviceId } = await networkHelpers.loadFixture(walletFixture);
        await expect(relay(fx, await sign(fx, fx.bob, deviceId, CELL_SF, walletAddress)))
          .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidOwnerSignature")
          .withArgs(deviceId, walletAddress);
      });

      it("lets the wallet assert directly too", async function () {
        const { fx, wallet, walletAddress, walletKey, deviceId } =
          await networkHelpers.loadFixture(walletFixture);
        const call = fx.registry.interface.encodeFunctionData("assertLocation", [deviceId, CELL_SF, 42, 7]);
        await expect(wallet.connect(walletKey).execute(await fx.registry.getAddress(), call))
          .to.emit(fx.registry, "LocationAsserted")
          .withArgs(deviceId, walletAddress, CELL_SF, 42, 7, 1, 0n);
      });
    });
  });
});
