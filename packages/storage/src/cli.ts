/**
 * hexmesh-storage: the storage provider agent and the client commands.
 *
 *   provider start --config FILE                      run the provider agent (HTTP API + chain loop)
 *   provider import FILE --config FILE [--piece-size N]
 *                                                     store a local file's pieces (trees on every core)
 *   upload FILE --provider URL [--piece-size N] [--manifest OUT]
 *                                                     cut FILE into pieces, root them locally, upload;
 *                                                     print the manifest (roots, sizes, offsets)
 *   download ROOT --provider URL --out FILE            download a piece, verify its root
 *   download --manifest FILE --provider URL --out FILE download a whole file, verify every piece
 *   deal create --device ID                           propose a data set to a storage device
 *   deal add-pieces ID --manifest FILE                add a manifest's pieces (locks 30 days of rate)
 *   deal fund ID --credits N                          lock N more credits (micro-USD)
 *   deal status ID [--from-block N] [--oracle URL]    state, proven periods, faults, paid credits
 *
 * Deal commands take the chain from --rpc / HEXMESH_RPC_URL and StorageDeals from --deals /
 * HEXMESH_STORAGE_DEALS; the client's key from HEXMESH_CLIENT_KEY or HEXMESH_KEYSTORE (+ _PASSWORD);
 * the agent's from HEXMESH_PROVIDER_KEY or the keystore.
 * Exit codes: 0 done; 1 refused (an error code on stderr: root_mismatch, unknown_piece, a contract
 * revert...); 2 bad arguments, configuration or files.
 */
import { readFile, stat, writeFile } from "node:fs/promises";

import { Command, InvalidArgumentError } from "commander";
import { JsonRpcProvider } from "ethers";

import { ContractRevertError } from "@hexmesh/contracts";

import { DEFAULT_PIECE_SIZE, downloadFile, downloadPiece, uploadFile, type Manifest } from "./client.js";
import { loadProviderConfig } from "./config.js";
import { addDealPieces, createDeal, dealsAt, dealStatus, fundDeal } from "./deal.js";
import { StorageError, UsageError } from "./errors.js";
import { loadSigner } from "./keys.js";
import { startProvider } from "./provider.js";
import { parseRoot, PieceStore } from "./store.js";

const print = (o: unknown) =>
  console.log(JSON.stringify(o, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2));

function positiveInt(v: string): number {
  if (!/^[1-9][0-9]{0,14}$/.test(v)) throw new InvalidArgumentError("must be a positive integer");
  return Number(v);
}

function uint(v: string): bigint {
  if (!/^(0|[1-9][0-9]{0,77})$/.test(v)) throw new InvalidArgumentError("must be a non-negative integer");
  return BigInt(v);
}

async function readManifest(file: string): Promise<Manifest> {
  let m: Manifest;
  try {
    m = JSON.parse(await readFile(file, "utf8")) as Manifest;
  } catch (e) {
    throw new UsageError(`cannot read the manifest ${file}: ${(e as Error).message}`);
  }
  if (
    !Array.isArray(m.pieces) ||
    m.pieces.some((p) => typeof p.root !== "string" || !Number.isSafeInteger(p.size))
  ) {
    throw new UsageError(`${file} is not a manifest (upload --manifest writes one)`);
  }
  for (const p of m.pieces) parseRoot(p.root);
  return m;
}

interface ChainOptions {
  rpc?: string;
  deals?: string;
}

function withChain(c: Command): Command {
  return c
    .option("--rpc <url>", "JSON-RPC URL (default: HEXMESH_RPC_URL)")
    .option("--deals <address>", "StorageDeals address (default: HEXMESH_STORAGE_DEALS)");
}

async function clientDeals(o: ChainOptions) {
  const rpc = o.rpc ?? process.env.HEXMESH_RPC_URL;
  const address = o.deals ?? process.env.HEXMESH_STORAGE_DEALS;
  if (!rpc) throw new UsageError("give --rpc or set HEXMESH_RPC_URL");
  if (!address || !/^0x[0-9a-fA-F]{40}$/.test(address)) {
    throw new UsageError("give --deals or set HEXMESH_STORAGE_DEALS to the StorageDeals address");
  }
  const provider = new JsonRpcProvider(rpc, undefined, { polling: true, pollingInterval: 250 });
  const signer = await loadSigner("HEXMESH_CLIENT_KEY", provider);
  return { deals: dealsAt(address, signer), close: () => provider.destroy() };
}

async function withDeals<T>(o: ChainOptions, run: (deals: ReturnType<typeof dealsAt>) => Promise<T>) {
  const { deals, close } = await clientDeals(o);
  try {
    print(await run(deals));
  } finally {
    close();
  }
}

