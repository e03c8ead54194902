/**
 * One oracle process: opens the store, connects the chain (if configured), publishes entropy,
 * serves the API. `startService` is what `hexmesh-oracle serve` runs; tests start it in-process or
 * as a child process.
 */
import { availableParallelism } from "node:os";

import type { FastifyInstance } from "fastify";
import { pino, type Logger } from "pino";

import { parseReport } from "@hexmesh/protocol";

import { buildApi } from "../api/server.js";
import type { ComputeOracle } from "../compute/service.js";
import type { PostOutcome } from "../post/aggregator.js";
import type { StorageOracle } from "../storage/service.js";
import { openStore } from "../store/index.js";
import type { OracleStore, WorkKind } from "../store/types.js";
import { DEFAULT_COVERAGE_PARAMS } from "../verify/params.js";
import { WorkerPoolPreparer } from "../verify/pool.js";
import { InlineAuthenticator } from "../verify/prepare.js";
import { distributorReader, type Chain, type DistributorReader } from "./chain.js";
import { ClaimProofs } from "./claims.js";
import { ConfigError, type ServiceConfig } from "./config.js";
import { EntropyService } from "./entropy.js";
import type { EpochService } from "./epochs.js";
import { Ingestor } from "./ingest.js";
import type { Progress } from "./inputs.js";
import { keysFromChain, keysFromFile } from "./keys.js";
import { ResultSets } from "./results.js";
import type { DataTransfer } from "./settlement.js";
import type { WorkSource } from "./work.js";

export interface RunningService {
  readonly app: FastifyInstance;
  readonly store: OracleStore;
  readonly url: string;
  readonly chain: Chain | undefined;
  readonly epochs: EpochService | undefined;
  readonly claims: ClaimProofs | undefined;
  readonly ingestor: Ingestor;
  /** Packet receipts and data-transfer settlements (chain.addresses.dataTransfer configured). */
  readonly dataTransfer: DataTransfer | undefined;
  readonly logger: Logger;
  /** The storage oracle's rounds (config `storage`), running every storage.intervalMs. */
  readonly storage: StorageOracle | undefined;
  /** The compute oracle's rounds (config `compute`), running every compute.intervalMs. */
  readonly compute: ComputeOracle | undefined;
  /** Collects the peers' signatures of `epoch` and posts it with k of them (`hexmesh-oracle post`). */
  /** Collects peers' signatures of `work`'s epoch (default coverage) and posts it once. */
  post(epoch: bigint, progress?: Progress, work?: WorkKind): Promise<PostOutcome>;
  /** Collects the peers' signatures of the epoch's settlement and settles it on chain with k of them. */
  settle(epoch: bigint): Promise<Awaited<ReturnType<DataTransfer["post"]>>>;
  close(): Promise<void>;
}

export function makeLogger(config: ServiceConfig, name = "hexmesh-oracle"): Logger {
  return pino({ name, level: config.log.level });
}

/** The receive-time clock the config asks for. */
export function makeClock(config: ServiceConfig): { now: () => number; forReport?: (raw: string) => number } {
  const offset = config.clock.offsetMs;
  // "chain" is built in startService (it needs the node); without one it is the host clock.
  if (config.clock.mode !== "device-timestamp") return { now: () => Date.now() + offset };
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
  notice?: (msg: string) => void,
  /** The kinds besides coverage, when the caller has them already (workSourcesFor). */
  works?: readonly WorkSource[],
): Promise<EpochService> {
  if (config.oracleKey === undefined) throw new Error("no oracle key: set HEXMESH_ORACLE_KEY");
  const [{ Wallet }, { EpochService }, { latestBlockTimeMs }] = await Promise.all([
    import("ethers"),
    import("./epochs.js"),
    import("../chain/indexer.js"),
  ]);
  const clock = makeClock(config);
  const sources = works ?? (await workSourcesFor(config, store, chain));
  return new EpochService(store, chain.contracts, new Wallet(config.oracleKey), {
    ...(sources.length > 0 ? { works: sources } : {}),
    fromBlock: config.chain!.fromBlock,
    ...(config.chain!.firstEpoch !== undefined ? { firstEpoch: BigInt(config.chain!.firstEpoch) } : {}),
    log: (msg, fields) => logger.info(fields ?? {}, msg),
    ...(notice !== undefined ? { notice } : {}),
    closeGraceMs: config.epochs.closeGraceMs,
    // An epoch is over when the receive clock or the chain's clock says so (a replay's receive
    // times come from devices; a test chain's time is moved): whichever is later. A report stamped
    // before the cutoff after that is refused (409), never stored unverified.
    now: async () => Math.max(clock.now(), await latestBlockTimeMs(chain.provider)),
  });
}

