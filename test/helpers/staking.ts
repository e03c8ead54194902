/**
 * Shared fixtures and signers for the staking vault tests and gas bench. No top-level side effects:
 * everything runs inside the functions, against the connection the caller passes in.
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { Time } from "@nomicfoundation/hardhat-network-helpers/types";
import type { Signature } from "ethers";

import { PERMIT_TYPES } from "@hexmesh/protocol";

import type { DeviceRegistryMock, MeshToken, StakingVault } from "../../typechain-types/index.js";

export const DAY = 86_400n;
export const EPOCH = DAY;
export const COOLDOWN = 7n * DAY;
export const PRECISION = 10n ** 18n;
export const GENESIS = 300_000_000n * PRECISION;

export const GUARDIAN_ROLE_NAME = "GUARDIAN_ROLE";
export const SLASHER_ROLE_NAME = "SLASHER_ROLE";
export const REWARDS_NOTIFIER_ROLE_NAME = "REWARDS_NOTIFIER_ROLE";

export interface StakingFixture {
  token: MeshToken;
  registry: DeviceRegistryMock;
  vault: StakingVault;
  admin: HardhatEthersSigner;
  guardian: HardhatEthersSigner;
  slasher: HardhatEthersSigner;
  notifier: HardhatEthersSigner;
  treasury: HardhatEthersSigner;
  stakers: HardhatEthersSigner[];
  outsider: HardhatEthersSigner;
}

/**
 * Deploys MESH (genesis at the treasury, the notifier as minter, standing in for the emissions
 * controller), a mock device registry and the vault, wires the roles and funds every staker.
 */
export async function deployStaking(
  ethers: HardhatEthers,
  opts: { stakerFunds?: bigint; rewardsDuration?: bigint; cooldown?: bigint } = {},
): Promise<StakingFixture> {
  const signers = await ethers.getSigners();
  const [deployer, admin, guardian, slasher, notifier, treasury, outsider, ...rest] = signers;
  if (!deployer || !admin || !guardian || !slasher || !notifier || !treasury || !outsider) {
    throw new Error("not enough signers");
  }
  const stakers = rest.slice(0, 8);
  const token = (await ethers.deployContract("MeshToken", [
    treasury.address,
    GENESIS,
    deployer.address,
  ])) as unknown as MeshToken;
  await token.connect(deployer).setMinter(notifier.address);
  const registry = (await ethers.deployContract("DeviceRegistryMock")) as unknown as DeviceRegistryMock;
  const vault = (await ethers.deployContract("StakingVault", [
    admin.address,
    await token.getAddress(),
    await registry.getAddress(),
    treasury.address,
    opts.rewardsDuration ?? EPOCH,
    opts.cooldown ?? COOLDOWN,
  ])) as unknown as StakingVault;
  await vault.connect(admin).grantRole(await vault.GUARDIAN_ROLE(), guardian.address);
  await vault.connect(admin).grantRole(await vault.SLASHER_ROLE(), slasher.address);
  await vault.connect(admin).grantRole(await vault.REWARDS_NOTIFIER_ROLE(), notifier.address);
  const funds = opts.stakerFunds ?? 1_000_000n * PRECISION;
  for (const s of stakers) await token.connect(treasury).transfer(s.address, funds);
  return { token, registry, vault, admin, guardian, slasher, notifier, treasury, stakers, outsider };
}

/** The emissions controller's move: mint `amount` straight to the vault, then notify it. */
export async function fundAndNotify(fx: StakingFixture, amount: bigint) {
  await fx.token.connect(fx.notifier).mint(await fx.vault.getAddress(), amount);
  return fx.vault.connect(fx.notifier).notifyRewards(amount);
}

/** Approves exactly `amount` and stakes it. */
export async function approveAndStake(fx: StakingFixture, staker: HardhatEthersSigner, amount: bigint) {
  await fx.token.connect(staker).approve(await fx.vault.getAddress(), amount);
  return fx.vault.connect(staker).stake(amount);
}

/** An EIP-2612 permit signed off chain by `owner` for the vault, as a wallet would sign it. */
export async function signPermit(
  ethers: HardhatEthers,
  token: MeshToken,
  owner: HardhatEthersSigner,
  spender: string,
  value: bigint,
  deadline: bigint,
): Promise<Signature> {
  const { chainId } = await ethers.provider.getNetwork();
  const domain = {
    name: await token.name(),
    version: "1",
    chainId,
    verifyingContract: await token.getAddress(),
  };
  const nonce = await token.nonces(owner.address);
  const sig = await owner.signTypedData(domain, PERMIT_TYPES, {
    owner: owner.address,
    spender,
    value,
    nonce,
    deadline,
  });
  return ethers.Signature.from(sig);
}

/** Receipt gas budgets from the SPEC (strictly below). */
export const GAS_BUDGETS = {
  "staking.stake.first": 120_000n,
  "staking.stake.next": 80_000n,
  "staking.requestUnstake": 80_000n,
  "staking.withdraw": 80_000n,
} as const;

/**
 * The gas scenario shared by `npm run bench:gas` and the budget test. A vault in use: another staker
 * is in, a reward stream runs and time passes between calls, so every measured call brings the
 * accumulator forward (the dearer, realistic case). Approvals are exact (no infinite allowance) and
 * the staker ends with an empty wallet, so the withdrawal pays for a fresh balance slot.
 */
export async function measureStakingGas(ethers: HardhatEthers, time: Time): Promise<Record<string, bigint>> {
  const fx = await deployStaking(ethers, { stakerFunds: 1_000n * PRECISION });
  const [bob, alice, carol] = fx.stakers;
  if (!bob || !alice || !carol) throw new Error("not enough stakers");
  const vaultAddress = await fx.vault.getAddress();

  await approveAndStake(fx, bob, 500n * PRECISION);
  await fundAndNotify(fx, 10_000n * PRECISION);
  await time.increase(3600);

  await fx.token.connect(alice).approve(vaultAddress, 600n * PRECISION);
  const first = await (await fx.vault.connect(alice).stake(600n * PRECISION)).wait();
  await time.increase(3600);
  await fx.token.connect(alice).approve(vaultAddress, 400n * PRECISION);
  const next = await (await fx.vault.connect(alice).stake(400n * PRECISION)).wait();

  await time.increase(3600);
  const deadline = BigInt(await time.latest()) + 3600n;
  const sig = await signPermit(ethers, fx.token, carol, vaultAddress, 700n * PRECISION, deadline);
  const permit = await (
    await fx.vault.connect(carol).stakeWithPermit(700n * PRECISION, deadline, sig.v, sig.r, sig.s)
  ).wait();

  await time.increase(3600);
  const request = await (await fx.vault.connect(alice).requestUnstake(300n * PRECISION)).wait();
  await time.increase(3600);
  const claim = await (await fx.vault.connect(alice).claimRewards()).wait();
  // Spend the claimed rewards too, so the withdrawal credits an empty balance.
  await fx.token.connect(alice).transfer(fx.treasury.address, await fx.token.balanceOf(alice.address));
  await time.increase(COOLDOWN);
  const requestId = (await fx.vault.nextRequestId(alice.address)) - 1n;
  const withdraw = await (await fx.vault.connect(alice).withdraw(requestId)).wait();

  return {
    "staking.stake.first": first!.gasUsed,
    "staking.stake.next": next!.gasUsed,
    "staking.stakeWithPermit": permit!.gasUsed,
    "staking.requestUnstake": request!.gasUsed,
    "staking.withdraw": withdraw!.gasUsed,
    "staking.claimRewards": claim!.gasUsed,
  };
}
