import { expect } from "chai";
import { id, Interface, Wallet, ZeroAddress } from "ethers";

import { coverageRun } from "../helpers/gas.js";
import {
  deviceIdOf,
  DeviceStatus,
  DOMAIN_NAME,
  DOMAIN_VERSION,
  MakerStatus,
  secp256k1Device,
} from "../helpers/registry.js";
import {
  CLASS_HOTSPOT,
  createRegistryNetwork,
  deployRegistry,
  HOTSPOT_FEE,
  MAKER_ALLOWANCE,
  MAKER_ID,
  prepareOnboard,
  setupRegistry,
} from "../helpers/registryFixture.js";

const { ethers, networkHelpers } = await createRegistryNetwork();

async function registryFixture() {
  return setupRegistry(ethers);
}

const ERC165_ID = "0x01ffc9a7";
const ERC721_ID = "0x80ac58cd";

/**
 * type(IDeviceRegistry).interfaceId: the XOR of the selectors it declares itself. Its ABI also lists the
 * inherited IERC721 and IERC165 functions, whose XORs are the well-known ERC-721 and ERC-165 ids.
 */
function ownInterfaceId(abi: Interface): string {
  let acc = BigInt(ERC721_ID) ^ BigInt(ERC165_ID);
  abi.forEachFunction((f) => (acc ^= BigInt(f.selector)));
  return "0x" + acc.toString(16).padStart(8, "0");
}

