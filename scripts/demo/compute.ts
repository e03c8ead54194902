/**
 * The demo's compute section (issue 18): a customer renders frames with the path tracer on two
 * providers of the CPU class. Provider A runs the real provider agent (@hexmesh/compute's
 * `startProvider`, on localhost, talking to the chain over JSON-RPC); provider B is a lazy operator
 * with no agent that commits a made-up result hash. Both jobs are spot-checked (a new provider's
 * first jobs always are); the compute oracle quorum re-executes them from their spec with the same
 * runner, finds B's hash wrong, signs a FraudVerdict (2 of 3) and submits it: B's penalty waits out
 * the 4-day veto window and executes (20% to the prover, the rest burned; the customer refunded);
 * A's job finalizes after its acceptance window and pays A (UsageRecorded). The frame A rendered is
 * fetched from A's blob server, checked against its commitment and written to a file.
 * No top-level side effects.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { id as utf8Hash } from "ethers";

import {
  connectCompute,
  exampleProgram,
  fetchOutput,
  pathTracerInput,
  startBlobServer,
  startProvider,
  submitJob,
  validateProviderConfig,
  type RunningProvider,
} from "@hexmesh/compute";
import { OracleKey, packSignatures } from "@hexmesh/oracle";
import { ComputeChecker, signFraudVerdict, verdictOf, type CheckResult } from "@hexmesh/oracle/compute/check";

import { demoWallet, eventOf, fund, keyFileText, startOperator } from "./operators.js";
import { COMPUTE_CPU_CLASS, MESH, type Suite } from "./suite.js";

const STATUS = ["None", "Open", "Accepted", "Committed", "Disputed", "Finalized", "Refunded"] as const;
const UNLIMITED = 2n ** 128n - 1n;
/** The frame each job renders (different seeds: two different jobs). */
const FRAME = { width: 160, height: 120, samples: 8 };
const MAX_UNITS = 500;

export interface ComputeJobReport {
  readonly jobId: bigint;
  readonly provider: string;
  readonly committedHash: string;
  /** The compute oracles' re-execution check: "match" or "fraud". */
  readonly check: string;
  readonly spotChecked: boolean;
}

export interface ComputeSectionResult {
  readonly honest: ComputeJobReport & {
    readonly usedUnits: bigint;
    readonly consumed: bigint;
    readonly released: bigint;
    readonly frameFile: string;
    readonly frameBytes: number;
  };
  readonly cheat: ComputeJobReport & {
    /** keccak256 of the re-executed output (the verdict's evidence). */
    readonly evidenceHash: string;
    readonly refunded: bigint;
    readonly penalty: bigint;
    readonly fromCollateral: bigint;
    readonly fromVault: bigint;
    readonly toProver: bigint;
    readonly burned: bigint;
    readonly vetoDelay: bigint;
  };
  readonly customerCredits: { readonly before: bigint; readonly after: bigint };
}

/**
 * Runs the compute section on `suite`'s chain, served as JSON-RPC at `rpcUrl`; files under `outDir`.
 * `print` gets each line the section shows.
 */
