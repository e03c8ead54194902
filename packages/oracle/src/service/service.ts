/**
 * One oracle process: opens the store, connects the chain (if configured), publishes entropy,
 * serves the API. `startService` is what `hexmesh-oracle serve` runs; tests start it in-process or
 * as a child process.
 */
import type { FastifyInstance } from "fastify";
import { pino, type Logger } from "pino";

import { buildApi } from "../api/server.js";
import { parseReport } from "@hexmesh/protocol";
import { openStore } from "../store/index.js";
import type { OracleStore } from "../store/types.js";
import type { Chain } from "./chain.js";
import type { ServiceConfig } from "./config.js";
import { EntropyService } from "./entropy.js";
import type { EpochService } from "./epochs.js";
import { Ingestor } from "./ingest.js";

export interface RunningService {
  readonly app: FastifyInstance;
  readonly store: OracleStore;
  readonly url: string;
  readonly chain: Chain | undefined;
  readonly epochs: EpochService | undefined;
  readonly ingestor: Ingestor;
  readonly logger: Logger;
  close(): Promise<void>;
}

export function makeLogger(config: ServiceConfig, name = "hexmesh-oracle"): Logger {
  return pino({ name, level: config.log.level });
}

/** The receive-time clock the config asks for. */
export function makeClock(config: ServiceConfig): { now: () => number; forReport?: (raw: string) => number } {
  const offset = config.clock.offsetMs;
  if (config.clock.mode === "system") return { now: () => Date.now() + offset };
  return {
    now: () => Date.now() + offset,
    forReport: (raw) => {
      const p = parseReport(raw);
      return p.ok ? Number(p.report.timestamp) + offset : Date.now() + offset;
    },
  };
}

/**
 * The epoch steps of this oracle. The chain side (ethers, typechain bindings) is loaded only when
 * used: an ingest-only process starts in a fraction of the time, which matters for restarts.
 */
export async function epochServiceFor(
  config: ServiceConfig,
  store: OracleStore,
  chain: Chain,
  logger: Logger,
): Promise<EpochService> {
  if (config.oracleKey === undefined) throw new Error("no oracle key: set HEXMESH_ORACLE_KEY");
  const [{ Wallet }, { EpochService }] = await Promise.all([import("ethers"), import("./epochs.js")]);
  return new EpochService(store, chain.contracts, new Wallet(config.oracleKey), {
    fromBlock: config.chain!.fromBlock,
    firstEpoch: BigInt(config.chain!.firstEpoch),
    coverage: { preparer: "workers" },
    log: (msg, fields) => logger.info(fields ?? {}, msg),
  });
}

export async function startService(
  config: ServiceConfig,
  logger = makeLogger(config),
): Promise<RunningService> {
  const store = await openStore(config.store);
  logger.info({ backend: store.backend, schema: await store.schemaVersion() }, "store open");
  const chain =
    config.chain === undefined
      ? undefined
      : (await import("./chain.js")).connectChain(config.chain.rpcUrl, config.chain.addresses);
  const clock = makeClock(config);
  const ingestor = new Ingestor(store, {
    clock: clock.now,
    ...(clock.forReport !== undefined ? { stamp: clock.forReport } : {}),
  });
  const entropy =
    chain === undefined ? undefined : new EntropyService(store, () => chain.latestBlockHash(), clock.now);
  const epochs =
    chain !== undefined && config.oracleKey !== undefined
      ? await epochServiceFor(config, store, chain, logger)
      : undefined;
  const app = await buildApi({
    store,
    ingestor,
    limits: config.limits,
    logger: logger.child({ component: "api" }),
    ...(entropy !== undefined ? { entropy } : {}),
    ...(chain !== undefined ? { chain } : {}),
    ...(epochs !== undefined ? { ownSignature: (e: bigint) => epochs.ownSignature(e) } : {}),
  });
  entropy?.start((e) => logger.warn({ err: e }, "entropy publication failed"));
  const url = await app.listen({ host: config.listen.host, port: config.listen.port });
  logger.info({ url, oracle: epochs?.key.address ?? null }, "serving");
  return {
    app,
    store,
    url,
    chain,
    epochs,
    ingestor,
    logger,
    async close() {
      entropy?.stop();
      await app.close();
      chain?.close();
      await store.close();
    },
  };
}