describe("DeviceRegistry: deployment and governance", function () {
  describe("deployment", function () {
    it("sets the admin, the token, the ERC-721 metadata and the EIP-712 domain", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      expect(await fx.registry.hasRole(await fx.registry.DEFAULT_ADMIN_ROLE(), fx.admin.address)).to.equal(
        true,
      );
      expect(await fx.registry.GUARDIAN_ROLE()).to.equal(id("GUARDIAN_ROLE"));
      expect(await fx.registry.DENYLIST_ROLE()).to.equal(id("DENYLIST_ROLE"));
      expect(await fx.registry.mesh()).to.equal(await fx.mesh.getAddress());
      expect(await fx.registry.name()).to.equal("Hexmesh Device");
      expect(await fx.registry.symbol()).to.equal("HXDEV");
      expect(await fx.registry.CELL_RESOLUTION()).to.equal(12n);
      expect(await fx.registry.MIN_GAIN()).to.equal(10n);
      expect(await fx.registry.MAX_GAIN()).to.equal(150n);
      expect(await fx.registry.MIN_ELEVATION()).to.equal(-500n);
      expect(await fx.registry.MAX_ELEVATION()).to.equal(1000n);
      expect(await fx.registry.collectedFees()).to.equal(0n);
      expect(await fx.registry.paused()).to.equal(false);
      const domain = await fx.registry.eip712Domain();
      expect(domain.name).to.equal(DOMAIN_NAME);
      expect(domain.version).to.equal(DOMAIN_VERSION);
      expect(domain.chainId).to.equal(fx.chainId);
      expect(domain.verifyingContract).to.equal(await fx.registry.getAddress());
    });

    it("refuses a zero admin or a zero token", async function () {
      const [admin] = await ethers.getSigners();
      const lib = await ethers.deployContract("P256Verifier");
      const factory = await ethers.getContractFactory("DeviceRegistry", {
        libraries: { P256Verifier: await lib.getAddress() },
      });
      await expect(factory.deploy(ZeroAddress, admin!.address)).to.be.revertedWithCustomError(
        factory,
        "RegistryZeroAddress",
      );
      await expect(factory.deploy(admin!.address, ZeroAddress)).to.be.revertedWithCustomError(
        factory,
        "RegistryZeroAddress",
      );
    });

    it("stays under the 24 KiB contract size limit", async function () {
      if (coverageRun) this.skip(); // instrumented bytecode is larger by design
      const fx = await networkHelpers.loadFixture(registryFixture);
      const code = await ethers.provider.getCode(await fx.registry.getAddress());
      expect((code.length - 2) / 2).to.be.lessThanOrEqual(24_576);
    });

    it("supports ERC-165 for ERC-721, AccessControl and IDeviceRegistry, nothing else", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const registryId = ownInterfaceId(
        (await ethers.getContractAt("IDeviceRegistry", await fx.registry.getAddress())).interface,
      );
      for (const supported of [ERC721_ID, "0x5b5e139f", ERC165_ID, "0x7965db0b", registryId]) {
        expect(await fx.registry.supportsInterface(supported), supported).to.equal(true);
      }
      expect(await fx.registry.supportsInterface("0x780e9d63")).to.equal(false); // not enumerable
      expect(await fx.registry.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("makers", function () {
    it("adds a maker with its signing key and allowance", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const key = Wallet.createRandom();
      await expect(fx.registry.connect(fx.admin).addMaker(3, key.address, 25))
        .to.emit(fx.registry, "MakerAdded")
        .withArgs(3, key.address, 25);
      const maker = await fx.registry.makerInfo(3);
      expect(maker.signer).to.equal(key.address);
      expect(maker.allowance).to.equal(25n);
      expect(maker.onboarded).to.equal(0n);
      expect(maker.status).to.equal(MakerStatus.Active);
      expect((await fx.registry.makerInfo(4)).status).to.equal(MakerStatus.None);
    });

    it("refuses a zero key, a used id (even revoked) and non-admins", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await expect(fx.registry.connect(fx.admin).addMaker(3, ZeroAddress, 1)).to.be.revertedWithCustomError(
        fx.registry,
        "RegistryZeroAddress",
      );
      await expect(fx.registry.connect(fx.admin).addMaker(MAKER_ID, fx.alice.address, 1))
        .to.be.revertedWithCustomError(fx.registry, "RegistryMakerAlreadyExists")
        .withArgs(MAKER_ID);
      await fx.registry.connect(fx.admin).revokeMaker(MAKER_ID);
      await expect(fx.registry.connect(fx.admin).addMaker(MAKER_ID, fx.alice.address, 1))
        .to.be.revertedWithCustomError(fx.registry, "RegistryMakerAlreadyExists")
        .withArgs(MAKER_ID);
      await expect(fx.registry.connect(fx.guardian).addMaker(3, fx.alice.address, 1))
        .to.be.revertedWithCustomError(fx.registry, "AccessControlUnauthorizedAccount")
        .withArgs(fx.guardian.address, ethers.ZeroHash);
    });

    it("raises the allowance, up to the 48-bit limit", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await expect(fx.registry.connect(fx.admin).raiseMakerAllowance(MAKER_ID, 500))
        .to.emit(fx.registry, "MakerAllowanceRaised")
        .withArgs(MAKER_ID, 500, MAKER_ALLOWANCE + 500n);
      const max = 2n ** 48n - 1n;
      await fx.registry.connect(fx.admin).raiseMakerAllowance(MAKER_ID, max - MAKER_ALLOWANCE - 500n);
      expect((await fx.registry.makerInfo(MAKER_ID)).allowance).to.equal(max);
      await expect(fx.registry.connect(fx.admin).raiseMakerAllowance(MAKER_ID, 1))
        .to.be.revertedWithCustomError(fx.registry, "RegistryMakerAllowanceOverflow")
        .withArgs(MAKER_ID, max + 1n);
    });

    it("refuses raising unknown or revoked makers, and non-admins", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await expect(fx.registry.connect(fx.admin).raiseMakerAllowance(9, 1))
        .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownMaker")
        .withArgs(9);
      await expect(fx.registry.connect(fx.alice).raiseMakerAllowance(MAKER_ID, 1))
        .to.be.revertedWithCustomError(fx.registry, "AccessControlUnauthorizedAccount")
        .withArgs(fx.alice.address, ethers.ZeroHash);
      await fx.registry.connect(fx.admin).revokeMaker(MAKER_ID);
      await expect(fx.registry.connect(fx.admin).raiseMakerAllowance(MAKER_ID, 1))
        .to.be.revertedWithCustomError(fx.registry, "RegistryMakerIsRevoked")
        .withArgs(MAKER_ID);
    });

    it("revokes a maker for good; its devices stay", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await fx.mesh.connect(fx.alice).approve(await fx.registry.getAddress(), HOTSPOT_FEE);
      const device = secp256k1Device();
      const call = await prepareOnboard(fx, { device, owner: fx.alice.address });
      await fx.registry.connect(fx.alice).onboard(call.req, call.makerSignature, call.deviceSignature);
      await expect(fx.registry.connect(fx.admin).revokeMaker(MAKER_ID))
        .to.emit(fx.registry, "MakerRevoked")
        .withArgs(MAKER_ID);
      expect((await fx.registry.makerInfo(MAKER_ID)).status).to.equal(MakerStatus.Revoked);
      expect(await fx.registry.ownerOf(deviceIdOf(device))).to.equal(fx.alice.address);
      expect(await fx.registry.statusOf(deviceIdOf(device))).to.equal(DeviceStatus.Active);
      await expect(fx.registry.connect(fx.admin).revokeMaker(MAKER_ID))
        .to.be.revertedWithCustomError(fx.registry, "RegistryMakerIsRevoked")
        .withArgs(MAKER_ID);
      await expect(fx.registry.connect(fx.admin).revokeMaker(8))
        .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownMaker")
        .withArgs(8);
      await expect(fx.registry.connect(fx.denylister).revokeMaker(MAKER_ID))
        .to.be.revertedWithCustomError(fx.registry, "AccessControlUnauthorizedAccount")
        .withArgs(fx.denylister.address, ethers.ZeroHash);
    });

    it("lets only the maker's current key rotate it", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const makerSigner = fx.makerKey.connect(ethers.provider);
      await fx.alice.sendTransaction({ to: makerSigner.address, value: 10n ** 17n });
      const next = Wallet.createRandom();
      await expect(fx.registry.connect(fx.admin).rotateMakerKey(MAKER_ID, next.address))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotMakerSigner")
        .withArgs(MAKER_ID, fx.admin.address);
      await expect(
        fx.registry.connect(makerSigner).rotateMakerKey(MAKER_ID, ZeroAddress),
      ).to.be.revertedWithCustomError(fx.registry, "RegistryZeroAddress");
      await expect(fx.registry.connect(makerSigner).rotateMakerKey(MAKER_ID, next.address))
        .to.emit(fx.registry, "MakerKeyRotated")
        .withArgs(MAKER_ID, makerSigner.address, next.address);
      expect((await fx.registry.makerInfo(MAKER_ID)).signer).to.equal(next.address);
      await expect(fx.registry.connect(makerSigner).rotateMakerKey(MAKER_ID, makerSigner.address))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotMakerSigner")
        .withArgs(MAKER_ID, makerSigner.address);
      await expect(fx.registry.connect(makerSigner).rotateMakerKey(5, next.address))
        .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownMaker")
        .withArgs(5);
    });

    it("refuses rotation for a revoked maker", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const makerSigner = fx.makerKey.connect(ethers.provider);
      await fx.alice.sendTransaction({ to: makerSigner.address, value: 10n ** 17n });
      await fx.registry.connect(fx.admin).revokeMaker(MAKER_ID);
      await expect(fx.registry.connect(makerSigner).rotateMakerKey(MAKER_ID, fx.alice.address))
        .to.be.revertedWithCustomError(fx.registry, "RegistryMakerIsRevoked")
        .withArgs(MAKER_ID);
    });
  });

  describe("device classes and fees", function () {
    it("configures a class and the assert fee, admin only", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      await expect(
        fx.registry
          .connect(fx.admin)
          .setDeviceClass(30, { enabled: true, subnetwork: 2, onboardingFee: 123n }),
      )
        .to.emit(fx.registry, "DeviceClassSet")
        .withArgs(30, true, 2, 123n);
      const cls = await fx.registry.deviceClassInfo(30);
      expect(cls.enabled).to.equal(true);
      expect(cls.subnetwork).to.equal(2n);
      expect(cls.onboardingFee).to.equal(123n);
      expect((await fx.registry.deviceClassInfo(CLASS_HOTSPOT)).onboardingFee).to.equal(HOTSPOT_FEE);
      expect((await fx.registry.deviceClassInfo(31)).enabled).to.equal(false);

      const previous = await fx.registry.assertFee();
      await expect(fx.registry.connect(fx.admin).setAssertFee(77n))
        .to.emit(fx.registry, "AssertFeeSet")
        .withArgs(previous, 77n);
      expect(await fx.registry.assertFee()).to.equal(77n);

      await expect(
        fx.registry
          .connect(fx.guardian)
          .setDeviceClass(30, { enabled: false, subnetwork: 0, onboardingFee: 0n }),
      )
        .to.be.revertedWithCustomError(fx.registry, "AccessControlUnauthorizedAccount")
        .withArgs(fx.guardian.address, ethers.ZeroHash);
      await expect(fx.registry.connect(fx.guardian).setAssertFee(1n))
        .to.be.revertedWithCustomError(fx.registry, "AccessControlUnauthorizedAccount")
        .withArgs(fx.guardian.address, ethers.ZeroHash);
    });
  });

  describe("pause", function () {
    it("is paused by the guardian only and unpaused by the guardian or the admin", async function () {
      const fx = await networkHelpers.loadFixture(registryFixture);
      const guardianRole = await fx.registry.GUARDIAN_ROLE();
      await expect(fx.registry.connect(fx.admin).pause())
        .to.be.revertedWithCustomError(fx.registry, "AccessControlUnauthorizedAccount")
        .withArgs(fx.admin.address, guardianRole);
      await expect(fx.registry.connect(fx.guardian).pause())
        .to.emit(fx.registry, "Paused")
        .withArgs(fx.guardian.address);
      await expect(fx.registry.connect(fx.guardian).pause()).to.be.revertedWithCustomError(
        fx.registry,
        "EnforcedPause",
      );
      await expect(fx.registry.connect(fx.alice).unpause())
        .to.be.revertedWithCustomError(fx.registry, "AccessControlUnauthorizedAccount")
        .withArgs(fx.alice.address, guardianRole);
      await expect(fx.registry.connect(fx.admin).unpause())
        .to.emit(fx.registry, "Unpaused")
        .withArgs(fx.admin.address);
      await expect(fx.registry.connect(fx.admin).unpause()).to.be.revertedWithCustomError(
        fx.registry,
        "ExpectedPause",
      );
      await fx.registry.connect(fx.guardian).pause();
      await expect(fx.registry.connect(fx.guardian).unpause())
        .to.emit(fx.registry, "Unpaused")
        .withArgs(fx.guardian.address);
    });
  });

  describe("the shared deploy helper", function () {
    it("deploys a working registry from any signer", async function () {
      const [, , , , , , , , deployer] = await ethers.getSigners();
      const fx = await networkHelpers.loadFixture(registryFixture);
      const registry = await deployRegistry(ethers, fx.admin.address, await fx.mesh.getAddress(), deployer);
      expect(await registry.hasRole(ethers.ZeroHash, fx.admin.address)).to.equal(true);
      expect(await registry.hasRole(ethers.ZeroHash, deployer!.address)).to.equal(false);
    });
  });
});