/** Claim proofs for coverage and for each kind config `works` names, each against its own distributor. */
async function claimProofsFor(config: ServiceConfig, store: OracleStore, chain: Chain): Promise<ClaimProofs> {
  const distributors = new Map<WorkKind, DistributorReader>([["coverage", chain]]);
  const works = config.works;
  if (works?.storage !== undefined || works?.compute !== undefined) {
    const { RewardsDistributor__factory } = await import("@hexmesh/contracts");
    for (const kind of ["storage", "compute"] as const) {
      const address = works[kind]?.distributor;
      if (address !== undefined)
        distributors.set(
          kind,
          distributorReader(RewardsDistributor__factory.connect(address, chain.provider)),
        );
    }
  }
  return new ClaimProofs(store, distributors);
}

/**
 * The kinds of work besides coverage this oracle serves (config `works`): each kind's distributor,
 * usage logs (chain.addresses.credits under the kind's subnetwork id) and inputs.
 */
export async function workSourcesFor(
  config: ServiceConfig,
  store: OracleStore,
  chain: Chain,
): Promise<WorkSource[]> {
  const works = config.works;
  if (works === undefined || (works.storage === undefined && works.compute === undefined)) return [];
  const [contracts, work, storage, protocol] = await Promise.all([
    import("@hexmesh/contracts"),
    import("./work.js"),
    import("../storage/index.js"),
    import("@hexmesh/protocol"),
  ]);
  const credits = config.chain!.addresses.credits;
  const usageOf = (kind: "storage" | "compute") =>
    credits === undefined
      ? {}
      : {
          usage: {
            credits: contracts.UsageCredits__factory.connect(credits, chain.provider),
            subnetwork: work.WORK_SUBNETWORK[kind],
          },
        };
  const out: WorkSource[] = [];
  if (works.storage !== undefined) {
    const cfg = config.storage!;
    const storageStore = new storage.StorageStore(store.storageSql());
    out.push(
      work.storageWork({
        distributor: contracts.RewardsDistributor__factory.connect(works.storage.distributor, chain.provider),
        classSubnetwork: works.storage.classSubnetwork,
        store: storageStore,
        indexer: new storage.StorageIndexer(
          contracts.StorageDeals__factory.connect(cfg.deals, chain.provider),
          storageStore,
          { fromBlock: cfg.fromBlock, confirmations: cfg.confirmations },
        ),
        peers: config.peers,
        retrievalDomain: protocol.retrievalDomain((await chain.provider.getNetwork()).chainId, cfg.deals),
        ...usageOf("storage"),
      }),
    );
  }
  if (works.compute !== undefined) {
    const cfg = config.compute!;
    const compute = await import("../compute/index.js");
    const computeStore = new compute.ComputeStore(store.storageSql(), {
      benchmarkSender: cfg.benchmark.sender,
    });
    out.push(
      work.computeWork({
        distributor: contracts.RewardsDistributor__factory.connect(works.compute.distributor, chain.provider),
        classSubnetwork: works.compute.classSubnetwork,
        store: computeStore,
        indexer: new compute.ComputeIndexer(
          contracts.ComputeJobs__factory.connect(cfg.jobs, chain.provider),
          computeStore,
          { fromBlock: cfg.fromBlock, confirmations: cfg.confirmations },
        ),
        ...usageOf("compute"),
      }),
    );
  }
  return out;
}

/**
 * The `post` step: fetch the configured peers' signatures of this oracle's root, then post it with k
 * verified signatures from the posting account (HEXMESH_POSTER_KEY). At most once on chain.
 */
export async function collectAndPost(
  config: ServiceConfig,
  epochs: EpochService,
  chain: Chain,
  epoch: bigint,
  progress?: Progress,
  work: WorkKind = "coverage",
): Promise<PostOutcome> {
  if (config.posterKey === undefined)
    throw new ConfigError("post needs a posting account: set HEXMESH_POSTER_KEY");
  await epochs.collect(epoch, config.peers, progress, work);
  const { Wallet } = await import("ethers");
  return epochs.post(epoch, chain.withSigner(new Wallet(config.posterKey)), work);
}

/**
 * The coverage data-transfer side of this oracle (chain.addresses.dataTransfer): receipts in,
 * settlements out. The ledger's address is read from the settlement contract.
 */
