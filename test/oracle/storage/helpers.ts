/**
 * Storage oracle test helpers: a storage system with the storage subnetwork's distributor (3 oracles,
 * threshold 2) and StorageSuspensions wired into StorageDeals, and range servers on localhost that
 * answer `GET /v1/pieces/:root/range` honestly, with an HTTP error, or with a corrupted leaf.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import type { Wallet } from "ethers";

import { buildPieceProofs, pieceRangeAnswer, pieceRoot } from "@hexmesh/protocol";

import type { RewardsDistributor, StorageSuspensions } from "../../../typechain-types/index.js";
import { byAddress, oracleWallets } from "../../helpers/rewards.js";
import { BOND, CLASS_STORAGE, deployStorage, type StorageSystem } from "../../helpers/storage.js";

export { serveOracleApi } from "../../helpers/service.js";

export type RangeBehaviour = "honest" | "refuse" | "corrupt" | "hang";

export interface RangeServer {
  readonly url: string;
  behaviour: RangeBehaviour;
  readonly requests: string[];
  close(): Promise<void>;
}

/** Serves the given pieces' ranges (by root) as a provider agent does, misbehaving on demand. */
export async function startRangeServer(
  pieces: readonly Uint8Array[],
  behaviour: RangeBehaviour,
): Promise<RangeServer> {
  const byRoot = new Map(pieces.map((p) => [pieceRoot(p).root.toLowerCase(), p]));
  const requests: string[] = [];
  const state = { behaviour };
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const url = new URL(req.url ?? "/", "http://x");
    const m = /^\/v1\/pieces\/(0x[0-9a-fA-F]{64})\/range$/.exec(url.pathname);
    const data = m ? byRoot.get(m[1]!.toLowerCase()) : undefined;
    if (state.behaviour === "hang") return; // never answers
    if (state.behaviour === "refuse" || data === undefined) {
      res.writeHead(state.behaviour === "refuse" ? 503 : 404).end('{"error":"unavailable"}');
      return;
    }
    const leaf = Number(url.searchParams.get("leaf"));
    const count = Number(url.searchParams.get("count"));
    const leaves = Array.from({ length: count }, (_, i) => leaf + i);
    const { piece, proofs } = buildPieceProofs(data, leaves);
    if (state.behaviour === "corrupt") {
      const first = proofs[0]!;
      const flipped = (parseInt(first.leaf.slice(2, 4), 16) ^ 0xff).toString(16).padStart(2, "0");
      proofs[0] = { ...first, leaf: `0x${flipped}${first.leaf.slice(4)}` };
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(pieceRangeAnswer(piece.root, piece.size, leaf, proofs)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(b: RangeBehaviour) {
      state.behaviour = b;
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface OracleStorageSystem extends StorageSystem {
  distributor: RewardsDistributor;
  suspensions: StorageSuspensions;
  oracles: Wallet[];
  chainId: bigint;
  /** A second provider's (the outsider's) bonded storage device. */
  secondDevice: bigint;
}

export const STORAGE_SUBNET = "0x" + "33".repeat(32);

export async function deployOracleStorage(
  ethers: StorageSystem["ethers"],
  helpers: StorageSystem["helpers"],
): Promise<OracleStorageSystem> {
  const fx = await deployStorage(ethers, helpers);
  const oracles = byAddress(oracleWallets(3, "hexmesh storage oracle"));
  const distributor = (await ethers.deployContract("RewardsDistributor", [
    await fx.token.getAddress(),
    STORAGE_SUBNET,
    fx.admin.address,
    fx.admin.address,
    oracles.map((o) => o.address),
    2,
    3600n,
  ])) as unknown as RewardsDistributor;
  const suspensions = (await ethers.deployContract("StorageSuspensions", [
    await distributor.getAddress(),
  ])) as unknown as StorageSuspensions;
  await fx.deals.connect(fx.admin).setSuspensions(await suspensions.getAddress());
  const secondDevice = await fx.onboard(fx.outsider.address, CLASS_STORAGE);
  // The outsider also owns a coverage device: its bond covers both.
  await fx.token.connect(fx.outsider).approve(await fx.vault.getAddress(), 2n * BOND);
  await fx.vault.connect(fx.outsider).stake(2n * BOND);
  await fx.token.connect(fx.outsider).approve(await fx.deals.getAddress(), 10n ** 24n);
  const { chainId } = await ethers.provider.getNetwork();
  return { ...fx, distributor, suspensions, oracles, chainId, secondDevice };
}

/** Random piece contents (a partial last leaf). */
export function randomPiece(bytes: number): Uint8Array {
  return new Uint8Array(randomBytes(bytes));
}
