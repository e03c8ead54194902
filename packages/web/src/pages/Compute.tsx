/**
 * Compute: the connected wallet's jobs as customer or provider (`#/compute`), and one job
 * (`#/compute/:jobId`): state, class, price, units, deadline, result hash, acceptance window,
 * disputes, spot check, verdict and penalty; the customer accepts a result early or disputes it
 * (evidence hashed in the browser) through the wallet, each refusal with the contract's reason.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { keccak256, toHex } from "viem";
import { useConnection } from "wagmi";

import { ComputeJobsAbi } from "@hexmesh/contracts/abis";

import { AsOf } from "../components/AsOf";
import { DataTable } from "../components/DataTable";
import { Notice } from "../components/Notice";
import { TxStatus, useTransaction } from "../components/Wallet";
import { chainTime, credits, duration, mesh, parseId, shortHex } from "../lib/format";
import { MARKET_ERRORS, type JobSummary } from "../lib/market";
import { useJob, useJobs } from "../lib/useData";

/** "in 3h 2m" / "closed 5m ago" against the block's chain time. */
function until(t: bigint, now: bigint): string {
  return t > now ? `in ${duration(t - now)}` : `passed ${duration(now - t)} ago`;
}

function windowText(j: JobSummary, now: bigint): string {
  if (j.windowEnd === null) return "no result yet";
  return `${chainTime(j.windowEnd)} (${j.windowEnd > now ? `closes in ${duration(j.windowEnd - now)}` : "closed"})`;
}

