/**
 * Catching up: `distribute` sent with a wallet's gas estimate made at an earlier block (the block of
 * the previous distribute: no time elapsed there) never runs out of gas, with ethers and with viem.
 * The cost depends on the block's time (MESH's supply checkpoint is pushed at a new timestamp, the
 * vault accrues and may pay the treasury only when time has passed), so such an estimate was up to
 * ~37k gas short; `distribute` now requires its worst case up front. And the `hexmesh catch-up` task
 * distributes every ended epoch in calls of at most 32, with progress.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, createWalletClient, custom, type EIP1193Provider } from "viem";

import { decodeContractError, EmissionsController__factory } from "@hexmesh/contracts";

import { deployDemoSuite, MESH, type Suite } from "../../scripts/demo/suite.js";
import catchUp from "../../tasks/catch-up.js";
import type { CommonArgs } from "../../tasks/lib/common.js";
import { coverageRun } from "../helpers/gas.js";

describe("catch-up: distribute with an estimate from an earlier block; the hexmesh catch-up task", function () {
  this.timeout(300_000);

  async function farBehind(
    epochs: bigint,
  ): Promise<{ suite: Suite; connection: Awaited<ReturnType<typeof network.create>> }> {
    const connection = await network.create();
    const suite = await deployDemoSuite(connection, { approveMakerAtDeploy: true });
    await suite.time.increaseTo(suite.genesisTime + epochs * suite.epochLength);
    return { suite, connection };
  }

  /** One block later, 12 s on: the transaction lands after the block the estimate was made at. */
  const nextBlock = async (suite: Suite) => {
    await suite.ethers.provider.send("evm_increaseTime", [12]);
    await suite.ethers.provider.send("evm_mine", []);
  };

  const reserveOf = async (suite: Suite, count: bigint) => {
    const c = suite.controller;
    const pools = BigInt((await c.pools()).length);
    return (await c.DISTRIBUTE_GAS_FIXED()) + count * pools * (await c.DISTRIBUTE_GAS_PER_FUNDING());
  };

  it("ethers: an estimate on the latest block, sent a block later, succeeds every time (nothing staked, then staked)", async function () {
    const { suite } = await farBehind(200n);
    const c = suite.controller.connect(suite.deployer);
    const data = c.interface.encodeFunctionData("distribute", [32]);
    for (let round = 0; round < 5; round++) {
      if (round === 2) {
        // A staker: the vault's accrual now writes its accumulator too.
        const [staker] = (await suite.ethers.getSigners()).slice(9);
        await (await suite.token.connect(suite.treasury).transfer(staker!.address, MESH(1_000))).wait();
        await (
          await suite.token.connect(staker!).approve(await suite.vault.getAddress(), MESH(1_000))
        ).wait();
        await (await suite.vault.connect(staker!).stake(MESH(1_000))).wait();
      }
      // What a wallet does on Anvil and most nodes: eth_estimateGas on the latest block.
      const estimate = BigInt(
        (await suite.ethers.provider.send("eth_estimateGas", [
          { from: suite.deployer.address, to: await c.getAddress(), data },
          "latest",
        ])) as string,
      );
      await nextBlock(suite);
      const receipt = (await (await c.distribute(32, { gasLimit: estimate })).wait())!;
      expect(receipt.status, `round ${round}`).to.equal(1);
      // The reserve is an upper bound of what the call uses (not under coverage instrumentation).
      if (!coverageRun) expect(receipt.gasUsed).to.be.at.most(await reserveOf(suite, 32n));
    }
    expect(await c.nextEpoch()).to.equal(160n);
  });

  it("viem: estimateContractGas on the latest block, then writeContract with that gas a block later", async function () {
    const { suite, connection } = await farBehind(100n);
    const provider = connection.provider as unknown as EIP1193Provider;
    const account = suite.deployer.address as `0x${string}`;
    const publicClient = createPublicClient({ transport: custom(provider) });
    const walletClient = createWalletClient({ account, transport: custom(provider) });
    const address = (await suite.controller.getAddress()) as `0x${string}`;
    const abi = EmissionsController__factory.abi;
    for (let round = 0; round < 3; round++) {
      const gas = await publicClient.estimateContractGas({
        address,
        abi,
        functionName: "distribute",
        args: [32n],
        account,
        blockTag: "latest",
      });
      await nextBlock(suite);
      const hash = await walletClient.writeContract({
        address,
        abi,
        functionName: "distribute",
        args: [32n],
        gas,
        chain: null,
      });
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      expect(receipt.status, `round ${round}`).to.equal("success");
    }
    expect(await suite.controller.nextEpoch()).to.equal(96n);
  });

  it("a gas limit under the reserve is refused up front, by name", async function () {
    const { suite } = await farBehind(10n);
    const reserve = await reserveOf(suite, 10n);
    const err = await suite.controller
      .connect(suite.deployer)
      .distribute(32, { gasLimit: reserve - 1n })
      .then(
        () => expect.fail("distribute ran under its reserve"),
        (e: unknown) => e,
      );
    const decoded = decodeContractError(err);
    expect(decoded?.name).to.equal("EmissionsGasReserveTooLow");
    expect(BigInt(decoded!.args.reserve!)).to.equal(reserve);
    expect(BigInt(decoded!.args.gasLeft!)).to.be.lessThan(reserve);
  });

  it("hexmesh catch-up distributes every ended epoch in calls of at most 32, with progress, then says there is nothing to do", async function () {
    const { suite, connection } = await farBehind(70n);
    const args: CommonArgs & { maxCalls: string } = {
      deploymentId: "",
      token: await suite.token.getAddress(),
      registry: await suite.registry.getAddress(),
      vault: await suite.vault.getAddress(),
      distributor: await suite.distributor.getAddress(),
      controller: await suite.controller.getAddress(),
      credits: "",
      account: "",
      dryRun: false,
      maxCalls: "",
    };
    const hre = {
      network: { getOrCreate: async () => connection },
      config: { paths: { ignition: "deploy" } },
    };
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(" "));
    let first: Awaited<ReturnType<typeof catchUp>>;
    let again: Awaited<ReturnType<typeof catchUp>>;
    try {
      first = await catchUp({ ...args, maxCalls: "2" }, hre as never);
      expect(first).to.deep.include({ distributed: 64n, calls: 2, nextEpoch: 64n });
      expect(lines.join("\n")).to.match(
        /70 ended epochs to distribute \(0 to 69\): 3 distribute call\(s\) of at most 32/,
      );
      expect(lines.join("\n")).to.match(/2\/3: epochs 32 to 63 distributed \(64\/70\)/);
      expect(lines.join("\n")).to.match(/6 more ended epochs wait: run catch-up again/);
      again = await catchUp(args, hre as never);
      expect(again).to.deep.include({ distributed: 6n, calls: 1, nextEpoch: 70n });
      expect(lines.join("\n")).to.match(/caught up: epochs 64 to 69 distributed; next is 70/);
      const none = await catchUp(args, hre as never);
      expect(none).to.deep.include({ distributed: 0n, calls: 0 });
      expect(lines.at(-1)).to.match(/nothing to distribute: every ended epoch is distributed \(next is 70/);
      await catchUp({ ...args, controller: "", deploymentId: "none" }, hre as never).then(
        () => expect.fail("ran without a controller"),
        (e: Error) => expect(e.message).to.match(/names no EmissionsController: pass --controller/),
      );
      await catchUp({ ...args, maxCalls: "0" }, hre as never).then(
        () => expect.fail("--max-calls 0 accepted"),
        (e: Error) => expect(e.message).to.match(/--max-calls must be a positive integer/),
      );
    } finally {
      console.log = log;
    }
    expect(await suite.controller.nextEpoch()).to.equal(70n);
  });
});