export async function runComputeSection(
  suite: Suite,
  rpcUrl: string,
  outDir: string,
  print: (line: string) => void,
): Promise<ComputeSectionResult> {
  const jobs = suite.computeJobs;
  const jobsAddress = await jobs.getAddress();
  const { time } = suite;
  // A fresh directory: the agent's state file names jobs by id, and a new chain numbers them from 1.
  const dir = path.join(outDir, "compute");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  // Verdicts are checked against the compute distributor's oracle set (governance set it:
  // scripts/demo/governance.ts).
  const distributor = await suite.computeDistributor.getAddress();
  if ((await jobs.oracleDistributor()).toLowerCase() !== distributor.toLowerCase())
    throw new Error("ComputeJobs is not pointed at the compute distributor (run prepareMarkets first)");

  // Two CPU providers, bonded, each with collateral in the market; a customer with credits.
  const collateral = MESH(1_000);
  const a = await startOperator(suite, "compute A", COMPUTE_CPU_CLASS, collateral);
  const b = await startOperator(suite, "compute B", COMPUTE_CPU_CLASS, collateral);
  for (const op of [a, b]) {
    await (await suite.token.connect(op.wallet).approve(jobsAddress, collateral)).wait();
    await (await jobs.connect(op.wallet).depositCollateral(collateral)).wait();
  }
  const customer = demoWallet("compute customer", a.wallet.provider!);
  await fund(suite, customer.address, MESH(20));
  await (await suite.token.connect(customer).approve(await suite.credits.getAddress(), MESH(20))).wait();
  await (await suite.credits.connect(customer).burnForCredits(MESH(20), 0n, customer.address)).wait();
  await (await suite.credits.connect(customer).approveSpender(jobsAddress, UNLIMITED)).wait();
  const creditsBefore = await suite.credits.balanceOf(customer.address);
  const price = await jobs.priceOf(COMPUTE_CPU_CLASS);
  print(
    `Providers  compute A ${a.wallet.address} and compute B ${b.wallet.address}: one CPU device each (class ${COMPUTE_CPU_CLASS}, $${Number(price) / 1e6}/unit), bonded, ${fmtMesh(collateral)} MESH collateral in ComputeJobs`,
  );
  print(
    `Customer   ${customer.address} burned 20 MESH for ${creditsBefore.toLocaleString("en-US")} credits and let ComputeJobs spend them`,
  );

  // Key files: the agent and the client commands read keys as operators keep them.
  const keys = path.join(dir, "keys");
  mkdirSync(keys, { recursive: true, mode: 0o700 });
  const keyFile = (name: string, text: string) => {
    const file = path.join(keys, `${name}.key`);
    writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  const providerKey = keyFile("compute-a", keyFileText(a.wallet));
  const customerKey = keyFile("compute-customer", keyFileText(customer));

  const blobs = await startBlobServer({
    dir: path.join(dir, "customer-blobs"),
    maxBytes: 64 * 1024 * 1024,
    host: "127.0.0.1",
    port: 0,
  });
  let agent: RunningProvider | undefined;
  const agentLog: string[] = [];
  const chain = await connectCompute(rpcUrl, customerKey, jobsAddress);
  try {
    const config = validateProviderConfig(
      {
        key: providerKey,
        rpc: rpcUrl,
        computeJobs: jobsAddress,
        devices: [{ id: a.deviceId.toString(), class: COMPUTE_CPU_CLASS }],
        state: path.join(dir, "compute-a-state.sqlite"),
        blobs: { dir: path.join(dir, "compute-a-blobs"), port: 0 },
        sources: [blobs.url],
        pollMs: 100,
        fromBlock: await suite.ethers.provider.getBlockNumber(),
      },
      "the demo's compute provider A",
      dir,
    );
    agent = await startProvider(config, (event, fields) =>
      agentLog.push(`${event} ${JSON.stringify(fields)}`),
    );
    print(
      `Agent      compute A's provider agent: blob server ${agent.blobUrl}, reading ComputeJobs over ${rpcUrl}`,
    );

    // The customer submits two frames (the same program, two inputs): blobs up, credits locked.
    const program = await exampleProgram("pathtracer");
    const submit = async (seed: number) =>
      submitJob(chain, {
        program,
        input: pathTracerInput({ ...FRAME, seed }),
        deviceClass: COMPUTE_CPU_CLASS,
        maxUnits: MAX_UNITS,
        deadline: (await time.latest()) + 2 * 3600,
        blobs: [blobs.url],
      });
    const firstBlock = await suite.ethers.provider.getBlockNumber();
    const honestJob = await submit(1);
    const cheatJob = await submit(2);
    const honestId = BigInt(honestJob.jobId);
    const cheatId = BigInt(cheatJob.jobId);
    print(
      `Jobs       customer submitted jobs ${honestId} and ${cheatId}: path tracer ${FRAME.width}x${FRAME.height}, ${FRAME.samples} samples/pixel, up to ${MAX_UNITS} units each; ${honestJob.lockedCredits} credits locked per job`,
    );

    // A's operator accepts job 1; its agent fetches, renders, serves and commits.
    await agent.agent.accept(honestId);
    const honestView = await waitForStatus(suite, honestId, "Committed", () => agentLog.join("\n"));
    print(
      `  job ${honestId}    compute A accepted (collateral ${fmtMesh(honestView.collateral)} MESH locked); its agent rendered the frame and committed ${honestView.resultHash} for ${honestView.usedUnits} units`,
    );
    // B accepts job 2 and, without running anything, commits a made-up hash for all the units.
    await (await jobs.connect(b.wallet).acceptJob(cheatId, b.deviceId)).wait();
    const fakeHash = utf8Hash("compute B did not render this");
    await (await jobs.connect(b.wallet).commitResult(cheatId, fakeHash, MAX_UNITS)).wait();
    print(
      `  job ${cheatId}    compute B accepted, ran nothing, and committed ${fakeHash} for ${MAX_UNITS} units`,
    );

    // Spot checks: seeded by the block after each commit; a new provider's first jobs are always checked.
    const checked = new Map<bigint, boolean>();
    for (const id of [honestId, cheatId]) {
      const receipt = await (await jobs.connect(suite.deployer).recordSpotCheck(id)).wait();
      checked.set(id, eventOf(jobs.interface, receipt, "SpotCheckRecorded").args.selected as boolean);
    }
    print(
      `Checks     spot checks recorded: job ${honestId} ${checked.get(honestId) ? "selected" : "not selected"}, job ${cheatId} ${checked.get(cheatId) ? "selected" : "not selected"} (a provider's first 10 jobs are always re-executed)`,
    );

    // The compute oracles (@hexmesh/oracle's ComputeChecker, one per oracle, each with its own
    // cache) find the selected jobs in the chain's SpotCheckRecorded logs, fetch their spec, program
    // and input by hash from the customer's blob server and re-execute them with the same WASI runner.
    const to = await suite.ethers.provider.getBlockNumber();
    const checkers = suite.oracleKeys.map(
      (_, i) =>
        new ComputeChecker(jobs, { sources: [blobs.url], cacheDir: path.join(dir, `oracle-${i}-cache`) }),
    );
    const selected = await checkers[0]!.jobsToCheck(firstBlock, to);
    if (selected.join() !== [honestId, cheatId].join())
      throw new Error(`jobs selected for re-execution: ${selected.join(", ")}`);
    // One after another: each re-execution is a worker thread, and the machine may be small.
    const results: CheckResult[][] = [];
    for (const c of checkers) {
      const mine: CheckResult[] = [];
      for (const id of selected) mine.push(await c.check(id));
      results.push(mine);
    }
    const [honestCheck, cheatCheck] = results[0]!;
    for (const r of results.flat())
      if (r.outcome !== (r.jobId === honestId ? "match" : "fraud"))
        throw new Error(
          `job ${r.jobId}: an oracle's check found ${r.outcome} ${r.reason ?? ""} ${r.detail ?? ""}`,
        );
    const cheatRun = { outputHash: cheatCheck!.evidenceHash! };
    print(
      `  re-run     ${checkers.length} compute oracles re-executed both: job ${honestId} matches its commitment; job ${cheatId} gives ${cheatRun.outputHash}, not the committed hash (wrong-result)`,
    );

    // Each oracle signs the FraudVerdict for its own finding; 2 of 3 signatures (the compute
    // distributor's threshold) are packed and submitted.
    const oracle = suite.oracleKeys[0]!;
    const prover = oracle.address;
    const terms = {
      prover,
      oracleSetVersion: await suite.computeDistributor.oracleSetVersion(),
      deadline: BigInt(await time.latest()) + 3_600n,
    };
    const verdicts = results.map((r) => verdictOf(r[1]!, terms));
    const verdict = verdicts[0]!;
    if (verdicts.some((v) => JSON.stringify(v, jsonBig) !== JSON.stringify(verdict, jsonBig)))
      throw new Error("the oracles' verdicts differ");
    const threshold = Number(await suite.computeDistributor.threshold());
    const signatures = packSignatures(
      suite.oracleKeys.map((k) => signFraudVerdict(new OracleKey(k), suite.chainId, jobsAddress, verdict)),
      threshold,
    );
    const lockedBefore = await suite.credits.locked(customer.address, jobsAddress);
    const verdictReceipt = await (
      await jobs.connect(suite.deployer).submitVerdict(verdict, signatures)
    ).wait();
    const scheduled = eventOf(jobs.interface, verdictReceipt, "PenaltyScheduled");
    const refundedNow = lockedBefore - (await suite.credits.locked(customer.address, jobsAddress));
    const executableAt = scheduled.args.executableAt as bigint;
    const verdictAt = BigInt((await suite.ethers.provider.getBlock(verdictReceipt!.blockNumber))!.timestamp);
    print(
      `Verdict    FraudVerdict(job ${cheatId}, compute B, wrong_result, evidence = the re-executed hash) signed by ${threshold} of ${suite.oracleKeys.length} compute oracles, submitted: customer refunded ${refundedNow} credits; penalty ${fmtMesh(scheduled.args.amount as bigint)} MESH scheduled (max(10x the job's value, the floor)), executable after the ${(executableAt - verdictAt) / 86_400n}-day guardian veto window`,
    );

    // A's job: the 24-hour acceptance window passes with no dispute; finalize pays A.
    const windowEnd = BigInt(honestView.committedAt) + (await jobs.ACCEPTANCE_WINDOW());
    await time.increaseTo(windowEnd);
    const finalized = await (await jobs.connect(suite.deployer).finalize(honestId)).wait();
    const paid = eventOf(jobs.interface, finalized, "JobFinalized");
    const usage = eventOf(suite.credits.interface, finalized, "UsageRecorded");
    if ((usage.args.provider as string).toLowerCase() !== a.wallet.address.toLowerCase())
      throw new Error("UsageRecorded names another provider than compute A");
    print(
      `Paid       job ${honestId} finalized after its 24-hour window: UsageRecorded ${paid.args.consumed} credits to compute A for ${honestView.usedUnits} units; ${paid.args.released} released to the customer; A's collateral unlocked`,
    );

    // The veto window passes; anyone executes the penalty.
    await time.increaseTo(executableAt);
    const supplyBefore = await suite.token.totalSupply();
    const proverBefore = await suite.token.balanceOf(prover);
    const executed = await (await jobs.connect(suite.deployer).executePenalty(cheatId)).wait();
    const taken = eventOf(jobs.interface, executed, "PenaltyExecuted");
    const burned = taken.args.burned as bigint;
    const toProver = taken.args.toProver as bigint;
    if (supplyBefore - (await suite.token.totalSupply()) !== burned)
      throw new Error("MESH supply did not fall by the penalty's burned part");
    if ((await suite.token.balanceOf(prover)) - proverBefore !== toProver)
      throw new Error("the prover was not paid its share");
    print(
      `Slashed    veto window passed, penalty executed: ${fmtMesh(taken.args.fromCollateral as bigint)} MESH from B's job collateral + ${fmtMesh(taken.args.fromVault as bigint)} MESH slashed from its vault stake (at most the vault's per-event cap; the vault sends it to the treasury) of the ${fmtMesh(scheduled.args.amount as bigint)} MESH asked; ${fmtMesh(toProver)} MESH (20% of the total) to the prover ${prover}, the rest of the collateral part, ${fmtMesh(burned)} MESH, burned; B takes a strike`,
    );

    // The frame: fetched from A's agent by hash, checked against the commitment, written to a file.
    const frameFile = path.join(dir, `frame-job-${honestId}.png`);
    const fetched = await fetchOutput(jobs, honestId, [agent.blobUrl], frameFile);
    print(
      `Frame      ${fetched.bytes}-byte PNG fetched from compute A's blob server, hash = its commitment, written to ${path.relative(process.cwd(), frameFile)}`,
    );
    const creditsAfter = await suite.credits.balanceOf(customer.address);
    return {
      honest: {
        jobId: honestId,
        provider: a.wallet.address,
        committedHash: honestView.resultHash,
        check: honestCheck!.outcome,
        spotChecked: checked.get(honestId)!,
        usedUnits: BigInt(honestView.usedUnits),
        consumed: paid.args.consumed as bigint,
        released: paid.args.released as bigint,
        frameFile,
        frameBytes: fetched.bytes,
      },
      cheat: {
        jobId: cheatId,
        provider: b.wallet.address,
        committedHash: fakeHash,
        check: cheatCheck!.outcome,
        evidenceHash: cheatRun.outputHash,
        spotChecked: checked.get(cheatId)!,
        refunded: refundedNow,
        penalty: scheduled.args.amount as bigint,
        fromCollateral: taken.args.fromCollateral as bigint,
        fromVault: taken.args.fromVault as bigint,
        toProver,
        burned,
        vetoDelay: executableAt - verdictAt,
      },
      customerCredits: { before: creditsBefore, after: creditsAfter },
    };
  } finally {
    await agent?.stop();
    chain.close();
    await blobs.close();
  }
}

async function waitForStatus(
  suite: Suite,
  jobId: bigint,
  want: (typeof STATUS)[number],
  log: () => string,
  // Generous: on a loaded machine the render alone can take many times its usual second or two.
  ms = 300_000,
) {
  const until = Date.now() + ms;
  for (;;) {
    const job = await suite.computeJobs.job(jobId);
    if (STATUS[Number(job.status)] === want) return job;
    if (Date.now() > until)
      throw new Error(`job ${jobId} is ${STATUS[Number(job.status)]}, not ${want}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const jsonBig = (_: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

function fmtMesh(wei: bigint): string {
  const whole = wei / 10n ** 18n;
  const frac = (wei % 10n ** 18n).toString().padStart(18, "0").slice(0, 2);
  return `${whole.toLocaleString("en-US")}.${frac}`;
}
