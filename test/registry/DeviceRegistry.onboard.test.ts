import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { Signature, Wallet, ZeroAddress, zeroPadValue } from "ethers";

import {
  deviceIdOf,
  DeviceStatus,
  encodeRS,
  keyIdOf,
  KeyType,
  MakerStatus,
  malleate,
  P256_N,
  p256Device,
  registryDomain,
  secp256k1Device,
  signAttestation,
  toWord,
} from "../helpers/registry.js";
import {
  CLASS_DISABLED,
  CLASS_HOTSPOT,
  CLASS_LIGHT,
  createRegistryNetwork,
  deployRegistry,
  HOTSPOT_FEE,
  LIGHT_FEE,
  MAKER_ALLOWANCE,
  MAKER_ID,
  onboardedDeviceId,
  prepareOnboard,
  setupRegistry,
  type OnboardCall,
  type RegistryFixture,
} from "../helpers/registryFixture.js";

const { ethers, networkHelpers } = await createRegistryNetwork();

async function registryFixture() {
  return setupRegistry(ethers);
}

async function approveFee(fx: RegistryFixture, payer: HardhatEthersSigner, amount = HOTSPOT_FEE) {
  await fx.mesh.connect(payer).approve(await fx.registry.getAddress(), amount);
}

function submit(fx: RegistryFixture, from: HardhatEthersSigner, call: OnboardCall) {
  return fx.registry.connect(from).onboard(call.req, call.makerSignature, call.deviceSignature);
}