export function program(): Command {
  const p = new Command("hexmesh-storage")
    .description("Hexmesh storage: the provider agent and the client commands")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const provider = p.command("provider").description("the storage provider agent");
  provider
    .command("start")
    .description("serve pieces over HTTP and prove possession on chain every period")
    .requiredOption("--config <file>", "provider configuration (JSON)")
    .action(async (o: { config: string }) => {
      const config = await loadProviderConfig(o.config);
      const running = await startProvider(config);
      console.log(JSON.stringify({ event: "listening", url: running.url, publicUrl: config.publicUrl }));
      await new Promise<void>((resolve) => {
        const stop = () => void running.stop().then(resolve);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });

  provider
    .command("import")
    .description("store a local file's pieces (data delivered out of band), trees built on every core")
    .argument("<file>")
    .requiredOption("--config <file>", "provider configuration (JSON): its dataDir")
    .option("--piece-size <bytes>", `piece size (default ${DEFAULT_PIECE_SIZE})`, positiveInt)
    .action(async (file: string, o: { config: string; pieceSize?: number }) => {
      const config = await loadProviderConfig(o.config);
      const store = new PieceStore(config.dataDir);
      await store.init();
      const { size } = await stat(file).catch((e: Error) => {
        throw new UsageError(`cannot read ${file}: ${e.message}`);
      });
      if (size === 0) throw new UsageError(`${file} is empty`);
      const pieceSize = o.pieceSize ?? DEFAULT_PIECE_SIZE;
      const pieces = [];
      for (let offset = 0; offset < size; offset += pieceSize) {
        const piece = await store.importPiece(file, offset, Math.min(pieceSize, size - offset));
        pieces.push({ root: piece.root, size: piece.size, offset });
      }
      print({ file, size, pieceSize, pieces });
    });

  p.command("upload")
    .description("cut a file into pieces, compute their roots locally, upload them to a provider agent")
    .argument("<file>")
    .requiredOption("--provider <url>", "the provider agent's URL")
    .option("--piece-size <bytes>", `piece size (default ${DEFAULT_PIECE_SIZE})`, positiveInt)
    .option("--manifest <file>", "also write the manifest (roots, sizes, offsets) here")
    .action(async (file: string, o: { provider: string; pieceSize?: number; manifest?: string }) => {
      const manifest = await uploadFile(o.provider, file, o.pieceSize ?? DEFAULT_PIECE_SIZE);
      if (o.manifest) await writeFile(o.manifest, JSON.stringify(manifest, null, 2));
      print(manifest);
    });

  p.command("download")
    .description("download a piece (or a manifest's file) and verify every root")
    .argument("[root]")
    .requiredOption("--provider <url>", "the provider agent's URL")
    .requiredOption("--out <file>", "where to write the bytes (deleted on a mismatch)")
    .option("--manifest <file>", "download every piece of this manifest, in order, into one file")
    .action(async (root: string | undefined, o: { provider: string; out: string; manifest?: string }) => {
      if (o.manifest !== undefined) {
        if (root !== undefined) throw new UsageError("give a root or --manifest, not both");
        const manifest = await readManifest(o.manifest);
        await downloadFile(o.provider, manifest, o.out);
        print({ out: o.out, size: manifest.size, pieces: manifest.pieces.length, verified: true });
        return;
      }
      if (root === undefined) throw new UsageError("give a piece root or --manifest");
      const piece = await downloadPiece(o.provider, parseRoot(root), o.out);
      print({ out: o.out, root: piece.root, size: piece.size, verified: true });
    });

  const deal = p.command("deal").description("storage deals (data sets) on chain, as the client");
  withChain(deal.command("create"))
    .description("propose a data set to the owner of a storage device")
    .requiredOption("--device <id>", "the provider's storage device id", uint)
    .action((o: ChainOptions & { device: bigint }) => withDeals(o, (d) => createDeal(d, o.device)));
  withChain(deal.command("add-pieces"))
    .description("add a manifest's pieces to a data set (locks 30 periods of the new rate)")
    .argument("<id>", "data set id", uint)
    .requiredOption("--manifest <file>", "the manifest upload wrote")
    .action(async (id: bigint, o: ChainOptions & { manifest: string }) => {
      const manifest = await readManifest(o.manifest);
      await withDeals(o, (d) => addDealPieces(d, id, manifest.pieces));
    });
  withChain(deal.command("fund"))
    .description("lock more credits (micro-USD) for a data set")
    .argument("<id>", "data set id", uint)
    .requiredOption("--credits <n>", "credits to lock", uint)
    .action((id: bigint, o: ChainOptions & { credits: bigint }) =>
      withDeals(o, (d) => fundDeal(d, id, o.credits)),
    );
  withChain(deal.command("status"))
    .description("a data set's state: proven periods, faults, paid credits (and retrievals with --oracle)")
    .argument("<id>", "data set id", uint)
    .option("--from-block <n>", "scan events from this block (default 0)", positiveInt)
    .option("--oracle <url>", "a storage oracle to ask for the data set's retrieval results")
    .action((id: bigint, o: ChainOptions & { fromBlock?: number; oracle?: string }) =>
      withDeals(o, async (d) => {
        const status = await dealStatus(d, id, o.fromBlock ?? 0);
        if (o.oracle) status.retrievals = await retrievalsFrom(o.oracle, id);
        return status;
      }),
    );
  return p;
}

/** The storage oracle's retrieval results for a data set (its GET /v1/storage/retrievals?dataSet=). */
async function retrievalsFrom(oracle: string, id: bigint): Promise<unknown> {
  const url = new URL(`v1/storage/retrievals?dataSet=${id}`, oracle.endsWith("/") ? oracle : oracle + "/");
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new StorageError(502, "oracle_error", `${url} answered HTTP ${res.status}`);
  return ((await res.json()) as { retrievals?: unknown }).retrievals;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    if (typeof err.code === "string" && err.code.startsWith("commander.")) {
      return err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`hexmesh-storage: ${e.message}\n`);
      return 2;
    }
    if (e instanceof StorageError) {
      process.stderr.write(`hexmesh-storage: ${e.code}: ${e.message}\n`);
      return 1;
    }
    if (e instanceof ContractRevertError) {
      process.stderr.write(`hexmesh-storage: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`hexmesh-storage: ${(e as Error).message ?? String(e)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
