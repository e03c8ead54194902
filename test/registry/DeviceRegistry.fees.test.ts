import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { id, ZeroAddress } from "ethers";
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
  ASSERT_FEE,
  CLASS_HOTSPOT,
  CLASS_LIGHT,
  createRegistryNetwork,
  HOTSPOT_FEE,
  LIGHT_FEE,
  prepareOnboard,
  setupRegistry,
  type RegistryFixture,
} from "../helpers/registryFixture.js";

const { ethers, networkHelpers } = await createRegistryNetwork();

const CELL = cellToUint(h3.latLngToCell(40.4168, -3.7038, 12));

async function registryFixture() {
  return setupRegistry(ethers);
}

async function onboard(
  fx: RegistryFixture,
  payer: HardhatEthersSigner,
  device: DeviceSigner,
  deviceClass = CLASS_HOTSPOT,
) {
  await fx.mesh.connect(payer).approve(await fx.registry.getAddress(), HOTSPOT_FEE);
  const call = await prepareOnboard(fx, { device, owner: payer.address, deviceClass });
  await fx.registry.connect(payer).onboard(call.req, call.makerSignature, call.deviceSignature);
  return deviceIdOf(device);
}

/** A signer that holds no MESH and no role on the registry. */
async function stranger() {
  const [, , , , , , , , , nobody] = await ethers.getSigners();
  return nobody!;
}

