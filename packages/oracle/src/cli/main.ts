/**
 * hexmesh-oracle: the operator's command line (`npm run oracle -- <command>`).
 *
 *   serve                 run the API (ingest, entropy, proofs) until SIGINT/SIGTERM
 *   close-epoch <epoch>   index the chain, verify the stored reports, store the result
 *                         (--partitions N: verified by `worker` processes on one PostgreSQL)
 *   worker                verify partitions of partitioned closes (PostgreSQL)
 *                         (close-epoch, sign, aggregate/collect, post, status: --work coverage|storage|compute)
 *   pull <epoch>          copy the epoch's inputs from the ingest peer (config inputsFrom)
 *   sign <epoch>          sign this oracle's own root of the epoch (served to peers)
 *   aggregate <epoch>     collect the peers' signatures of the same root
 *   post <epoch>          aggregate, then post with k signatures (once; retries are safe)
 *   status [epoch]        store counts, epochs, post status, chain state
 *   watch                 check every posted root against the oracles' result sets; veto a bad one
 *   prune [epoch...]      delete raw reports of epochs past retention.keepEpochs (--dry-run: count)
 *   migrate, check-config
 *
 * Configuration: --config FILE plus environment (see service/config.ts); logs are pino JSON on
 * stdout, progress counts on stderr.
 */
import { Command, InvalidArgumentError } from "commander";

import { describeContractError } from "@hexmesh/contracts";

import type { Chain } from "../service/chain.js";
import { ConfigError, ENV_OVERRIDES, loadConfig, type ServiceConfig } from "../service/config.js";
import type { EpochService } from "../service/epochs.js";
import type { Progress } from "../service/inputs.js";
import {
  collectAndPost,
  collectAndSettle,
  dataTransferFor,
  epochServiceFor,
  makeLogger,
  startService,
} from "../service/service.js";
import { openStore } from "../store/index.js";
import type { WorkKind } from "../store/types.js";
import { limitHeapGrowth } from "../util/heap.js";
import type { ReverifyOptions } from "../watch/reverify.js";

// The chain side (ethers, typechain) loads only in the commands that use it: `serve` without a
// chain, `status` and `migrate` start fast.
const connectChain = async (rpcUrl: string, addresses: NonNullable<ServiceConfig["chain"]>["addresses"]) =>
  (await import("../service/chain.js")).connectChain(rpcUrl, addresses);

/** Said on stderr, beside progress: stdout carries the command's JSON. */
const notice = (msg: string) => process.stderr.write(`${msg}\n`);

/** A line when a step ends, and while it runs at most one every PROGRESS_EVERY_MS (a 40M close's stage 1 is ~1,200 chunks). */
const PROGRESS_EVERY_MS = 5_000;
const progressSaid = new Map<string, number>();
const progress: Progress = (step, done, total) => {
  const now = Date.now();
  if (done !== total && now - (progressSaid.get(step) ?? 0) < PROGRESS_EVERY_MS) return;
  progressSaid.set(step, now);
  process.stderr.write(
    `  ${step.padEnd(8)} ${done.toLocaleString("en-US")} / ${total.toLocaleString("en-US")}\n`,
  );
};

function epochArg(v: string): bigint {
  if (!/^[0-9]{1,19}$/.test(v)) throw new InvalidArgumentError("an epoch is a non-negative integer");
  return BigInt(v);
}

function positiveArg(v: string): number {
  if (!/^[1-9][0-9]{0,14}$/.test(v)) throw new InvalidArgumentError("expected a positive integer");
  return Number(v);
}

interface CloseOptions {
  readonly partitions?: number;
  readonly reduceOnly?: boolean;
  readonly threads?: number;
  readonly leaseMs?: number;
}

interface WorkerCommandOptions {
  readonly epoch?: bigint;
  readonly threads?: number;
  readonly leaseMs?: number;
  readonly pollMs?: number;
}
function workArg(v: string): WorkKind {
  if (v === "coverage" || v === "storage" || v === "compute") return v;
  throw new InvalidArgumentError("expected coverage, storage or compute");
}