export async function dataTransferFor(
  config: ServiceConfig,
  store: OracleStore,
  chain: Chain,
  now: () => number,
  logger: Logger,
): Promise<DataTransfer | undefined> {
  const address = config.chain?.addresses.dataTransfer;
  if (address === undefined) return undefined;
  const [{ Wallet }, { DataTransfer }, contracts, { latestBlockTimeMs }, { OracleKey }] = await Promise.all([
    import("ethers"),
    import("./settlement.js"),
    import("@hexmesh/contracts"),
    import("../chain/indexer.js"),
    import("../post/sign.js"),
  ]);
  const settlement = contracts.DataTransferSettlement__factory.connect(address, chain.provider);
  const credits = contracts.UsageCredits__factory.connect(await settlement.credits(), chain.provider);
  return new DataTransfer(
    store,
    { settlement, credits, ...chain.contracts },
    {
      now: async () => Math.max(now(), await latestBlockTimeMs(chain.provider)),
      closeGraceMs: config.epochs.closeGraceMs,
      log: (msg, fields) => logger.info(fields ?? {}, msg),
    },
    config.oracleKey !== undefined ? new OracleKey(new Wallet(config.oracleKey)) : undefined,
  );
}

/**
 * The settlement's post step: fetch the configured peers' signatures of this oracle's settlement of
 * `epoch`, then settle it on chain with k of them from the posting account. At most once on chain.
 */
export async function collectAndSettle(
  config: ServiceConfig,
  dataTransfer: DataTransfer,
  chain: Chain,
  epoch: bigint,
): Promise<Awaited<ReturnType<DataTransfer["post"]>>> {
  if (config.posterKey === undefined)
    throw new ConfigError("settle needs a posting account: set HEXMESH_POSTER_KEY");
  await dataTransfer.collect(epoch, config.peers);
  const [{ Wallet }, { DataTransferSettlement__factory }] = await Promise.all([
    import("ethers"),
    import("@hexmesh/contracts"),
  ]);
  const poster = new Wallet(config.posterKey, chain.provider);
  return dataTransfer.post(
    epoch,
    DataTransferSettlement__factory.connect(config.chain!.addresses.dataTransfer!, poster),
  );
}

/** The storage oracle of `config.storage` (needs an oracle key; a poster key also keeps seeds and sends). */
async function storageOracleFor(
  config: ServiceConfig,
  store: OracleStore,
  chain: Chain,
): Promise<StorageOracle> {
  if (config.oracleKey === undefined)
    throw new ConfigError("storage needs an oracle key: set HEXMESH_ORACLE_KEY");
  const [{ Wallet }, contracts, protocol, m] = await Promise.all([
    import("ethers"),
    import("@hexmesh/contracts"),
    import("@hexmesh/protocol"),
    import("../storage/index.js"),
  ]);
  const cfg = config.storage!;
  const { chainId } = await chain.provider.getNetwork();
  const signer = new Wallet(config.oracleKey);
  const sender = config.posterKey !== undefined ? new Wallet(config.posterKey, chain.provider) : undefined;
  const storageStore = new m.StorageStore(store.storageSql());
  const reader = contracts.StorageDeals__factory.connect(cfg.deals, chain.provider);
  const indexer = new m.StorageIndexer(reader, storageStore, {
    fromBlock: cfg.fromBlock,
    confirmations: cfg.confirmations,
  });
  const prober = new m.RetrievalProber(
    reader,
    storageStore,
    signer,
    protocol.retrievalDomain(chainId, cfg.deals),
    {
      timeoutMs: cfg.probeTimeoutMs,
    },
  );
  const suspensions = new m.SuspensionKeeper(
    contracts.StorageSuspensions__factory.connect(cfg.suspensions, sender ?? chain.provider),
    contracts.RewardsDistributor__factory.connect(cfg.distributor, chain.provider),
    storageStore,
    signer,
    protocol.storageSuspensionsDomain(chainId, cfg.suspensions),
  );
  const keeper =
    sender === undefined
      ? undefined
      : new m.SeedKeeper(contracts.StorageDeals__factory.connect(cfg.deals, sender), storageStore);
  return new m.StorageOracle(indexer, prober, suspensions, keeper, config.peers, sender !== undefined);
}

/**
 * The compute oracle of `config.compute` (needs an oracle key; a poster key also records spot checks,
 * submits verdicts and executes penalties; the poster account named `compute.benchmark.sender` also
 * sends the daily benchmarks).
 */