describe("DeviceRegistry: collected fees and the batch burn", function () {
  describe("collecting", function () {
    it("holds nothing on a fresh registry and refuses to burn nothing", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      expect(await fx.mesh.balanceOf(await fx.registry.getAddress())).to.equal(0n);
      expect(await fx.registry.collectedFees()).to.equal(0n);
      await expect(fx.registry.connect(await stranger()).burnCollectedFees()).to.be.revertedWithCustomError(
        fx.registry,
        "RegistryNoFeesToBurn",
      );
    });

    it("collects onboarding fees (any class, any key type) and later assert fees, from their payers", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const registry = await fx.registry.getAddress();
      const supply = await fx.mesh.totalSupply();
      const secp = await onboard(fx, fx.alice, secp256k1Device());
      await onboard(fx, fx.bob, p256Device(), CLASS_LIGHT);
      const onboardingFees = HOTSPOT_FEE + LIGHT_FEE;
      expect(await fx.mesh.balanceOf(registry)).to.equal(onboardingFees);

      await fx.mesh.connect(fx.alice).approve(registry, ASSERT_FEE * 2n);
      await fx.registry.connect(fx.alice).assertLocation(secp, CELL, 50, 10); // the first is free
      expect(await fx.mesh.balanceOf(registry)).to.equal(onboardingFees);
      const aliceBalance = await fx.mesh.balanceOf(fx.alice.address);
      await expect(fx.registry.connect(fx.alice).assertLocation(secp, CELL, 60, 10))
        .to.emit(fx.mesh, "Transfer")
        .withArgs(fx.alice.address, registry, ASSERT_FEE);
      await fx.registry.connect(fx.alice).assertLocation(secp, CELL, 70, 10);

      const held = onboardingFees + 2n * ASSERT_FEE;
      expect(await fx.mesh.balanceOf(fx.alice.address)).to.equal(aliceBalance - 2n * ASSERT_FEE);
      expect(await fx.mesh.balanceOf(registry)).to.equal(held);
      expect(await fx.registry.collectedFees()).to.equal(held - 1n); // one wei stays for the balance slot
      expect(await fx.mesh.totalSupply()).to.equal(supply); // nothing burned yet
    });
  });

  describe("burnCollectedFees", function () {
    async function collectedFixture() {
      const fx = await setupRegistry(ethers);
      const device = await onboard(fx, fx.alice, secp256k1Device());
      await onboard(fx, fx.bob, p256Device());
      await fx.mesh.connect(fx.alice).approve(await fx.registry.getAddress(), ASSERT_FEE * 10n);
      await fx.registry.connect(fx.alice).assertLocation(device, CELL, 50, 10);
      await fx.registry.connect(fx.alice).assertLocation(device, CELL, 55, 10);
      return { fx, device };
    }

    it("lets anyone burn everything collected but one wei: supply falls by exactly that, with an event", async function () {
      const { fx } = await networkHelpers.loadFixture(collectedFixture);
      const registry = await fx.registry.getAddress();
      const caller = await stranger();
      expect(await fx.mesh.balanceOf(caller.address)).to.equal(0n);
      const held = 2n * HOTSPOT_FEE + ASSERT_FEE;
      expect(await fx.mesh.balanceOf(registry)).to.equal(held);
      const supply = await fx.mesh.totalSupply();

      expect(await fx.registry.connect(caller).burnCollectedFees.staticCall()).to.equal(held - 1n);
      await expect(fx.registry.connect(caller).burnCollectedFees())
        .to.emit(fx.registry, "CollectedFeesBurned")
        .withArgs(caller.address, held - 1n)
        .and.to.emit(fx.mesh, "Transfer")
        .withArgs(registry, ZeroAddress, held - 1n);

      expect(await fx.mesh.totalSupply()).to.equal(supply - (held - 1n));
      expect(await fx.mesh.balanceOf(registry)).to.equal(1n);
      expect(await fx.registry.collectedFees()).to.equal(0n);
    });

    it("refuses a second burn right after one, then burns each new fee in full", async function () {
      const { fx, device } = await networkHelpers.loadFixture(collectedFixture);
      await fx.registry.connect(fx.carol).burnCollectedFees();
      await expect(fx.registry.connect(fx.carol).burnCollectedFees()).to.be.revertedWithCustomError(
        fx.registry,
        "RegistryNoFeesToBurn",
      );
      // The kept wei already fills the balance slot: the next fee is collectable to the last wei.
      await fx.registry.connect(fx.alice).assertLocation(device, CELL, 60, 10);
      expect(await fx.registry.collectedFees()).to.equal(ASSERT_FEE);
      const supply = await fx.mesh.totalSupply();
      await expect(fx.registry.connect(fx.alice).burnCollectedFees())
        .to.emit(fx.registry, "CollectedFeesBurned")
        .withArgs(fx.alice.address, ASSERT_FEE);
      expect(await fx.mesh.totalSupply()).to.equal(supply - ASSERT_FEE);
      expect(await fx.mesh.balanceOf(await fx.registry.getAddress())).to.equal(1n);
    });

    it("does not burn a lone wei (a registry holding exactly one wei has nothing collected)", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await fx.mesh.connect(fx.treasury).transfer(await fx.registry.getAddress(), 1n);
      expect(await fx.registry.collectedFees()).to.equal(0n);
      await expect(fx.registry.burnCollectedFees()).to.be.revertedWithCustomError(
        fx.registry,
        "RegistryNoFeesToBurn",
      );
      await fx.mesh.connect(fx.treasury).transfer(await fx.registry.getAddress(), 1n);
      await expect(fx.registry.burnCollectedFees())
        .to.emit(fx.registry, "CollectedFeesBurned")
        .withArgs(fx.admin.address, 1n);
    });

    it("burns MESH sent to the registry directly too: whatever it holds can only be burned", async function () {
      const { fx } = await networkHelpers.loadFixture(collectedFixture);
      const registry = await fx.registry.getAddress();
      const gift = 123_456n;
      const before = await fx.registry.collectedFees();
      await fx.mesh.connect(fx.bob).transfer(registry, gift);
      expect(await fx.registry.collectedFees()).to.equal(before + gift);
      const supply = await fx.mesh.totalSupply();
      await fx.registry.connect(fx.bob).burnCollectedFees();
      expect(await fx.mesh.totalSupply()).to.equal(supply - before - gift);
    });

    it("works while the registry is paused: the pause holds onboarding and asserts, not the burn", async function () {
      const { fx } = await networkHelpers.loadFixture(collectedFixture);
      await fx.registry.connect(fx.guardian).pause();
      await expect(fx.registry.connect(fx.carol).burnCollectedFees()).to.emit(
        fx.registry,
        "CollectedFeesBurned",
      );
    });
  });

  describe("no other way out for MESH", function () {
    /** How often a function selector appears in runtime bytecode (dispatcher entries and external calls). */
    function selectorCount(code: string, signature: string): number {
      const selector = id(signature).slice(2, 10);
      return code.toLowerCase().split(selector).length - 1;
    }

    it("has exactly the reviewed state-changing functions; none but burnCollectedFees sends MESH", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const mutating: string[] = [];
      fx.registry.interface.forEachFunction((f) => {
        if (f.stateMutability !== "view" && f.stateMutability !== "pure") mutating.push(f.format("sighash"));
      });
      // A new entry point must be added here on purpose, after checking it cannot move the registry's MESH.
      expect(mutating.sort()).to.deep.equal(
        [
          // ERC-721 (device NFTs) and AccessControl
          "approve(address,uint256)",
          "safeTransferFrom(address,address,uint256)",
          "safeTransferFrom(address,address,uint256,bytes)",
          "setApprovalForAll(address,bool)",
          "transferFrom(address,address,uint256)",
          "grantRole(bytes32,address)",
          "revokeRole(bytes32,address)",
          "renounceRole(bytes32,address)",
          // governance, guardian, denylist
          "addMaker(uint32,address,uint48)",
          "raiseMakerAllowance(uint32,uint48)",
          "revokeMaker(uint32)",
          "rotateMakerKey(uint32,address)",
          "setDeviceClass(uint16,(bool,uint8,uint96))",
          "setAssertFee(uint96)",
          "pause()",
          "unpause()",
          "suspend(uint256,uint16)",
          "reinstate(uint256)",
          // owners: MESH comes in (from the payer) only here
          "onboard(((uint8,bytes32,bytes32),uint16,uint32,address,uint64,uint64),bytes,bytes)",
          "onboardWithPermit(((uint8,bytes32,bytes32),uint16,uint32,address,uint64,uint64),bytes,bytes,(uint256,uint256,uint8,bytes32,bytes32))",
          "assertLocation(uint256,uint64,uint16,int16)",
          "assertLocationBySig(uint256,uint64,uint16,int16,uint256,bytes)",
          "retire(uint256)",
          // and goes out, burned, only here
          "burnCollectedFees()",
        ].sort(),
      );
    });

    it("never calls MESH's transfer, approve or burnFrom, in its own code or its linked library", async function () {
      if (coverageRun) this.skip(); // instrumentation rewrites the bytecode being inspected
      const fx = await networkHelpers.loadFixture(registryFixture);
      const code = await ethers.provider.getCode(await fx.registry.getAddress());
      // Positive controls: the calls the registry does make are found the same way.
      expect(selectorCount(code, "burn(uint256)"), "burn").to.be.greaterThan(0);
      expect(selectorCount(code, "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)")).to.equal(
        1,
      );
      // transferFrom: the ERC-721 entry point and the fee collection (payer -> registry, never from it).
      expect(selectorCount(code, "transferFrom(address,address,uint256)")).to.equal(2);
      // approve: the ERC-721 entry point only, so the registry never grants anyone its MESH.
      expect(selectorCount(code, "approve(address,uint256)")).to.equal(1);
      for (const signature of [
        "transfer(address,uint256)",
        "burnFrom(address,uint256)",
        "increaseAllowance(address,uint256)",
        "delegate(address)",
      ]) {
        expect(selectorCount(code, signature), signature).to.equal(0);
      }
      // P256Verifier runs by DELEGATECALL in the registry's context: it must not touch tokens either.
      const library = await ethers.deployContract("P256Verifier");
      const libraryCode = await ethers.provider.getCode(await library.getAddress());
      for (const signature of [
        "transfer(address,uint256)",
        "transferFrom(address,address,uint256)",
        "approve(address,uint256)",
        "burn(uint256)",
        "burnFrom(address,uint256)",
      ]) {
        expect(selectorCount(libraryCode, signature), `library ${signature}`).to.equal(0);
      }
    });

    it("leaves no MESH allowance from the registry to anyone after every kind of call", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const registry = await fx.registry.getAddress();
      const device = await onboard(fx, fx.alice, secp256k1Device());
      await fx.registry.connect(fx.alice).approve(fx.bob.address, device); // the NFT, not MESH
      await fx.registry.connect(fx.alice).setApprovalForAll(fx.carol.address, true);
      await fx.mesh.connect(fx.alice).approve(registry, ASSERT_FEE);
      await fx.registry.connect(fx.alice).assertLocation(device, CELL, 50, 10);
      await fx.registry.connect(fx.alice).assertLocation(device, CELL, 50, 10);
      await fx.registry.burnCollectedFees();
      for (const s of await ethers.getSigners()) {
        expect(await fx.mesh.allowance(registry, s.address)).to.equal(0n);
      }
    });
  });
});
