/**
 * Deploys MESH on the in-process chain and prints what a wallet would see.
 * The quick-start's main job until the full demo (`npm run demo`) lands.
 */
import { network } from "hardhat";

const { ethers } = await network.create();
const [deployer, treasury] = await ethers.getSigners();

const genesis = ethers.parseEther("300000000");
const token = await ethers.deployContract("MeshToken", [treasury!.address, genesis, deployer!.address]);
const receipt = await token.deploymentTransaction()!.wait();

const fmt = (v: bigint) => `${ethers.formatEther(v)} MESH`;
console.log(`MESH deployed at ${await token.getAddress()} (gas ${receipt!.gasUsed})`);
console.log(`  name / symbol : ${await token.name()} / ${await token.symbol()}`);
console.log(`  cap           : ${fmt(await token.cap())}`);
console.log(`  total supply  : ${fmt(await token.totalSupply())}`);
console.log(`  treasury      : ${treasury!.address} holds ${fmt(await token.balanceOf(treasury!.address))}`);
console.log(`  clock mode    : ${await token.CLOCK_MODE()}`);