describe("DeviceRegistry: onboarding", function () {
  describe("secp256k1 device keys", function () {
    it("mints the device to the owner under its key id, collects the class fee and records everything", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const device = secp256k1Device();
      const id = deviceIdOf(device);
      await approveFee(fx, fx.alice);
      const call = await prepareOnboard(fx, { device, owner: fx.alice.address });
      const supply = await fx.mesh.totalSupply();
      const balance = await fx.mesh.balanceOf(fx.alice.address);
      const registry = await fx.registry.getAddress();
      expect(await fx.registry.deviceIdByKey(device.keyId)).to.equal(0n);
      expect(await fx.registry.statusOf(id)).to.equal(DeviceStatus.None);

      await expect(submit(fx, fx.alice, call))
        .to.emit(fx.registry, "DeviceOnboarded")
        .withArgs(
          id,
          fx.alice.address,
          MAKER_ID,
          KeyType.Secp256k1,
          device.key.x,
          device.key.y,
          CLASS_HOTSPOT,
          HOTSPOT_FEE,
        )
        .and.to.emit(fx.registry, "Transfer")
        .withArgs(ZeroAddress, fx.alice.address, id)
        .and.to.emit(fx.mesh, "Transfer")
        .withArgs(fx.alice.address, registry, HOTSPOT_FEE);

      // The fee is held for the batch burn: out of alice's hands, not yet out of the supply.
      expect(await fx.mesh.totalSupply()).to.equal(supply);
      expect(await fx.mesh.balanceOf(registry)).to.equal(HOTSPOT_FEE);
      expect(await fx.registry.collectedFees()).to.equal(HOTSPOT_FEE - 1n);
      expect(await fx.mesh.balanceOf(fx.alice.address)).to.equal(balance - HOTSPOT_FEE);
      expect(await fx.mesh.allowance(fx.alice.address, registry)).to.equal(0n);
      expect(await fx.registry.ownerOf(id)).to.equal(fx.alice.address);
      expect(await fx.registry.balanceOf(fx.alice.address)).to.equal(1n);
      expect(await fx.registry.deviceIdByKey(device.keyId)).to.equal(id);
      expect(await fx.registry.statusOf(id)).to.equal(DeviceStatus.Active);
      expect(await fx.registry.isEligible(id)).to.equal(false);

      const info = await fx.registry.deviceInfo(id);
      expect(info.owner).to.equal(fx.alice.address);
      expect(info.keyType).to.equal(BigInt(KeyType.Secp256k1));
      expect(info.keyX).to.equal(device.key.x);
      expect(info.keyY).to.equal(device.key.y);
      expect(info.keyId).to.equal(device.keyId);
      expect(info.deviceClass).to.equal(BigInt(CLASS_HOTSPOT));
      expect(info.makerId).to.equal(BigInt(MAKER_ID));
      expect(info.status).to.equal(DeviceStatus.Active);
      expect(info.suspensionReason).to.equal(0n);
      expect(info.cell).to.equal(0n);
      expect(info.assertCount).to.equal(0n);

      const maker = await fx.registry.makerInfo(MAKER_ID);
      expect(maker.allowance).to.equal(MAKER_ALLOWANCE - 1n);
      expect(maker.onboarded).to.equal(1n);
    });

    it("lets anyone submit and pay for the owner the device signed (a maker onboarding a fleet)", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await approveFee(fx, fx.relayer, LIGHT_FEE);
      const device = secp256k1Device();
      const call = await prepareOnboard(fx, { device, owner: fx.alice.address, deviceClass: CLASS_LIGHT });
      const relayerBalance = await fx.mesh.balanceOf(fx.relayer.address);
      const aliceBalance = await fx.mesh.balanceOf(fx.alice.address);
      await expect(submit(fx, fx.relayer, call))
        .to.emit(fx.mesh, "Transfer")
        .withArgs(fx.relayer.address, await fx.registry.getAddress(), LIGHT_FEE);
      expect(await fx.registry.ownerOf(deviceIdOf(device))).to.equal(fx.alice.address);
      expect(await fx.mesh.balanceOf(fx.relayer.address)).to.equal(relayerBalance - LIGHT_FEE);
      expect(await fx.mesh.balanceOf(fx.alice.address)).to.equal(aliceBalance);
    });

    it("names each device by its key id, whatever the order of onboarding, and counts them per owner", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await approveFee(fx, fx.alice, HOTSPOT_FEE * 3n);
      const devices = [secp256k1Device(), p256Device(), secp256k1Device()];
      const owners = [fx.alice, fx.bob, fx.alice];
      for (const [i, device] of devices.entries()) {
        const receipt = await (
          await submit(fx, fx.alice, await prepareOnboard(fx, { device, owner: owners[i]!.address }))
        ).wait();
        // The id the event reports is the one anyone holding the key computes off chain.
        expect(await onboardedDeviceId(fx.registry, receipt)).to.equal(deviceIdOf(device));
        expect(await fx.registry.deviceIdByKey(device.keyId)).to.equal(deviceIdOf(device));
      }
      expect(await fx.registry.ownerOf(deviceIdOf(devices[1]!))).to.equal(fx.bob.address);
      expect(await fx.registry.balanceOf(fx.alice.address)).to.equal(2n);
      expect(await fx.registry.balanceOf(fx.bob.address)).to.equal(1n);
      expect((await fx.registry.makerInfo(MAKER_ID)).onboarded).to.equal(3n);
    });

    it("takes no MESH for a class whose fee is zero", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await fx.registry
        .connect(fx.admin)
        .setDeviceClass(9, { enabled: true, subnetwork: 2, onboardingFee: 0n });
      const supply = await fx.mesh.totalSupply();
      const device = secp256k1Device();
      await expect(
        submit(fx, fx.alice, await prepareOnboard(fx, { device, owner: fx.alice.address, deviceClass: 9 })),
      ).to.not.emit(fx.mesh, "Transfer");
      expect(await fx.mesh.totalSupply()).to.equal(supply);
      expect(await fx.mesh.balanceOf(await fx.registry.getAddress())).to.equal(0n);
      expect((await fx.registry.deviceInfo(deviceIdOf(device))).deviceClass).to.equal(9n);
    });

    it("accepts signatures exactly at their deadlines", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await approveFee(fx, fx.alice);
      const now = BigInt(await networkHelpers.time.latest());
      const call = await prepareOnboard(fx, {
        device: secp256k1Device(),
        owner: fx.alice.address,
        makerDeadline: now + 10n,
        deviceDeadline: now + 10n,
      });
      await networkHelpers.time.setNextBlockTimestamp(now + 10n);
      await expect(submit(fx, fx.alice, call)).to.emit(fx.registry, "DeviceOnboarded");
    });
  });

  describe("P-256 device keys", function () {
    it("onboards a device whose secure element signs the digest with a real P-256 key", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const device = p256Device();
      await approveFee(fx, fx.bob);
      const call = await prepareOnboard(fx, { device, owner: fx.bob.address });
      const id = deviceIdOf(device);
      await expect(submit(fx, fx.bob, call))
        .to.emit(fx.registry, "DeviceOnboarded")
        .withArgs(
          id,
          fx.bob.address,
          MAKER_ID,
          KeyType.P256,
          device.key.x,
          device.key.y,
          CLASS_HOTSPOT,
          HOTSPOT_FEE,
        );
      expect(id).to.equal(BigInt(keyIdOf(device.key))); // uint256(keccak256(abi.encode(1, qx, qy)))
      const info = await fx.registry.deviceInfo(id);
      expect(info.keyType).to.equal(BigInt(KeyType.P256));
      expect(info.keyX).to.equal(device.key.x);
      expect(info.keyY).to.equal(device.key.y);
      expect(info.keyId).to.equal(device.keyId);
      expect(await fx.registry.ownerOf(id)).to.equal(fx.bob.address);
      expect(await fx.registry.deviceIdByKey(device.keyId)).to.equal(id);
    });

    it("rejects the malleated (high-s) twin of a valid P-256 signature", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const device = p256Device();
      await approveFee(fx, fx.bob);
      const call = await prepareOnboard(fx, { device, owner: fx.bob.address });
      const r = BigInt(call.deviceSignature.slice(0, 66));
      const s = BigInt("0x" + call.deviceSignature.slice(66));
      const twin = encodeRS(r, P256_N - s);
      await expect(submit(fx, fx.bob, { ...call, deviceSignature: twin }))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidDeviceSignature")
        .withArgs(device.keyId);
      await expect(submit(fx, fx.bob, call)).to.emit(fx.registry, "DeviceOnboarded");
    });

    it("rejects a P-256 signature of the wrong length or by another P-256 key", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const device = p256Device();
      const other = p256Device();
      await approveFee(fx, fx.bob);
      const call = await prepareOnboard(fx, { device, owner: fx.bob.address });
      const byOther = await prepareOnboard(fx, { device: other, owner: fx.bob.address });
      for (const deviceSignature of [
        call.deviceSignature + "00",
        call.deviceSignature.slice(0, -2),
        byOther.deviceSignature,
      ]) {
        await expect(submit(fx, fx.bob, { ...call, deviceSignature }))
          .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidDeviceSignature")
          .withArgs(device.keyId);
      }
    });

    it("rejects P-256 keys that are not on the curve or not reduced", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const device = p256Device();
      const call = await prepareOnboard(fx, { device, owner: fx.bob.address });
      const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
      const offCurve = { keyType: KeyType.P256, x: device.key.x, y: toWord(BigInt(device.key.y) ^ 1n) };
      // (0, Y0) is on the curve; (P, Y0) satisfies the curve equation mod p but x is not reduced.
      const Y0 = 0x66485c780e2f83d72433bd5d84a06bb6541c2af31dae871728bf856a174f93f4n;
      const unreduced = { keyType: KeyType.P256, x: toWord(P), y: toWord(Y0) };
      const zero = { keyType: KeyType.P256, x: toWord(0n), y: toWord(0n) };
      for (const key of [offCurve, unreduced, zero]) {
        await expect(submit(fx, fx.bob, { ...call, req: { ...call.req, key } }))
          .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidDeviceKey")
          .withArgs(key.keyType, key.x, key.y);
      }
    });
  });

  describe("EIP-2612 permit in the same transaction", function () {
    async function signPermit(
      fx: RegistryFixture,
      owner: HardhatEthersSigner,
      value: bigint,
      deadline: bigint,
    ) {
      const domain = {
        name: await fx.mesh.name(),
        version: "1",
        chainId: fx.chainId,
        verifyingContract: await fx.mesh.getAddress(),
      };
      const types = {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      };
      const nonce = await fx.mesh.nonces(owner.address);
      const spender = await fx.registry.getAddress();
      const sig = Signature.from(
        await owner.signTypedData(domain, types, { owner: owner.address, spender, value, nonce, deadline }),
      );
      return { value, deadline, v: sig.v, r: sig.r, s: sig.s };
    }

    it("onboards without a prior approval", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const deadline = BigInt(await networkHelpers.time.latest()) + 600n;
      const permit = await signPermit(fx, fx.alice, HOTSPOT_FEE, deadline);
      const call = await prepareOnboard(fx, { device: secp256k1Device(), owner: fx.alice.address });
      await expect(
        fx.registry
          .connect(fx.alice)
          .onboardWithPermit(call.req, call.makerSignature, call.deviceSignature, permit),
      )
        .to.emit(fx.registry, "DeviceOnboarded")
        .and.to.emit(fx.mesh, "Transfer")
        .withArgs(fx.alice.address, await fx.registry.getAddress(), HOTSPOT_FEE);
      expect(await fx.mesh.nonces(fx.alice.address)).to.equal(1n);
      expect(await fx.registry.collectedFees()).to.equal(HOTSPOT_FEE - 1n);
    });

    it("still onboards when a front-runner already submitted the permit", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const deadline = BigInt(await networkHelpers.time.latest()) + 600n;
      const permit = await signPermit(fx, fx.alice, HOTSPOT_FEE, deadline);
      await fx.mesh
        .connect(fx.carol)
        .permit(
          fx.alice.address,
          await fx.registry.getAddress(),
          permit.value,
          permit.deadline,
          permit.v,
          permit.r,
          permit.s,
        );
      const call = await prepareOnboard(fx, { device: secp256k1Device(), owner: fx.alice.address });
      await expect(
        fx.registry
          .connect(fx.alice)
          .onboardWithPermit(call.req, call.makerSignature, call.deviceSignature, permit),
      ).to.emit(fx.registry, "DeviceOnboarded");
    });

    it("fails on the allowance when the permit is bad and nothing was approved", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const deadline = BigInt(await networkHelpers.time.latest()) + 600n;
      const permit = await signPermit(fx, fx.bob, HOTSPOT_FEE, deadline); // signed by bob, submitted by alice
      const call = await prepareOnboard(fx, { device: secp256k1Device(), owner: fx.alice.address });
      await expect(
        fx.registry
          .connect(fx.alice)
          .onboardWithPermit(call.req, call.makerSignature, call.deviceSignature, permit),
      )
        .to.be.revertedWithCustomError(fx.mesh, "ERC20InsufficientAllowance")
        .withArgs(await fx.registry.getAddress(), 0n, HOTSPOT_FEE);
    });

    it("is stopped by the pause like onboard", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await fx.registry.connect(fx.guardian).pause();
      const permit = await signPermit(
        fx,
        fx.alice,
        HOTSPOT_FEE,
        BigInt(await networkHelpers.time.latest()) + 600n,
      );
      const call = await prepareOnboard(fx, { device: secp256k1Device(), owner: fx.alice.address });
      await expect(
        fx.registry
          .connect(fx.alice)
          .onboardWithPermit(call.req, call.makerSignature, call.deviceSignature, permit),
      ).to.be.revertedWithCustomError(fx.registry, "EnforcedPause");
    });
  });

  describe("fee failures", function () {
    it("reverts without an allowance and without a balance", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const call = await prepareOnboard(fx, { device: secp256k1Device(), owner: fx.alice.address });
      await expect(submit(fx, fx.alice, call))
        .to.be.revertedWithCustomError(fx.mesh, "ERC20InsufficientAllowance")
        .withArgs(await fx.registry.getAddress(), 0n, HOTSPOT_FEE);
      const [, , , , , , , , poor] = await ethers.getSigners();
      await approveFee(fx, poor!);
      await expect(submit(fx, poor!, call))
        .to.be.revertedWithCustomError(fx.mesh, "ERC20InsufficientBalance")
        .withArgs(poor!.address, 0n, HOTSPOT_FEE);
    });
  });

  describe("refused requests", function () {
    it("refuses expired attestations and expired proofs of possession", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await approveFee(fx, fx.alice);
      const now = BigInt(await networkHelpers.time.latest());
      const device = secp256k1Device();
      const staleMaker = await prepareOnboard(fx, {
        device,
        owner: fx.alice.address,
        makerDeadline: now + 5n,
      });
      const staleDevice = await prepareOnboard(fx, {
        device,
        owner: fx.alice.address,
        deviceDeadline: now + 5n,
      });
      await networkHelpers.time.increase(10);
      await expect(submit(fx, fx.alice, staleMaker))
        .to.be.revertedWithCustomError(fx.registry, "RegistryAttestationExpired")
        .withArgs(now + 5n);
      await expect(submit(fx, fx.alice, staleDevice))
        .to.be.revertedWithCustomError(fx.registry, "RegistryProofOfPossessionExpired")
        .withArgs(now + 5n);
    });

    it("refuses the zero owner", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const call = await prepareOnboard(fx, { device: secp256k1Device(), owner: ZeroAddress });
      await expect(submit(fx, fx.alice, call)).to.be.revertedWithCustomError(
        fx.registry,
        "RegistryZeroAddress",
      );
    });

    it("refuses malformed secp256k1 keys", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const device = secp256k1Device();
      const call = await prepareOnboard(fx, { device, owner: fx.alice.address });
      const bad = [
        { keyType: KeyType.Secp256k1, x: device.key.x, y: toWord(1n) },
        { keyType: KeyType.Secp256k1, x: toWord(BigInt(device.key.x) | (1n << 160n)), y: device.key.y },
        { keyType: KeyType.Secp256k1, x: toWord(0n), y: toWord(0n) },
      ];
      for (const key of bad) {
        await expect(submit(fx, fx.alice, { ...call, req: { ...call.req, key } }))
          .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidDeviceKey")
          .withArgs(key.keyType, key.x, key.y);
      }
    });

    it("refuses a key registered before, even once its device is retired", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await approveFee(fx, fx.alice, HOTSPOT_FEE * 2n);
      const device = secp256k1Device();
      const call = await prepareOnboard(fx, { device, owner: fx.alice.address });
      await submit(fx, fx.alice, call);
      // The very same request again (a replay), and a fresh one for another owner.
      await expect(submit(fx, fx.alice, call))
        .to.be.revertedWithCustomError(fx.registry, "RegistryKeyAlreadyRegistered")
        .withArgs(device.keyId, deviceIdOf(device));
      const again = await prepareOnboard(fx, { device, owner: fx.bob.address });
      await fx.registry.connect(fx.alice).retire(deviceIdOf(device));
      await expect(submit(fx, fx.alice, again))
        .to.be.revertedWithCustomError(fx.registry, "RegistryKeyAlreadyRegistered")
        .withArgs(device.keyId, deviceIdOf(device));
      // A P-256 key, too.
      const p = p256Device();
      await submit(fx, fx.alice, await prepareOnboard(fx, { device: p, owner: fx.alice.address }));
      await expect(submit(fx, fx.alice, await prepareOnboard(fx, { device: p, owner: fx.alice.address })))
        .to.be.revertedWithCustomError(fx.registry, "RegistryKeyAlreadyRegistered")
        .withArgs(p.keyId, deviceIdOf(p));
    });

    it("refuses classes never configured and classes disabled", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await fx.registry
        .connect(fx.admin)
        .setDeviceClass(CLASS_LIGHT, { enabled: false, subnetwork: 0, onboardingFee: LIGHT_FEE });
      for (const deviceClass of [CLASS_DISABLED, CLASS_LIGHT]) {
        const call = await prepareOnboard(fx, {
          device: secp256k1Device(),
          owner: fx.alice.address,
          deviceClass,
        });
        await expect(submit(fx, fx.alice, call))
          .to.be.revertedWithCustomError(fx.registry, "RegistryDeviceClassDisabled")
          .withArgs(deviceClass);
      }
    });

    it("refuses unknown makers, revoked makers and makers without allowance", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await approveFee(fx, fx.alice, HOTSPOT_FEE * 2n);
      const unknown = await prepareOnboard(fx, {
        device: secp256k1Device(),
        owner: fx.alice.address,
        makerId: 99,
      });
      await expect(submit(fx, fx.alice, unknown))
        .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownMaker")
        .withArgs(99);

      const smallKey = new Wallet(Wallet.createRandom().privateKey);
      await fx.registry.connect(fx.admin).addMaker(5, smallKey.address, 1);
      await submit(
        fx,
        fx.alice,
        await prepareOnboard(fx, {
          device: secp256k1Device(),
          owner: fx.alice.address,
          makerId: 5,
          makerKey: smallKey,
        }),
      );
      expect((await fx.registry.makerInfo(5)).allowance).to.equal(0n);
      const exhausted = await prepareOnboard(fx, {
        device: secp256k1Device(),
        owner: fx.alice.address,
        makerId: 5,
        makerKey: smallKey,
      });
      await expect(submit(fx, fx.alice, exhausted))
        .to.be.revertedWithCustomError(fx.registry, "RegistryMakerAllowanceExhausted")
        .withArgs(5);
      await fx.registry.connect(fx.admin).raiseMakerAllowance(5, 1);
      await expect(submit(fx, fx.alice, exhausted)).to.emit(fx.registry, "DeviceOnboarded");

      const pending = await prepareOnboard(fx, { device: secp256k1Device(), owner: fx.alice.address });
      await fx.registry.connect(fx.admin).revokeMaker(MAKER_ID);
      expect((await fx.registry.makerInfo(MAKER_ID)).status).to.equal(MakerStatus.Revoked);
      await expect(submit(fx, fx.alice, pending))
        .to.be.revertedWithCustomError(fx.registry, "RegistryMakerIsRevoked")
        .withArgs(MAKER_ID);
    });

    it("refuses attestations signed by anyone but the maker's current key", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await approveFee(fx, fx.alice);
      const stranger = new Wallet(Wallet.createRandom().privateKey);
      const forged = await prepareOnboard(fx, {
        device: secp256k1Device(),
        owner: fx.alice.address,
        makerKey: stranger,
      });
      await expect(submit(fx, fx.alice, forged))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidMakerSignature")
        .withArgs(MAKER_ID);

      // Signed by the old key, submitted after the maker rotated its key.
      const preRotation = await prepareOnboard(fx, { device: secp256k1Device(), owner: fx.alice.address });
      const newKey = new Wallet(Wallet.createRandom().privateKey);
      await fx.alice.sendTransaction({ to: fx.makerKey.address, value: 10n ** 17n });
      await fx.registry
        .connect(fx.makerKey.connect(ethers.provider))
        .rotateMakerKey(MAKER_ID, newKey.address);
      await expect(submit(fx, fx.alice, preRotation))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidMakerSignature")
        .withArgs(MAKER_ID);
      const postRotation = await prepareOnboard(fx, {
        device: secp256k1Device(),
        owner: fx.alice.address,
        makerKey: newKey,
      });
      await expect(submit(fx, fx.alice, postRotation)).to.emit(fx.registry, "DeviceOnboarded");
    });

    it("refuses malformed and malleated (high-s) maker signatures", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await approveFee(fx, fx.alice);
      const call = await prepareOnboard(fx, { device: secp256k1Device(), owner: fx.alice.address });
      for (const makerSignature of [
        call.makerSignature.slice(0, -2),
        call.makerSignature + "00",
        malleate(call.makerSignature),
        "0x",
      ]) {
        await expect(submit(fx, fx.alice, { ...call, makerSignature }))
          .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidMakerSignature")
          .withArgs(MAKER_ID);
      }
      await expect(submit(fx, fx.alice, call)).to.emit(fx.registry, "DeviceOnboarded");
    });

    it("refuses device signatures by another key, malformed or malleated (high-s)", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await approveFee(fx, fx.alice);
      const device = secp256k1Device();
      const call = await prepareOnboard(fx, { device, owner: fx.alice.address });
      const impostor = secp256k1Device();
      const byImpostor = await impostor.signOwnership(
        registryDomain(fx.chainId, await fx.registry.getAddress()),
        fx.alice.address,
        call.req.deviceDeadline,
      );
      for (const deviceSignature of [
        byImpostor,
        call.deviceSignature.slice(0, -2),
        malleate(call.deviceSignature),
        "0x",
      ]) {
        await expect(submit(fx, fx.alice, { ...call, deviceSignature }))
          .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidDeviceSignature")
          .withArgs(device.keyId);
      }
      await expect(submit(fx, fx.alice, call)).to.emit(fx.registry, "DeviceOnboarded");
    });

    it("is stopped by the pause and resumes after it", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await approveFee(fx, fx.alice);
      const call = await prepareOnboard(fx, { device: secp256k1Device(), owner: fx.alice.address });
      await fx.registry.connect(fx.guardian).pause();
      await expect(submit(fx, fx.alice, call)).to.be.revertedWithCustomError(fx.registry, "EnforcedPause");
      await fx.registry.connect(fx.guardian).unpause();
      await expect(submit(fx, fx.alice, call)).to.emit(fx.registry, "DeviceOnboarded");
    });
  });

  describe("replay protection", function () {
    it("binds the attestation to the device key, the class, the maker and the deadline", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await approveFee(fx, fx.alice);
      const deviceA = secp256k1Device();
      const deviceB = secp256k1Device();
      const forA = await prepareOnboard(fx, { device: deviceA, owner: fx.alice.address });
      const forB = await prepareOnboard(fx, { device: deviceB, owner: fx.alice.address });
      // A's attestation presented for device B (whose own proof of possession is genuine).
      await expect(submit(fx, fx.alice, { ...forB, makerSignature: forA.makerSignature }))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidMakerSignature")
        .withArgs(MAKER_ID);
      // An attestation for the 10-MESH class presented for the 40-MESH class, and vice versa.
      const light = await prepareOnboard(fx, {
        device: deviceA,
        owner: fx.alice.address,
        deviceClass: CLASS_LIGHT,
      });
      await expect(submit(fx, fx.alice, { ...light, req: { ...light.req, deviceClass: CLASS_HOTSPOT } }))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidMakerSignature")
        .withArgs(MAKER_ID);
      await expect(submit(fx, fx.alice, { ...forA, req: { ...forA.req, deviceClass: CLASS_LIGHT } }))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidMakerSignature")
        .withArgs(MAKER_ID);
      // Another maker id with the same signing key.
      await fx.registry.connect(fx.admin).addMaker(18, fx.makerKey.address, 10);
      await expect(submit(fx, fx.alice, { ...forA, req: { ...forA.req, makerId: 18 } }))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidMakerSignature")
        .withArgs(18);
      // A stretched deadline.
      await expect(
        submit(fx, fx.alice, { ...forA, req: { ...forA.req, makerDeadline: forA.req.makerDeadline + 1n } }),
      )
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidMakerSignature")
        .withArgs(MAKER_ID);
      await expect(submit(fx, fx.alice, forA)).to.emit(fx.registry, "DeviceOnboarded");
    });

    it("binds the proof of possession to the owner, the device and the deadline", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await approveFee(fx, fx.bob);
      const deviceA = secp256k1Device();
      const forAlice = await prepareOnboard(fx, { device: deviceA, owner: fx.alice.address });
      // Another owner: bob takes alice's signed request and names himself.
      await expect(submit(fx, fx.bob, { ...forAlice, req: { ...forAlice.req, owner: fx.bob.address } }))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidDeviceSignature")
        .withArgs(deviceA.keyId);
      // Another device: device B's genuine attestation with device A's proof.
      const deviceB = secp256k1Device();
      const forB = await prepareOnboard(fx, { device: deviceB, owner: fx.alice.address });
      await expect(submit(fx, fx.bob, { ...forB, deviceSignature: forAlice.deviceSignature }))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidDeviceSignature")
        .withArgs(deviceB.keyId);
      // A stretched deadline.
      await expect(
        submit(fx, fx.bob, {
          ...forAlice,
          req: { ...forAlice.req, deviceDeadline: forAlice.req.deviceDeadline + 1n },
        }),
      )
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidDeviceSignature")
        .withArgs(deviceA.keyId);
      // The same for a P-256 device.
      const p = p256Device();
      const pForAlice = await prepareOnboard(fx, { device: p, owner: fx.alice.address });
      await expect(submit(fx, fx.bob, { ...pForAlice, req: { ...pForAlice.req, owner: fx.bob.address } }))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidDeviceSignature")
        .withArgs(p.keyId);
      await expect(submit(fx, fx.bob, forAlice)).to.emit(fx.registry, "DeviceOnboarded");
      expect(await fx.registry.ownerOf(deviceIdOf(deviceA))).to.equal(fx.alice.address);
    });

    it("binds both signatures to this registry deployment", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const twin = await deployRegistry(ethers, fx.admin.address, await fx.mesh.getAddress());
      await twin.connect(fx.admin).addMaker(MAKER_ID, fx.makerKey.address, 10);
      await twin
        .connect(fx.admin)
        .setDeviceClass(CLASS_HOTSPOT, { enabled: true, subnetwork: 0, onboardingFee: HOTSPOT_FEE });
      await fx.mesh.connect(fx.alice).approve(await twin.getAddress(), HOTSPOT_FEE);
      const device = secp256k1Device();
      const forFirst = await prepareOnboard(fx, { device, owner: fx.alice.address });
      const twinAddress = await twin.getAddress();
      const forTwin = await prepareOnboard(fx, {
        device,
        owner: fx.alice.address,
        makerDomain: { verifyingContract: twinAddress },
        deviceDomain: { verifyingContract: twinAddress },
      });
      const onTwin = (c: OnboardCall) =>
        twin.connect(fx.alice).onboard(c.req, c.makerSignature, c.deviceSignature);
      await expect(onTwin(forFirst))
        .to.be.revertedWithCustomError(twin, "RegistryInvalidMakerSignature")
        .withArgs(MAKER_ID);
      await expect(onTwin({ ...forTwin, deviceSignature: forFirst.deviceSignature }))
        .to.be.revertedWithCustomError(twin, "RegistryInvalidDeviceSignature")
        .withArgs(device.keyId);
      await expect(onTwin(forTwin)).to.emit(twin, "DeviceOnboarded");
    });

    it("binds both signatures to the chain: a registry at the same address on another chain refuses them", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      // A second chain, set up by the same accounts in the same order: every address is identical.
      const other = await createRegistryNetwork({ chainId: 31_338 });
      const fx2 = await setupRegistry(other.ethers);
      expect(await fx2.registry.getAddress()).to.equal(await fx.registry.getAddress());
      expect(fx2.chainId).to.equal(31_338n);
      const addRealMaker = (f: RegistryFixture) =>
        f.registry.connect(f.admin).addMaker(1, fx.makerKey.address, 10);
      await addRealMaker(fx);
      await addRealMaker(fx2);
      await fx2.mesh.connect(fx2.alice).approve(await fx2.registry.getAddress(), HOTSPOT_FEE);

      const device = secp256k1Device();
      const onChainA = await prepareOnboard(fx, { device, owner: fx.alice.address, makerId: 1 });
      const onChainB = await prepareOnboard(fx2, {
        device,
        owner: fx.alice.address,
        makerId: 1,
        makerKey: fx.makerKey,
      });
      const onB = (c: OnboardCall) =>
        fx2.registry.connect(fx2.alice).onboard(c.req, c.makerSignature, c.deviceSignature);
      await expect(onB(onChainA))
        .to.be.revertedWithCustomError(fx2.registry, "RegistryInvalidMakerSignature")
        .withArgs(1);
      await expect(onB({ ...onChainB, deviceSignature: onChainA.deviceSignature }))
        .to.be.revertedWithCustomError(fx2.registry, "RegistryInvalidDeviceSignature")
        .withArgs(device.keyId);
      await expect(onB(onChainB)).to.emit(fx2.registry, "DeviceOnboarded");
    });

    it("computes key ids as documented, and the device id is uint256(keyId)", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const device = secp256k1Device();
      await approveFee(fx, fx.alice);
      await submit(fx, fx.alice, await prepareOnboard(fx, { device, owner: fx.alice.address }));
      const expected = keyIdOf({
        keyType: KeyType.Secp256k1,
        x: zeroPadValue(device.wallet.address, 32),
        y: toWord(0n),
      });
      expect(await fx.registry.deviceIdByKey(expected)).to.equal(BigInt(expected));
      expect((await fx.registry.deviceInfo(BigInt(expected))).keyId).to.equal(expected);
      expect(await fx.registry.ownerOf(BigInt(expected))).to.equal(fx.alice.address);
      // The same coordinates under the other key type are another key: unknown.
      expect(await fx.registry.deviceIdByKey(keyIdOf({ ...device.key, keyType: KeyType.P256 }))).to.equal(0n);
    });
  });

  describe("deviceIdByKey", function () {
    it("returns uint256(keyId) for registered keys of both types, also once retired, and 0 for unknown keys", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await approveFee(fx, fx.alice, HOTSPOT_FEE * 2n);
      const secp = secp256k1Device();
      const p = p256Device();
      const never = p256Device();
      for (const device of [secp, p]) {
        expect(await fx.registry.deviceIdByKey(device.keyId)).to.equal(0n);
        await submit(fx, fx.alice, await prepareOnboard(fx, { device, owner: fx.alice.address }));
        expect(await fx.registry.deviceIdByKey(device.keyId)).to.equal(BigInt(device.keyId));
      }
      await fx.registry.connect(fx.alice).retire(deviceIdOf(p));
      expect(await fx.registry.statusOf(deviceIdOf(p))).to.equal(DeviceStatus.Retired);
      expect(await fx.registry.deviceIdByKey(p.keyId)).to.equal(deviceIdOf(p)); // its key stays taken
      expect(await fx.registry.deviceIdByKey(never.keyId)).to.equal(0n);
      expect(await fx.registry.deviceIdByKey(ethers.ZeroHash)).to.equal(0n);
    });
  });

  describe("P-256 without the precompile (Solidity fallback)", function () {
    it("verifies real P-256 signatures and rejects high s on a chain without the precompile", async function () {
      // Prague has neither RIP-7212 nor EIP-7951 at 0x100: OpenZeppelin P256 falls back to Solidity.
      const prague = await createRegistryNetwork({ hardfork: "prague" });
      const fx = await setupRegistry(prague.ethers);
      await fx.mesh.connect(fx.alice).approve(await fx.registry.getAddress(), HOTSPOT_FEE);
      const device = p256Device();
      const call = await prepareOnboard(fx, { device, owner: fx.alice.address });
      const digestSig = call.deviceSignature;
      const r = BigInt(digestSig.slice(0, 66));
      const s = BigInt("0x" + digestSig.slice(66));
      await expect(
        fx.registry.connect(fx.alice).onboard(call.req, call.makerSignature, encodeRS(r, P256_N - s)),
      ).to.be.revertedWithCustomError(fx.registry, "RegistryInvalidDeviceSignature");
      const tx = await fx.registry
        .connect(fx.alice)
        .onboard(call.req, call.makerSignature, call.deviceSignature);
      const receipt = (await tx.wait())!;
      // The Solidity verifier costs ~220k more than the precompile (about 253k in all with it, 473k
      // without): proof the fallback ran.
      expect(receipt.gasUsed).to.be.greaterThan(400_000n);
      expect(await fx.registry.ownerOf(deviceIdOf(device))).to.equal(fx.alice.address);
    });
  });
});
