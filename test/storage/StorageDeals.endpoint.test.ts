import { expect } from "chai";

import { createRegistryNetwork } from "../helpers/registryFixture.js";
import { CLASS_STORAGE, deployStorage, type StorageSystem } from "../helpers/storage.js";

const { ethers, networkHelpers } = await createRegistryNetwork();
const { loadFixture } = networkHelpers;

async function fixture(): Promise<StorageSystem> {
  return deployStorage(ethers, networkHelpers);
}

const URL = "https://provider.example:8710";

describe("StorageDeals: provider endpoints", function () {
  it("the owner of a storage device sets, replaces and clears its endpoint; anyone reads it", async function () {
    const fx = await loadFixture(fixture);
    expect(await fx.deals.endpointOf(fx.storageDevice)).to.equal("");
    await expect(fx.deals.connect(fx.provider).setEndpoint(fx.storageDevice, URL))
      .to.emit(fx.deals, "EndpointSet")
      .withArgs(fx.storageDevice, fx.provider.address, URL);
    expect(await fx.deals.endpointOf(fx.storageDevice)).to.equal(URL);
    const longest = "http://" + "a".repeat(256 - 7);
    await expect(fx.deals.connect(fx.provider).setEndpoint(fx.storageDevice, longest))
      .to.emit(fx.deals, "EndpointSet")
      .withArgs(fx.storageDevice, fx.provider.address, longest);
    expect(await fx.deals.endpointOf(fx.storageDevice)).to.equal(longest);
    await expect(fx.deals.connect(fx.provider).setEndpoint(fx.storageDevice, ""))
      .to.emit(fx.deals, "EndpointSet")
      .withArgs(fx.storageDevice, fx.provider.address, "");
    expect(await fx.deals.endpointOf(fx.storageDevice)).to.equal("");
  });

  it("keeps endpoints per device: a second device of the same owner has its own", async function () {
    const fx = await loadFixture(fixture);
    const second = await fx.onboard(fx.provider.address, CLASS_STORAGE);
    await fx.deals.connect(fx.provider).setEndpoint(fx.storageDevice, URL);
    await fx.deals.connect(fx.provider).setEndpoint(second, "http://127.0.0.1:9000");
    expect(await fx.deals.endpointOf(fx.storageDevice)).to.equal(URL);
    expect(await fx.deals.endpointOf(second)).to.equal("http://127.0.0.1:9000");
  });

  it("refuses a URL over 256 bytes (counted in bytes, not characters)", async function () {
    const fx = await loadFixture(fixture);
    await expect(fx.deals.connect(fx.provider).setEndpoint(fx.storageDevice, "h".repeat(257)))
      .to.be.revertedWithCustomError(fx.deals, "StorageEndpointTooLong")
      .withArgs(257n, 256n);
    // 129 two-byte characters: 258 bytes.
    await expect(fx.deals.connect(fx.provider).setEndpoint(fx.storageDevice, "é".repeat(129)))
      .to.be.revertedWithCustomError(fx.deals, "StorageEndpointTooLong")
      .withArgs(258n, 256n);
    expect(await fx.deals.endpointOf(fx.storageDevice)).to.equal("");
  });

  it("refuses anyone but the device's owner, and the new owner takes over after a transfer", async function () {
    const fx = await loadFixture(fixture);
    await expect(fx.deals.connect(fx.outsider).setEndpoint(fx.storageDevice, URL))
      .to.be.revertedWithCustomError(fx.deals, "StorageNotDeviceOwner")
      .withArgs(fx.storageDevice, fx.outsider.address);
    await fx.deals.connect(fx.provider).setEndpoint(fx.storageDevice, URL);
    await fx.registry
      .connect(fx.provider)
      .transferFrom(fx.provider.address, fx.outsider.address, fx.storageDevice);
    await expect(fx.deals.connect(fx.provider).setEndpoint(fx.storageDevice, "http://old"))
      .to.be.revertedWithCustomError(fx.deals, "StorageNotDeviceOwner")
      .withArgs(fx.storageDevice, fx.provider.address);
    await expect(fx.deals.connect(fx.outsider).setEndpoint(fx.storageDevice, "http://new"))
      .to.emit(fx.deals, "EndpointSet")
      .withArgs(fx.storageDevice, fx.outsider.address, "http://new");
  });

  it("refuses coverage devices, retired devices and ids never issued", async function () {
    const fx = await loadFixture(fixture);
    await expect(fx.deals.connect(fx.outsider).setEndpoint(fx.coverageDevice, URL))
      .to.be.revertedWithCustomError(fx.deals, "StorageNotStorageDevice")
      .withArgs(fx.coverageDevice, 1n);
    await fx.registry.connect(fx.provider).retire(fx.storageDevice);
    await expect(fx.deals.connect(fx.provider).setEndpoint(fx.storageDevice, URL))
      .to.be.revertedWithCustomError(fx.deals, "StorageNotDeviceOwner")
      .withArgs(fx.storageDevice, fx.provider.address);
    await expect(fx.deals.connect(fx.provider).setEndpoint(999n, URL))
      .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownDevice")
      .withArgs(999n);
  });
});