const WORK_OPTION = [
  "--work <kind>",
  "kind of work: coverage, storage or compute",
  workArg,
  "coverage",
] as const;

function intArg(v: string): number {
  if (!/^[0-9]{1,15}$/.test(v)) throw new InvalidArgumentError("expected a non-negative integer");
  return Number(v);
}

interface WatchOptions {
  readonly rpc: string;
  readonly distributor: string;
  readonly oracle: string[];
  readonly fromBlock: number;
  readonly once?: boolean;
  readonly interval: number;
  readonly hook?: string;
  readonly evidenceDir: string;
  readonly reverify?: boolean;
  readonly vetoUnverified?: boolean;
  readonly registry?: string;
  readonly vault?: string;
  readonly controller?: string;
  readonly credits?: string;
  readonly subnetwork?: string;
  readonly inputsFrom?: string;
}

/**
 * `watch`: exit code 0 when every root checked was confirmed (with --once), 1 when one was not
 * (after vetoing it, with the guardian's key); with a hook, a running watcher keeps going.
 */
async function watch(o: WatchOptions): Promise<number> {
  const [{ JsonRpcProvider, Wallet, getAddress }, { RootWatcher }, pino] = await Promise.all([
    import("ethers"),
    import("../watch/watcher.js"),
    import("pino"),
  ]);
  try {
    getAddress(o.distributor);
  } catch {
    throw new ConfigError(`--distributor ${o.distributor} is not an address`);
  }
  let reverify: ReverifyOptions | undefined;
  if (o.reverify) {
    if (o.subnetwork !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(o.subnetwork))
      throw new ConfigError(`--subnetwork ${o.subnetwork} is not a bytes32 id`);
    const need = (name: "registry" | "vault" | "controller" | "credits") => {
      const v = o[name];
      if (v === undefined) throw new ConfigError(`--reverify needs --${name}`);
      try {
        return getAddress(v);
      } catch {
        throw new ConfigError(`--${name} ${v} is not an address`);
      }
    };
    reverify = {
      rpcUrl: o.rpc,
      addresses: {
        registry: need("registry"),
        vault: need("vault"),
        controller: need("controller"),
        distributor: o.distributor,
        ...(o.credits !== undefined ? { credits: need("credits") } : {}),
        ...(o.subnetwork !== undefined ? { subnetwork: o.subnetwork } : {}),
      },
      fromBlock: o.fromBlock,
      inputsFrom: o.inputsFrom ?? o.oracle[0]!,
    };
  }
  const key = process.env.HEXMESH_GUARDIAN_KEY;
  if (key !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new ConfigError("HEXMESH_GUARDIAN_KEY must be a 0x-prefixed 32-byte private key");
  const logger = pino.pino({ level: "info" });
  const provider = new JsonRpcProvider(o.rpc, undefined, { staticNetwork: false, polling: true });
  const guardian = key === undefined ? undefined : new Wallet(key, provider);
  const watcher = new RootWatcher({
    provider,
    distributor: o.distributor,
    oracles: o.oracle,
    fromBlock: o.fromBlock,
    ...(guardian !== undefined ? { guardian } : {}),
    ...(o.hook !== undefined ? { hook: o.hook } : {}),
    evidenceDir: o.evidenceDir,
    ...(reverify !== undefined ? { reverify } : {}),
    ...(o.vetoUnverified === true ? { vetoUnverified: true } : {}),
    log: (msg, fields) => logger.info(fields ?? {}, msg),
  });
  logger.info(
    { distributor: o.distributor, oracles: o.oracle, guardian: guardian?.address ?? null },
    "watching posted roots",
  );
  try {
    for (;;) {
      const checks = await watcher.poll();
      const bad = checks.filter((c) => c.outcome !== "confirmed");
      if (o.once) return bad.length === 0 ? 0 : 1;
      if (bad.length > 0 && o.hook === undefined) return 1;
      await new Promise((r) => setTimeout(r, o.interval * 1000));
    }
  } finally {
    provider.destroy();
  }
}

function config(cmd: Command): ServiceConfig {
  const opts = cmd.optsWithGlobals<{ config?: string }>();
  return loadConfig(opts.config);
}

async function withEpochs<T>(
  cmd: Command,
  fn: (ctx: { cfg: ServiceConfig; epochs: EpochService; chain: Chain }) => Promise<T>,
): Promise<T> {
  const cfg = config(cmd);
  if (cfg.chain === undefined) throw new ConfigError("this command needs chain.rpcUrl and chain.addresses");
  const logger = makeLogger(cfg);
  const store = await openStore(cfg.store);
  const chain = await connectChain(cfg.chain.rpcUrl, cfg.chain.addresses);
  try {
    return await fn({ cfg, epochs: await epochServiceFor(cfg, store, chain, logger, notice), chain });
  } finally {
    chain.close();
    await store.close();
  }
}

const print = (o: unknown) =>
  console.log(JSON.stringify(o, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2));

export function program(): Command {
  const p = new Command("hexmesh-oracle")
    .description("Hexmesh coverage oracle service")
    .option("-c, --config <file>", "JSON configuration file (environment variables override it)")
    .addHelpText(
      "after",
      `\nEnvironment:\n${Object.entries(ENV_OVERRIDES)
        .map(([k, v]) => `  ${k.padEnd(22)} ${v}`)
        .join("\n")}`,
    );

  p.command("serve")
    .description("serve the API until SIGINT/SIGTERM")
    .action(async (_o, cmd: Command) => {
      const svc = await startService(config(cmd));
      const stop = async (signal: string) => {
        svc.logger.info({ signal }, "stopping");
        await svc.close();
        process.exit(0);
      };
      process.once("SIGINT", () => void stop("SIGINT"));
      process.once("SIGTERM", () => void stop("SIGTERM"));
    });

  p.command("close-epoch")
    .argument("<epoch>", "epoch number", epochArg)
    .option(
      "--partitions <n>",
      "PostgreSQL: split the verification into n partitions for `worker` processes, then reduce here",
      positiveArg,
    )
    .option(
      "--reduce-only",
      "with --partitions: verify no partition here, only wait for the workers and reduce",
    )
    .option(
      "--threads <n>",
      "with --partitions: stage-1 worker threads of this process (default 0: one core)",
      intArg,
    )
    .option("--lease-ms <ms>", "with --partitions: a claim's lease (default 30000)", positiveArg)
    .option(...WORK_OPTION)
    .description(
      "index the chain at the epoch's end, verify its inputs (coverage: stored reports; storage: proofs and retrieval results; compute: paid jobs and benchmarks), store the result",
    )
    .action(async (epoch: bigint, o: CloseOptions & { work: WorkKind }, cmd: Command) => {
      if (o.partitions === undefined && (o.reduceOnly || o.threads !== undefined || o.leaseMs !== undefined))
        throw new ConfigError("--reduce-only, --threads and --lease-ms go with --partitions");
      if (o.partitions !== undefined && o.work !== "coverage")
        throw new ConfigError(
          "--partitions splits a coverage close (its reports); storage and compute close in one process",
        );
      await withEpochs(cmd, async ({ epochs }) => {
        const r = await epochs.close(
          epoch,
          progress,
          o.work,
          o.partitions === undefined
            ? undefined
            : {
                partitions: o.partitions,
                verify: o.reduceOnly !== true,
                ...(o.threads !== undefined ? { threads: o.threads } : {}),
                ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
                log: (msg, fields) => notice(`  ${msg} ${JSON.stringify(fields)}`),
              },
        );
        print({
          ...(o.work !== "coverage" ? { work: o.work } : {}),
          epoch: r.epoch,
          root: r.root,
          dataHash: r.dataHash,
          totalCumulative: r.totalCumulative,
          ...r.summary,
        });
      });
    });

  p.command("pull")
    .argument("<epoch>", "epoch number", epochArg)
    .description("copy the epoch's reports and entropy from the ingest peer (inputsFrom)")
    .action(async (epoch: bigint, _o, cmd: Command) =>
      withEpochs(cmd, async ({ cfg, epochs }) => {
        if (cfg.inputsFrom === undefined)
          throw new ConfigError("pull needs inputsFrom (the ingest peer's URL)");
        print({ epoch, copied: await epochs.pull(epoch, cfg.inputsFrom, progress) });
      }),
    );

  p.command("worker")
    .option("--epoch <e>", "only this epoch's partitions; exit once they are all done", epochArg)
    .option(
      "--threads <n>",
      "stage-1 worker threads (default 0: this process's thread; run one worker per core)",
      intArg,
    )
    .option(
      "--lease-ms <ms>",
      "a claim's lease: renewed while verifying, re-claimed by others once it runs out",
      positiveArg,
    )
    .option("--poll-ms <ms>", "how often to look for partitions to claim (default 1000)", positiveArg)
    .description(
      "verify partitions of partitioned closes on the shared PostgreSQL store (until SIGINT/SIGTERM)",
    )
    .action(async (o: WorkerCommandOptions, cmd: Command) => {
      const cfg = config(cmd);
      const logger = makeLogger(cfg, "hexmesh-oracle-worker");
      const store = await openStore(cfg.store);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const { runPartitionWorker } = await import("../service/partitions.js");
        const stats = await runPartitionWorker(store, {
          ...(o.epoch !== undefined ? { epoch: o.epoch } : {}),
          ...(o.threads !== undefined ? { threads: o.threads } : {}),
          ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
          ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
          signal: stop.signal,
          log: (msg, fields) => logger.info(fields, msg),
        });
        print(stats);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await store.close();
      }
    });

  p.command("prune")
    .argument(
      "[epochs...]",
      "only these epochs (each must be eligible); none: every eligible epoch",
      (v, acc: bigint[] = []) => [...acc, epochArg(v)],
    )
    .option("--dry-run", "count what would be deleted, delete nothing")
    .description("delete the raw reports of epochs whose root has been live retention.keepEpochs epochs")
    .action(async (epochs: bigint[] | undefined, o: { dryRun?: boolean }, cmd: Command) => {
      const cfg = config(cmd);
      if (cfg.retention === undefined)
        throw new ConfigError(
          "prune needs retention.keepEpochs in the configuration (nothing is deleted without it)",
        );
      if (cfg.chain === undefined)
        throw new ConfigError("prune needs chain.rpcUrl and chain.addresses (the live root)");
      const [{ pruneEpochs }, { SLACK_MS }] = await Promise.all([
        import("../service/retention.js"),
        import("../service/results.js"),
      ]);
      const store = await openStore(cfg.store);
      const chain = await connectChain(cfg.chain.rpcUrl, cfg.chain.addresses);
      try {
        const report = await pruneEpochs(store, {
          keepEpochs: cfg.retention.keepEpochs,
          live: await chain.liveRoot(),
          witnessWindowMs: SLACK_MS,
          ...(epochs !== undefined && epochs.length > 0 ? { epochs } : {}),
          dryRun: o.dryRun === true,
          progress: (epoch, deleted) => progress(`prune ${epoch}`, deleted, deleted),
        });
        print(report);
      } finally {
        chain.close();
        await store.close();
      }
    });

  p.command("sign")
    .argument("<epoch>", "epoch number", epochArg)
    .option(...WORK_OPTION)
    .description("sign this oracle's own root of the epoch")
    .action(async (epoch: bigint, o: { work: WorkKind }, cmd: Command) =>
      withEpochs(cmd, async ({ epochs }) => print(await epochs.sign(epoch, o.work))),
    );

  p.command("aggregate")
    .alias("collect")
    .argument("<epoch>", "epoch number", epochArg)
    .option(...WORK_OPTION)
    .description(
      "collect peers' signatures of this oracle's root (GET <peer>/v1/epochs/<epoch>/signature[?work=])",
    )
    .action(async (epoch: bigint, o: { work: WorkKind }, cmd: Command) =>
      withEpochs(cmd, async ({ cfg, epochs }) => {
        print({
          ...(o.work !== "coverage" ? { work: o.work } : {}),
          epoch,
          verifiedSignatures: await epochs.collect(epoch, cfg.peers, progress, o.work),
        });
      }),
    );

  p.command("post")
    .argument("<epoch>", "epoch number", epochArg)
    .option(...WORK_OPTION)
    .description("collect signatures, then post the root with k of them (skipped if already posted)")
    .action(async (epoch: bigint, o: { work: WorkKind }, cmd: Command) =>
      withEpochs(cmd, async ({ cfg, epochs, chain }) => {
        print({
          ...(o.work !== "coverage" ? { work: o.work } : {}),
          epoch,
          ...(await collectAndPost(cfg, epochs, chain, epoch, progress, o.work)),
        });
      }),
    );

  p.command("settle")
    .argument("<epoch>", "epoch number", epochArg)
    .option("--no-post", "build and sign only (an oracle that does not post)")
    .description(
      "data transfer: close the epoch's packet receipts, build and sign its settlement; with a poster key collect peers' signatures and settle on chain (before the epoch's rewards)",
    )
    .action(async (epoch: bigint, o: { post: boolean }, cmd: Command) =>
      withEpochs(cmd, async ({ cfg, chain }) => {
        const logger = makeLogger(cfg);
        const store = await openStore(cfg.store);
        try {
          const dt = await dataTransferFor(cfg, store, chain, () => Date.now(), logger);
          if (dt === undefined) throw new ConfigError("settle needs chain.addresses.dataTransfer");
          const built = await dt.build(epoch);
          const out: Record<string, unknown> = { ...built };
          if (built.entries.length > 0 && cfg.oracleKey !== undefined) out.signature = await dt.sign(epoch);
          if (o.post && cfg.posterKey !== undefined)
            out.outcome = await collectAndSettle(cfg, dt, chain, epoch);
          print(out);
        } finally {
          await store.close();
        }
      }),
    );

  p.command("status")
    .argument("[epoch]", "an epoch to detail", epochArg)
    .option(...WORK_OPTION)
    .description("store counts, recent epochs and their post status, the chain's pending and live roots")
    .action(async (epoch: bigint | undefined, o: { work: WorkKind }, cmd: Command) => {
      const cfg = config(cmd);
      const work = o.work;
      const workConfig = work === "coverage" ? undefined : cfg.works?.[work];
      if (work !== "coverage" && workConfig === undefined)
        throw new ConfigError(`this oracle does not serve ${work} epochs: add works.${work} to its config`);
      const store = await openStore(cfg.store);
      try {
        const out: Record<string, unknown> = {
          store: { backend: store.backend, schema: await store.schemaVersion(), ...(await store.counts()) },
          ...(work !== "coverage" ? { work } : {}),
          epochs: await Promise.all(
            (await store.listEpochs(10, work)).map(async (e) => ({
              ...e,
              post: await store.getPostStatus(e.epoch, work),
              postAttempts: await store.postAttempts(e.epoch, work),
            })),
          ),
        };
        if (epoch !== undefined) {
          out.epoch = await store.getEpochResult(epoch, work);
          out.signatures = await store.signatures(epoch, work);
        }
        if (cfg.chain !== undefined) {
          const chain = await connectChain(cfg.chain.rpcUrl, cfg.chain.addresses);
          const { EpochRootAggregator } = await import("../post/aggregator.js");
          try {
            const d =
              workConfig === undefined
                ? chain.contracts.distributor
                : (await import("@hexmesh/contracts")).RewardsDistributor__factory.connect(
                    workConfig.distributor,
                    chain.provider,
                  );
            const [live, pending, version, threshold] = await Promise.all([
              d.liveRoot(),
              d.pendingRoot(),
              d.oracleSetVersion(),
              d.threshold(),
            ]);
            out.chain = {
              live: { epoch: live[0], root: live[1] },
              pending: { epoch: pending[0], root: pending[1], readyAt: pending[3] },
              oracleSetVersion: version,
              threshold,
            };
            if (epoch !== undefined && out.epoch !== null) {
              const r = await store.getEpochResult(epoch, work);
              out.onChain = await new EpochRootAggregator(d)
                .state({
                  epoch,
                  root: r!.root,
                  totalCumulative: r!.totalCumulative,
                  dataHash: r!.dataHash,
                  oracleSetVersion: version,
                })
                .catch((e: Error) => ({ state: "conflict", message: e.message }));
            }
          } catch (e) {
            out.chain = { error: (e as Error).message };
          } finally {
            chain.close();
          }
        }
        print(out);
      } finally {
        await store.close();
      }
    });

  p.command("watch")
    .description(
      "follow RootPosted and check each pending root against the oracles' published result sets; " +
        "report (evidence file, log, hook) any root they do not confirm, and veto it with HEXMESH_GUARDIAN_KEY",
    )
    .requiredOption("--rpc <url>", "JSON-RPC endpoint of the chain")
    .requiredOption(
      "--distributor <address>",
      "the RewardsDistributor to watch (coverage, storage or compute: its subnetwork() says which result sets to fetch)",
    )
    .requiredOption("--oracle <url...>", "oracle API base URLs whose result sets are checked (one or more)")
    .option("--from-block <n>", "first block to scan for RootPosted (the deployment's)", intArg, 0)
    .option("--once", "check the roots posted so far that are still pending, then exit")
    .option("--interval <seconds>", "seconds between polls", intArg, 12)
    .option("--hook <command>", "shell command run for every root not confirmed (HEXMESH_WATCH_* variables)")
    .option("--evidence-dir <dir>", "where evidence files are written", "hexmesh-watch-evidence")
    .option(
      "--veto-unverified",
      "with HEXMESH_GUARDIAN_KEY, also veto a root no oracle publishes a result set for",
    )
    .option(
      "--reverify",
      "also recompute each pending epoch from its inputs (needs --registry, --vault, --controller)",
    )
    .option("--registry <address>", "DeviceRegistry (for --reverify)")
    .option("--vault <address>", "StakingVault (for --reverify)")
    .option("--controller <address>", "EmissionsController (for --reverify)")
    .option(
      "--credits <address>",
      "UsageCredits (for --reverify: usage read from its UsageRecorded logs and reconciled)",
    )
    .option("--subnetwork <id>", "bytes32 subnetwork id of the usage (default: coverage)")
    .option(
      "--inputs-from <url>",
      "oracle whose inputs are pulled for --reverify (default: the first --oracle)",
    )
    .action(async (o: WatchOptions) => process.exit(await watch(o)));

  p.command("migrate")
    .description("apply pending schema migrations and print the version")
    .action(async (_o, cmd: Command) => {
      const store = await openStore(config(cmd).store);
      print({ backend: store.backend, schema: await store.schemaVersion() });
      await store.close();
    });

  p.command("check-config")
    .description("validate the configuration and print it (keys redacted)")
    .action((_o, cmd: Command) => {
      const cfg = config(cmd);
      print({
        ...cfg,
        ...(cfg.oracleKey !== undefined ? { oracleKey: "(set)" } : {}),
        ...(cfg.posterKey !== undefined ? { posterKey: "(set)" } : {}),
      });
    });
  return p;
}

/** Runs the CLI; configuration and argument errors print one clear message and exit 2. */
export async function main(argv = process.argv): Promise<void> {
  try {
    // The heap's headroom over its live size (util/heap.ts): the process's policy, set before any work.
    limitHeapGrowth();
    await program().parseAsync(argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`hexmesh-oracle: ${e.message}\n`);
      process.exit(2);
    }
    // Our contracts' reverts by name with their arguments and what to do next.
    process.stderr.write(`hexmesh-oracle: ${describeContractError(e)}\n`);
    process.exit(1);
  }
}