export function ComputeList() {
  const account = useConnection().address;
  const state = useJobs(account);
  if (account === undefined) return <Notice title="Compute" text="Connect a wallet to see its jobs." />;
  if (state.isError) return <Notice title="Compute" text={state.error.message} alert />;
  const s = state.data;
  return (
    <section>
      <h1>Compute</h1>
      <p>
        Jobs this account created as a customer or accepted as a provider. A committed result can be accepted
        or disputed for 24 hours; then the used units are paid and the rest of the credits released.
      </p>
      {s ? (
        <>
          <AsOf at={s} />
          <DataTable
            testId="jobs"
            caption={`Jobs of ${account} (block ${s.blockNumber})`}
            columns={[
              { header: "Job", cell: (r) => <Link to={`/compute/${r.id}`}>#{r.id.toString()}</Link> },
              { header: "Role", cell: (r) => r.role },
              { header: "State", cell: (r) => r.status },
              { header: "Class", cell: (r) => `${r.deviceClass} (${r.tier})` },
              {
                header: "Price (credits/unit)",
                cell: (r) => r.pricePerUnit.toLocaleString("en-US"),
                numeric: true,
              },
              { header: "Units (used / max)", cell: (r) => `${r.usedUnits} / ${r.maxUnits}`, numeric: true },
              { header: "Deadline", cell: (r) => chainTime(r.deadline) },
              { header: "Acceptance window ends", cell: (r) => windowText(r, s.blockTime) },
            ]}
            rows={s.list}
            rowKey={(r) => r.id.toString()}
            empty="no jobs"
          />
        </>
      ) : (
        <p>Reading the chain…</p>
      )}
    </section>
  );
}

export function JobPage() {
  const { jobId } = useParams();
  const id = parseId(jobId);
  const account = useConnection().address;
  const queries = useQueryClient();
  const state = useJob(id, account);
  const tx = useTransaction(() => void queries.invalidateQueries(), MARKET_ERRORS);
  const [evidence, setEvidence] = useState("");

  if (id === null) return <Notice title="Job" text={`“${jobId}” is not a job id.`} alert />;
  if (state.isError) return <Notice title={`Job ${id.toString()}`} text={state.error.message} alert />;
  const d = state.data;
  if (d === undefined) return <Notice title={`Job ${id.toString()}`} text="Reading the chain…" />;
  const market = { address: d.jobs, abi: ComputeJobsAbi } as const;
  const j = d.summary;
  const evidenceHash = evidence.trim() === "" ? null : keccak256(toHex(evidence));

  function acceptEarly() {
    void tx.write("Accept result", { ...market, functionName: "acceptResult", args: [id!] });
  }

  function dispute() {
    if (evidenceHash === null) {
      tx.fail("Dispute: describe the evidence (its keccak256 is what the chain records)");
      return;
    }
    void tx.write("Dispute", { ...market, functionName: "dispute", args: [id!, evidenceHash] });
  }

  const value = j.pricePerUnit * BigInt(j.maxUnits);
  return (
    <section>
      <h1>Job {id.toString()}</h1>
      <dl className="stats">
        <div>
          <dt>State</dt>
          <dd data-testid="job-status">{j.status}</dd>
        </div>
        <div>
          <dt>Class and tier</dt>
          <dd data-testid="job-class">
            class {j.deviceClass}, {j.tier}
          </dd>
        </div>
        <div>
          <dt>Price</dt>
          <dd data-testid="job-price">{credits(j.pricePerUnit)} per unit</dd>
        </div>
        <div>
          <dt>Units used / max</dt>
          <dd data-testid="job-units">
            {j.usedUnits} / {j.maxUnits} (up to {credits(value)} locked
            {j.tier === "verified" ? " per provider" : ""})
          </dd>
        </div>
        <div>
          <dt>Deadline</dt>
          <dd data-testid="job-deadline">
            {chainTime(j.deadline)} ({until(j.deadline, d.blockTime)})
          </dd>
        </div>
        <div>
          <dt>Customer</dt>
          <dd>
            <code data-testid="job-customer">{j.customer}</code>
          </dd>
        </div>
        <div>
          <dt>Provider</dt>
          <dd>
            <code data-testid="job-provider">{j.provider ?? "none yet"}</code>
            {d.second ? (
              <>
                {" "}
                and <code>{d.second.provider}</code> (
                {d.second.committed ? `${d.second.usedUnits} units` : "not committed"})
              </>
            ) : null}
          </dd>
        </div>
        <div>
          <dt>Device</dt>
          <dd data-testid="job-device">
            {j.deviceId === null ? (
              "any device of the class"
            ) : (
              <>
                {j.status === "open" ? "directed to device " : "device "}
                <Link to={`/device/${j.deviceId}`}>{j.deviceId.toString()}</Link>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Provider collateral</dt>
          <dd data-testid="job-collateral">{mesh(j.collateral, 6)} MESH</dd>
        </div>
        <div>
          <dt>Spec hash</dt>
          <dd>
            <code title={j.specHash}>{shortHex(j.specHash)}</code>
          </dd>
        </div>
        <div>
          <dt>Result hash</dt>
          <dd>
            <code data-testid="job-result" title={j.resultHash ?? undefined}>
              {j.resultHash ?? "not committed"}
            </code>
          </dd>
        </div>
        <div>
          <dt>Acceptance window ends</dt>
          <dd data-testid="job-window">{windowText(j, d.blockTime)}</dd>
        </div>
        <div>
          <dt>Spot check</dt>
          <dd data-testid="job-spot-check">
            {d.spotCheck.checkBlock === 0n
              ? "none before the result is committed"
              : `${d.spotCheck.forced ? "forced (one of the provider's first jobs)" : "by chance"}; ${
                  d.spotCheck.recorded
                    ? d.spotCheck.selected
                      ? "selected for re-execution"
                      : "not selected"
                    : `decided by block ${d.spotCheck.checkBlock}'s hash, not recorded yet`
                }`}
          </dd>
        </div>
        <div>
          <dt>Disputes</dt>
          <dd data-testid="job-disputes">
            {d.disputes.length === 0
              ? "none"
              : d.disputes
                  .map((x) => `evidence ${shortHex(x.evidenceHash)} (block ${x.blockNumber})`)
                  .join("; ")}
          </dd>
        </div>
        <div>
          <dt>Verdict and penalty</dt>
          <dd data-testid="job-penalty">
            {d.verdict === null
              ? "no fraud verdict"
              : `${d.verdict.provider} found at fault (${d.verdict.reason}), proven by ${shortHex(d.verdict.prover)}`}
            {d.penalty
              ? `; penalty ${mesh(d.penalty.amount, 4)} MESH (${mesh(d.penalty.escrow, 4)} MESH escrowed), ${d.penalty.status}, executable ${chainTime(d.penalty.executableAt)}`
              : ""}
          </dd>
        </div>
        <div>
          <dt>Outcome</dt>
          <dd data-testid="job-outcome">{d.outcome ?? "not settled"}</dd>
        </div>
      </dl>
      <AsOf at={d} />
      <form className="row" onSubmit={(e) => e.preventDefault()}>
        <button type="button" onClick={acceptEarly}>
          Accept result
        </button>
        <label>
          Evidence for a dispute{" "}
          <input name="dispute-evidence" value={evidence} onChange={(e) => setEvidence(e.target.value)} />
        </label>
        <button type="button" onClick={dispute}>
          Dispute
        </button>
      </form>
      <p data-testid="job-evidence-hash">
        {evidenceHash === null
          ? "The chain records the keccak256 of the evidence; the compute oracles judge the dispute."
          : `The dispute will record the evidence hash ${evidenceHash}.`}
      </p>
      <TxStatus state={tx.state} />
    </section>
  );
}
