/**
 * clock.mode "chain": an oracle on a local node whose time is moved stamps reports and publishes
 * entropy in the chain's time, with no hand-set offset; it needs a chain; and an oracle joining a
 * running chain is told which first epoch it derived from the chain (chain.firstEpoch not set).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { network } from "hardhat";

import { ConfigError, startService, validateConfig, type RunningService } from "@hexmesh/oracle";
import { OracleClient } from "@hexmesh/oracle/api/client";
import { encodeReport, signWitness, type Hex } from "@hexmesh/protocol";

import { suiteAddresses } from "../../../deploy/lib/suite.js";
import { onboardFleet } from "../../../scripts/demo/fleet.js";
import { serveJsonRpc, type JsonRpcEndpoint } from "../../../scripts/demo/rpc.js";
import { deployDemoSuite, type Suite } from "../../../scripts/demo/suite.js";

describe("oracle service: chain-time clock for local nodes whose time moves", function () {
  this.timeout(120_000);

  let suite: Suite;
  let rpc: JsonRpcEndpoint;
  let service: RunningService | undefined;
  let dir: string;

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-chain-clock-"));
    const connection = await network.create();
    suite = await deployDemoSuite(connection, { approveMakerAtDeploy: true });
    rpc = await serveJsonRpc(connection.provider);
  });

  after(async function () {
    await service?.close();
    await rpc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = async (clock: Record<string, unknown>, withChain = true) => {
    const { registry, vault, controller, distributor } = await suiteAddresses(suite);
    return validateConfig({
      listen: { host: "127.0.0.1", port: 0 },
      store: { backend: "sqlite", path: path.join(dir, `oracle-${Date.now()}.sqlite`) },
      ...(withChain
        ? {
            chain: {
              rpcUrl: rpc.url,
              addresses: { registry, vault, controller, distributor },
              fromBlock: suite.deployBlock,
            },
          }
        : {}),
      clock,
      log: { level: "silent" },
    });
  };

  it("refuses the chain clock without a chain", async function () {
    const err = await startService(await config({ mode: "chain" }, false)).then(
      () => expect.fail("started"),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.match(/clock.mode "chain" needs chain.rpcUrl/);
  });

  it("stamps reports and publishes entropy in chain time, following a clock moved by days", async function () {
    // A registered device: the oracle checks report signatures against the registry's keys at ingest.
    const [device] = await onboardFleet(suite, (await suite.ethers.getSigners()).slice(4, 5), {
      devices: 1,
      p256Share: 0,
      spacingM: 1_000,
      seed: "chain clock",
    });
    // The node's clock moves two days ahead of the host's.
    await suite.time.increaseTo(BigInt(Math.floor(Date.now() / 1000)) + 2n * 86_400n);
    service = await startService(await config({ mode: "chain" }));
    const oracle = new OracleClient(service.url);
    const chainNow = async () => Number((await suite.ethers.provider.getBlock("latest"))!.timestamp) * 1000;

    const signer = device!.signer;
    const domain = {
      chainId: suite.chainId,
      verifyingContract: (await suite.registry.getAddress()).toLowerCase() as Hex,
    };
    const witness = (n: number) =>
      encodeReport(
        signWitness(signer, domain, {
          heardPayload: `0x${n.toString(16).padStart(64, "0")}`,
          signal: -900,
          snr: 50,
          frequency: 903_900_000,
          dataRate: 2,
          timestamp: BigInt(Date.now()),
        }),
      );
    const first = await oracle.submitReport(witness(1));
    expect(Math.abs(first.receivedAt! - (await chainNow()))).to.be.lessThan(5_000);
    const entropy = await oracle.entropy();
    expect(Math.abs(entropy.timestamp * 1000 - (await chainNow()))).to.be.lessThan(65_000);

    // Another day on: the next block shows it, and the clock follows.
    await suite.time.increaseTo(BigInt(Math.floor((await chainNow()) / 1000)) + 86_400n);
    await new Promise((r) => setTimeout(r, 1_500));
    const second = await oracle.submitReport(witness(2));
    expect(second.receivedAt! - first.receivedAt!).to.be.greaterThan(86_400_000 - 5_000);
    expect(Math.abs(second.receivedAt! - (await chainNow()))).to.be.lessThan(5_000);
  });

  it("tells an oracle joining a running chain which setting decides its first epoch", async function () {
    await service?.close();
    service = await startService({
      ...(await config({ mode: "chain" })),
      oracleKey: suite.oracleKeys[0]!.privateKey,
    });
    await suite.time.increaseTo(suite.genesisTime + 5n * suite.epochLength + 600n); // past the close guard
    while ((await suite.controller.nextEpoch()) < 5n) await (await suite.controller.distribute(8)).wait();
    await new Promise((r) => setTimeout(r, 1_000));
    await service.epochs!.close(4n).then(
      () => expect.fail("closed epoch 4 without epoch 3"),
      (e: Error) =>
        expect(e.message).to.match(
          /epoch 3 has no stored result.*first epoch is 0, derived from the chain \(chain\.firstEpoch not set\)/,
        ),
    );
  });
});