async function computeOracleFor(
  config: ServiceConfig,
  store: OracleStore,
  chain: Chain,
): Promise<ComputeOracle> {
  if (config.oracleKey === undefined)
    throw new ConfigError("compute needs an oracle key: set HEXMESH_ORACLE_KEY");
  const [{ Wallet }, contracts, m, { OracleKey }] = await Promise.all([
    import("ethers"),
    import("@hexmesh/contracts"),
    import("../compute/index.js"),
    import("../post/sign.js"),
  ]);
  const cfg = config.compute!;
  const { chainId } = await chain.provider.getNetwork();
  const sender = config.posterKey !== undefined ? new Wallet(config.posterKey, chain.provider) : undefined;
  const computeStore = new m.ComputeStore(store.storageSql(), { benchmarkSender: cfg.benchmark.sender });
  const reader = contracts.ComputeJobs__factory.connect(cfg.jobs, chain.provider);
  const jobs = sender === undefined ? reader : contracts.ComputeJobs__factory.connect(cfg.jobs, sender);
  const indexer = new m.ComputeIndexer(reader, computeStore, {
    fromBlock: cfg.fromBlock,
    confirmations: cfg.confirmations,
  });
  const checker = new m.ComputeChecker(reader, {
    sources: cfg.sources,
    cacheDir: cfg.cacheDir,
    unitsToleranceBps: cfg.unitsToleranceBps,
    ...(cfg.limits !== undefined ? { limits: cfg.limits } : {}),
  });
  const withheld =
    cfg.withheld === undefined
      ? undefined
      : new m.OutputProber(computeStore, {
          ...m.DEFAULT_WITHHELD,
          ...cfg.withheld,
          ...(cfg.limits?.outputBytes !== undefined ? { maxBytes: cfg.limits.outputBytes } : {}),
          sources: cfg.sources,
        });
  const desk = new m.VerdictDesk(
    jobs,
    contracts.RewardsDistributor__factory.connect(cfg.distributor, chain.provider),
    computeStore,
    checker,
    new OracleKey(new Wallet(config.oracleKey)),
    { prover: cfg.prover, chainId, peers: config.peers, ...(withheld !== undefined ? { withheld } : {}) },
    sender !== undefined,
  );
  const sendsBenchmarks =
    sender !== undefined && sender.address.toLowerCase() === cfg.benchmark.sender.toLowerCase();
  const benchmarks = sendsBenchmarks
    ? new m.BenchmarkSender(
        jobs,
        contracts.DeviceRegistry__factory.connect(config.chain!.addresses.registry, chain.provider),
        computeStore,
        {
          registryFromBlock: config.chain!.fromBlock,
          classes: cfg.benchmark.classes,
          deadlineSeconds: cfg.benchmark.deadlineSeconds,
          publish: cfg.benchmark.publish,
        },
      )
    : undefined;
  return new m.ComputeOracle(indexer, desk, benchmarks);
}

