import { network } from "hardhat";

import type { GasBench } from "./types.js";

const bench: GasBench = async () => {
  const { ethers } = await network.create();
  const [deployer, treasury, alice, bob] = await ethers.getSigners();
  const token = await ethers.deployContract("MeshToken", [
    treasury!.address,
    ethers.parseEther("300000000"),
    deployer!.address,
  ]);
  const deploy = (await token.deploymentTransaction()!.wait())!.gasUsed;
  const first = await (await token.connect(treasury!).transfer(alice!.address, 1000n)).wait();
  const next = await (await token.connect(treasury!).transfer(alice!.address, 1000n)).wait();
  const toNew = await (await token.connect(alice!).transfer(bob!.address, 10n)).wait();
  return {
    "token.deploy": deploy,
    "token.transfer.toNewHolder": first!.gasUsed,
    "token.transfer.toExistingHolder": next!.gasUsed,
    "token.transfer.partialToNewHolder": toNew!.gasUsed,
  };
};
export default bench;
