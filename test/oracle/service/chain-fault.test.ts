/**
 * Chain faults while the oracle posts: a real JSON-RPC node (Anvil) on localhost, persisted with
 * `--state` (Hardhat's node keeps nothing across a restart; Anvil dumps its state on shutdown and
 * loads it on start, so the chain survives the restart like a real node's database). The oracle
 * reaches the node through a small proxy that lets the test stop the node at exact moments:
 *
 *   A. the node is down when the post starts; it comes back while the aggregator retries: the
 *      root is posted, once;
 *   B. the node mines the postRoot transaction and dies before answering (the response is lost);
 *      after the restart the retry finds the root pending and does not send it again.
 *
 * In both cases the poster's nonce grows by exactly one and the distributor holds our root.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { id, JsonRpcProvider, NonceManager, Wallet, ZeroHash } from "ethers";

import { EpochRootAggregator, EpochService, OracleKey, type ChainContracts } from "@hexmesh/oracle";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import { OwnerMerkleTree, type Hex } from "@hexmesh/protocol";

import { MeshToken__factory, RewardsDistributor__factory } from "../../../typechain-types/index.js";
import { coverageRun } from "../../helpers/gas.js";
import { BIN, freePort, stopProcessGroup, waitForRpc } from "../../helpers/service.js";

// Anvil's first default account (public test key).
const DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const MESH = 10n ** 18n;

class Node {
  child: ChildProcess | undefined;
  out = "";
  /** A restart in the background (restartAfter), awaited by settled(): never left floating. */
  private restart: Promise<void> | null = null;
  constructor(
    readonly port: number,
    readonly stateFile: string,
  ) {}

  /** Starts the node again after `ms`, in the background. */
  restartAfter(ms: number): void {
    this.restart = new Promise<void>((r) => setTimeout(r, ms)).then(() => this.start());
    this.restart.catch(() => {}); // reported by settled(), not as an unhandled rejection
  }

  /** Waits for a background restart; throws its error, if it failed. */
  async settled(): Promise<void> {
    const r = this.restart;
    this.restart = null;
    await r;
  }

  async start(): Promise<void> {
    this.out = "";
    this.child = spawn(
      "npx",
      [
        "-y",
        "@foundry-rs/anvil@1.7.1",
        "--port",
        String(this.port),
        "--state",
        this.stateFile,
        "--preserve-historical-states",
      ],
      {
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, PATH: `${BIN}:${process.env.PATH}` },
      },
    );
    this.child.stdout?.on("data", (b: Buffer) => (this.out += b.toString()));
    this.child.stderr?.on("data", (b: Buffer) => (this.out += b.toString()));
    await waitForRpc(`http://127.0.0.1:${this.port}`, this.child, () => this.out, 90_000);
  }

  /** Waits, asking the node directly, until the transaction `hash` has a receipt. */
  async receipt(hash: string): Promise<void> {
    const direct = new JsonRpcProvider(`http://127.0.0.1:${this.port}`, undefined, { staticNetwork: true });
    try {
      for (let tries = 0; (await direct.send("eth_getTransactionReceipt", [hash])) === null; tries++) {
        if (tries === 100) throw new Error(`transaction ${hash} was not mined`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      direct.destroy();
    }
  }

  /**
   * Graceful stop (SIGINT): Anvil writes its state file on the way out. Waits for the whole process
   * group, Anvil included, not only the npx wrapper we spawned (it exits ~20 ms after the signal,
   * Anvil ~2 s later): a restart must not race the old node's dump or find its port still taken.
   */
  async stop(): Promise<void> {
    await stopProcessGroup(this.child, "SIGINT");
  }
}

type RpcMessage = { id?: unknown; method?: string; result?: unknown };

/** The transaction hashes the node returned for the eth_sendRawTransaction calls of a (batched) request. */
function sentHashes(request: Buffer, answer: Buffer): string[] {
  const list = (b: Buffer) => [JSON.parse(b.toString()) as RpcMessage | RpcMessage[]].flat();
  const sendIds = new Set(
    list(request)
      .filter((m) => m.method === "eth_sendRawTransaction")
      .map((m) => m.id),
  );
  return list(answer)
    .filter((m) => sendIds.has(m.id) && typeof m.result === "string")
    .map((m) => m.result as string);
}

/**
 * Forwards JSON-RPC to the node. `onSend` runs after the node answered an eth_sendRawTransaction
 * (with the request's and the answer's bodies) and before the answer is passed on; if it returns
 * true the answer is dropped (socket destroyed).
 */
function proxy(
  port: number,
  target: number,
  onSend: (request: Buffer, answer: Buffer) => Promise<boolean>,
): Promise<Server> {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (b: Buffer) => parts.push(b));
    req.on("end", () => {
      const body = Buffer.concat(parts);
      const isSend = body.toString().includes("eth_sendRawTransaction");
      const up = httpRequest(
        {
          host: "127.0.0.1",
          port: target,
          method: "POST",
          path: "/",
          headers: { "content-type": "application/json" },
        },
        (upRes) => {
          const back: Buffer[] = [];
          upRes.on("data", (b: Buffer) => back.push(b));
          upRes.on("end", () => {
            void (async () => {
              const answer = Buffer.concat(back);
              if (isSend && (await onSend(body, answer))) {
                req.socket.destroy();
                return;
              }
              res.writeHead(upRes.statusCode ?? 502, { "content-type": "application/json" });
              res.end(answer);
            })();
          });
        },
      );
      up.on("error", () => req.socket.destroy()); // node down: the connection drops
      up.end(body);
    });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

describe("service: chain faults while posting (Anvil on localhost, --state)", function () {
  this.timeout(300_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-chainfault-"));
  let node: Node;
  let server: Server;
  let dropNextSend = false;
  let store: SqliteStore;
  let provider: JsonRpcProvider;

  before(async function () {
    // Under --coverage the contracts deployed to Anvil are instrumented builds; this test is about the
    // oracle's posting across node faults, not contract code: the normal `hardhat test` runs it.
    if (coverageRun) this.skip();
    node = new Node(await freePort(), path.join(dir, "anvil-state.json"));
    await node.start();
    const proxyPort = await freePort();
    server = await proxy(proxyPort, node.port, async (request, answer) => {
      // Only a transaction the node took is the fault: a refused one ("nonce too low", say) goes
      // back to the oracle as it is, so the test fails with the node's own error.
      const hashes = sentHashes(request, answer);
      if (!dropNextSend || hashes.length === 0) return false;
      dropNextSend = false;
      // Anvil answers eth_sendRawTransaction when the transaction enters its pool and mines it just
      // after, so wait for the receipt: the fault is "mined, then the node died before answering",
      // not a stop before the block exists.
      for (const hash of hashes) await node.receipt(hash);
      await node.stop(); // the transaction is mined; the node dies before its answer gets out
      node.restartAfter(1_500);
      return true;
    });
    provider = new JsonRpcProvider(`http://127.0.0.1:${proxyPort}`, undefined, {
      staticNetwork: true,
      polling: true,
      pollingInterval: 200,
    });
    store = new SqliteStore({ path: path.join(dir, "oracle.sqlite") });
    await store.migrate();
  });

  after(async () => {
    provider?.destroy();
    await store?.close();
    server?.close();
    await node?.settled().catch(() => {}); // a failed restart was reported by the test itself
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("posts each epoch's root exactly once across node stops and restarts", async function () {
    const deployer = new NonceManager(new Wallet(DEPLOYER_KEY, provider));
    const admin = await deployer.getAddress();
    const oracles = [1, 2, 3]
      .map((i) => new Wallet(id(`chain fault oracle ${i}`)))
      .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
    const token = await new MeshToken__factory(deployer).deploy(admin, 1000n * MESH, admin);
    await token.waitForDeployment();
    const distributor = await new RewardsDistributor__factory(deployer).deploy(
      await token.getAddress(),
      id("hexmesh.coverage"),
      admin,
      admin,
      oracles.map((o) => o.address),
      2,
      3600,
    );
    await distributor.waitForDeployment();
    await (await distributor.grantRole(id("FUNDER_ROLE"), admin)).wait();
    await (await distributor.fundEpoch(0, 100n * MESH)).wait();
    await (await distributor.fundEpoch(1, 100n * MESH)).wait();

    // The poster: its own account, so its nonce counts exactly the transactions it sent.
    const poster = new Wallet(id("chain fault poster"), provider);
    await (await deployer.sendTransaction({ to: poster.address, value: MESH })).wait();
    const posting = { distributor: distributor.connect(poster) } as unknown as ChainContracts;
    const reading = { distributor } as unknown as ChainContracts;
    const service = new EpochService(store, reading, oracles[0]!, {
      fromBlock: 0,
      firstEpoch: 0n,
      retry: { attempts: 12, baseDelayMs: 200 },
    });

    const owners = (epoch: bigint) =>
      [1, 2, 3].map((i) => ({
        owner: `0x${(i * 7919).toString(16).padStart(40, "0")}` as Hex,
        amount: 0n,
        cumulative: BigInt(i) * MESH * (epoch + 1n),
      }));
    const storeEpoch = async (epoch: bigint) => {
      const o = owners(epoch);
      const tree = OwnerMerkleTree.build(o.map((x) => ({ owner: x.owner, amount: x.cumulative })));
      const root = {
        epoch,
        root: tree.root,
        totalCumulative: o.reduce((a, x) => a + x.cumulative, 0n),
        dataHash: id(`data ${epoch}`) as Hex,
      };
      await store.putEpochResult(
        {
          ...root,
          snapshotBlock: 1,
          summary: {
            reports: 0,
            valid: 0,
            beacons: 0,
            witnesses: 0,
            rejected: {},
            devices: 0,
            owners: 3,
            pool: "0",
            distributed: "0",
            dust: "0",
          },
          owners: o,
          computedAt: 0,
        },
        [],
      );
      // This oracle signs; a second oracle's signature arrives as `collect` would store it.
      const own = await service.sign(epoch);
      const req = await new EpochRootAggregator(distributor).request(root);
      const other = new OracleKey(oracles[1]!).sign(req.domain, req.value);
      await store.putSignature({ ...own, signer: other.signer, signature: other.signature });
      return tree.root;
    };

    // A: the node is down when the post starts and comes back while the aggregator retries.
    const root0 = await storeEpoch(0n);
    const nonce0 = await provider.getTransactionCount(poster.address);
    await node.stop();
    node.restartAfter(2_000);
    const a = await service.post(0n, posting);
    await node.settled();
    expect(a.status).to.equal("posted");
    expect(await provider.getTransactionCount(poster.address)).to.equal(nonce0 + 1);
    const [pendingEpoch, pendingRoot] = await distributor.pendingRoot();
    expect([pendingEpoch, pendingRoot]).to.deep.equal([0n, root0]);
    expect((await store.getPostStatus(0n))?.status).to.equal("posted");

    // Past the challenge window, so epoch 1 may be posted (promoting epoch 0). Anvil's clock goes on
    // from the block time set here, and it estimates the next post at its pending block's time.
    const [, , , readyAt] = await distributor.pendingRoot();
    await provider.send("evm_setNextBlockTimestamp", [Number(readyAt)]);
    await provider.send("evm_mine", []);
    expect(await distributor.pendingRoot()).to.deep.equal([0n, ZeroHash, 0n, 0n]);

    // B: the node mines postRoot and dies before answering; the retry finds it pending.
    const root1 = await storeEpoch(1n);
    const nonce1 = await provider.getTransactionCount(poster.address);
    dropNextSend = true;
    const b = await service.post(1n, posting);
    await node.settled();
    expect(dropNextSend).to.equal(false); // the fault was injected
    expect(b).to.deep.equal({ status: "skipped", state: "pending" });
    expect(await provider.getTransactionCount(poster.address)).to.equal(nonce1 + 1);
    const [e1, r1] = await distributor.pendingRoot();
    expect([e1, r1]).to.deep.equal([1n, root1]);
    const [liveEpoch, liveRoot] = await distributor.liveRoot();
    expect([liveEpoch, liveRoot]).to.deep.equal([0n, root0]);
    // Every post since the start, across both restarts: one RootPosted per epoch.
    const posted = await distributor.queryFilter(distributor.filters.RootPosted(), 0, "latest");
    expect(posted.map((ev) => ev.args[0])).to.deep.equal([0n, 1n]);
    console.log(
      `      node stopped twice and restarted from its --state file; epoch 0 ${a.status}, epoch 1 posted before the lost answer, retry ${b.status}`,
    );
  });
});