export async function startService(
  config: ServiceConfig,
  logger = makeLogger(config),
): Promise<RunningService> {
  if (config.clock.mode === "chain" && config.chain === undefined)
    throw new ConfigError('clock.mode "chain" needs chain.rpcUrl and chain.addresses');
  if (config.chain === undefined && config.ingest.devicesFile === undefined)
    throw new ConfigError(
      "serve checks report signatures at ingest: configure chain (the registry's keys) or ingest.devicesFile",
    );
  const store = await openStore(config.store);
  logger.info({ backend: store.backend, schema: await store.schemaVersion() }, "store open");
  const chain =
    config.chain === undefined
      ? undefined
      : (await import("./chain.js")).connectChain(config.chain.rpcUrl, config.chain.addresses);
  const chainClock =
    config.clock.mode === "chain" && chain !== undefined
      ? await (
          await import("./chain-clock.js")
        ).ChainClock.start(chain.provider, {
          offsetMs: config.clock.offsetMs,
          onError: (e) => logger.warn({ err: e }, "chain clock: reading the latest block failed"),
        })
      : undefined;
  const clock = chainClock !== undefined ? { now: chainClock.now } : makeClock(config);
  const keys =
    config.ingest.devicesFile !== undefined
      ? keysFromFile(config.ingest.devicesFile)
      : await keysFromChain(chain!, config.chain!.fromBlock);
  const threads = config.ingest.signatureThreads ?? availableParallelism();
  const authenticator =
    threads === 0
      ? new InlineAuthenticator(keys.domain, keys.keys)
      : new WorkerPoolPreparer(keys.domain, keys.keys, { threads, batchSize: 64 });
  const ingestor = new Ingestor(store, {
    clock: clock.now,
    ...(clock.forReport !== undefined ? { stamp: clock.forReport } : {}),
    authenticator,
    refreshKeys: () => keys.refresh(),
    limits: { ...config.limits, beaconWindowMs: DEFAULT_COVERAGE_PARAMS.beaconIntervalMs },
  });
  // An oracle that pulls its inputs from an ingest peer takes that peer's entropy with them: publishing
  // its own for the same slot (from whatever block it saw) would conflict with the pulled entry.
  const entropy =
    chain === undefined || config.inputsFrom !== undefined
      ? undefined
      : new EntropyService(store, () => chain.latestBlockHash(), clock.now);
  // One set of work sources for the epoch steps and the result sets they publish.
  const works = chain === undefined ? [] : await workSourcesFor(config, store, chain);
  const epochs =
    chain !== undefined && config.oracleKey !== undefined
      ? await epochServiceFor(config, store, chain, logger, undefined, works)
      : undefined;
  const claims = chain === undefined ? undefined : await claimProofsFor(config, store, chain);
  const dataTransfer =
    chain === undefined ? undefined : await dataTransferFor(config, store, chain, clock.now, logger);
  const results = new ResultSets(store, {}, 2, works);
  const storage =
    chain !== undefined && config.storage !== undefined
      ? await storageOracleFor(config, store, chain)
      : undefined;
  const compute =
    chain !== undefined && config.compute !== undefined
      ? await computeOracleFor(config, store, chain)
      : undefined;
  const app = await buildApi({
    store,
    ingestor,
    limits: config.limits,
    ...(config.staticDir !== undefined ? { staticDir: config.staticDir } : {}),
    logger: logger.child({ component: "api" }),
    ...(entropy !== undefined ? { entropy } : {}),
    ...(config.inputsFrom !== undefined ? { inputsFrom: config.inputsFrom } : {}),
    ...(chain !== undefined ? { chain } : {}),
    ...(claims !== undefined ? { claims } : {}),
    results,
    ...(dataTransfer !== undefined ? { dataTransfer } : {}),
    ...(epochs !== undefined
      ? { ownSignature: (e: bigint, work: WorkKind) => epochs.ownSignature(e, work) }
      : {}),
    ...(storage !== undefined ? { storageProposals: (day: bigint) => storage.proposals(day) } : {}),
  });
  entropy?.start((e) => logger.warn({ err: e }, "entropy publication failed"));
  storage?.start(
    config.storage!.intervalMs,
    (r) =>
      logger.info(
        {
          logs: r.indexed.logs,
          seeds: r.seeds.length,
          probes: r.probes.length,
          suspensions: r.suspensions.map((s) => `${s.deviceId}:${s.suspended}:${s.outcome}`),
        },
        "storage round",
      ),
    (e) => logger.warn({ err: e }, "storage round failed"),
  );
  compute?.start(
    config.compute!.intervalMs,
    (r) =>
      logger.info(
        {
          logs: r.indexed.logs,
          checks: r.checks.map((c) => `${c.jobId}:${c.outcome}`),
          probes: r.probes.map((p) => `${p.jobId}:${p.outcome}`),
          steps: [...r.spotChecks, ...r.submits, ...r.penalties].map(
            (s) => `${s.action}:${s.jobId}:${s.outcome}`,
          ),
          benchmarks: r.benchmarks.map((b) => `${b.deviceId}:${b.outcome}`),
        },
        "compute round",
      ),
    (e) => logger.warn({ err: e }, "compute round failed"),
  );
  const url = await app.listen({ host: config.listen.host, port: config.listen.port });
  logger.info({ url, oracle: epochs?.key.address ?? null }, "serving");
  return {
    app,
    store,
    url,
    chain,
    epochs,
    claims,
    ingestor,
    dataTransfer,
    logger,
    storage,
    compute,
    async settle(epoch) {
      if (chain === undefined || dataTransfer === undefined)
        throw new ConfigError("settle needs chain.rpcUrl and chain.addresses.dataTransfer");
      return collectAndSettle(config, dataTransfer, chain, epoch);
    },
    async post(epoch, progress, work = "coverage") {
      if (chain === undefined || epochs === undefined)
        throw new ConfigError("post needs chain.rpcUrl, chain.addresses and an oracle key");
      return collectAndPost(config, epochs, chain, epoch, progress, work);
    },
    async close() {
      await storage?.stop();
      await compute?.stop();
      entropy?.stop();
      chainClock?.stop();
      await app.close();
      await authenticator.close();
      chain?.close();
      await store.close();
    },
  };
}
