/**
 * Epochs as the chain recorded them (RootPosted), one table per distributor hexmesh.json names
 * (coverage, storage, compute): root, total, dataHash, readiness, which oracles signed (recovered
 * from postRoot's signatures), and Verify in browser against that kind's published result set.
 */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { decodeFunctionData, recoverTypedDataAddress, type Address, type Hex } from "viem";

import { EmissionsControllerAbi, RewardsDistributorAbi } from "@hexmesh/contracts/abis";
import { usageScoresOf } from "@hexmesh/oracle/api/client";
import { DISTRIBUTOR_DOMAIN_NAME, DISTRIBUTOR_DOMAIN_VERSION, EPOCH_ROOT_TYPES } from "@hexmesh/protocol";

import { AsOf } from "../components/AsOf";
import { DataTable } from "../components/DataTable";
import { latestBlock } from "../lib/chain";
import { rewardDistributors, WORK_NAMES, type RewardWork } from "../lib/config";
import { useApp } from "../lib/context";
import { chainTime, mesh, shortHex } from "../lib/format";
import type { VerifyRequest, VerifyResult } from "../lib/verify";

interface PostedRoot {
  readonly epoch: bigint;
  readonly root: Hex;
  readonly totalCumulative: bigint;
  readonly dataHash: Hex;
  readonly oracleSetVersion: bigint;
  readonly readyAt: bigint;
  readonly signers: readonly Address[];
  /** The controller's scheduled emission of the epoch. */
  readonly emission: bigint;
  /** What the epoch's distribution funded this distributor with (EpochFunded), 0 if not yet. */
  readonly funded: bigint;
}

function usePostedRoots(work: RewardWork, address: Address) {
  const { client, config } = useApp();
  return useQuery({
    queryKey: ["posted-roots", work, address],
    refetchInterval: 10_000,
    queryFn: async () => {
      const at = await latestBlock(client);
      const distributor = { address, abi: RewardsDistributorAbi } as const;
      const [events, fundings, live] = await Promise.all([
        client.getContractEvents({
          ...distributor,
          eventName: "RootPosted",
          fromBlock: config.fromBlock,
          toBlock: at.blockNumber,
        }),
        client.getContractEvents({
          ...distributor,
          eventName: "EpochFunded",
          fromBlock: config.fromBlock,
          toBlock: at.blockNumber,
        }),
        client.readContract({ ...distributor, functionName: "liveRoot", blockNumber: at.blockNumber }),
      ]);
      const roots = await Promise.all(
        events.map(async (e): Promise<PostedRoot> => {
          const a = e.args;
          const message = {
            epoch: a.epoch!,
            root: a.root!,
            totalCumulative: a.totalCumulative!,
            dataHash: a.dataHash!,
            oracleSetVersion: a.oracleSetVersion!,
          };
          // Which oracles signed: recover each signature in the postRoot call against the message.
          const tx = await client.getTransaction({ hash: e.transactionHash });
          const call = decodeFunctionData({ abi: RewardsDistributorAbi, data: tx.input });
          const signers: Address[] = [];
          if (call.functionName === "postRoot") {
            const sigs = call.args[1].slice(2);
            for (let i = 0; i + 130 <= sigs.length; i += 130)
              signers.push(
                await recoverTypedDataAddress({
                  domain: {
                    name: DISTRIBUTOR_DOMAIN_NAME,
                    version: DISTRIBUTOR_DOMAIN_VERSION,
                    chainId: config.chainId,
                    verifyingContract: address,
                  },
                  types: { EpochRoot: EPOCH_ROOT_TYPES.EpochRoot.map((f) => ({ ...f })) },
                  primaryType: "EpochRoot",
                  message,
                  signature: `0x${sigs.slice(i, i + 130)}`,
                }),
              );
          }
          const emission = await client.readContract({
            address: config.addresses.controller,
            abi: EmissionsControllerAbi,
            functionName: "emissionOf",
            args: [message.epoch],
            blockNumber: at.blockNumber,
          });
          const funded = fundings
            .filter((f) => f.args.epoch === message.epoch)
            .reduce((sum, f) => sum + f.args.amount!, 0n);
          return { ...message, readyAt: a.readyAt!, signers, emission, funded };
        }),
      );
      return { ...at, roots, live: { epoch: live[0], root: live[1] } };
    },
  });
}

type Verification =
  | { readonly state: "running" }
  | { readonly state: "done"; readonly result: VerifyResult }
  | { readonly state: "error"; readonly message: string };

function runInWorker(req: VerifyRequest): Promise<VerifyResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("../lib/verify.worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (e: MessageEvent<{ ok: boolean; result?: VerifyResult; error?: string }>) => {
      worker.terminate();
      if (e.data.ok) resolve(e.data.result!);
      else reject(new Error(e.data.error));
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(e.message));
    };
    worker.postMessage(req);
  });
}

export function Epochs() {
  const { config } = useApp();
  return (
    <section>
      <h1>Epochs</h1>
      {rewardDistributors(config).map((d) => (
        <KindEpochs key={d.work} work={d.work} distributor={d.distributor} />
      ))}
    </section>
  );
}

/** The roots posted to one kind's distributor. Coverage keeps the page's original test ids. */
function KindEpochs({ work, distributor }: { readonly work: RewardWork; readonly distributor: Address }) {
  const { oracle, config } = useApp();
  const posted = usePostedRoots(work, distributor);
  const [checks, setChecks] = useState<Record<string, Verification>>({});
  const p = posted.data;
  const idOf = (what: string) => (work === "coverage" ? what : `${what}-${work}`);
  const title = WORK_NAMES[work];

  async function verify(r: PostedRoot) {
    const key = r.epoch.toString();
    setChecks((c) => ({ ...c, [key]: { state: "running" } }));
    try {
      const { bytes } = await oracle.encoding(r.epoch, work);
      // A storage epoch's usage is scaled by the retrieval scores its results document lists.
      const usageScores =
        work === "storage" ? usageScoresOf(await oracle.results(r.epoch, work)) : new Map<Hex, number>();
      const base: VerifyRequest = {
        bytes,
        posted: {
          epoch: r.epoch.toString(),
          root: r.root,
          totalCumulative: r.totalCumulative.toString(),
          dataHash: r.dataHash,
        },
        chainId: String(config.chainId),
        registry: config.addresses.registry,
        ...(usageScores.size > 0 ? { usageScores } : {}),
      };
      let result = await runInWorker(base);
      // The rebuilt root differs: locate the first leaf the posted root does not hold, with the
      // proofs the oracle serves for that root (they verify against the chain or not at all).
      if (result.rebuiltRoot !== null && result.rebuiltRoot !== r.root) {
        const proofs: Record<string, Hex[] | null> = {};
        for (const owner of result.owners) {
          const leaf = await oracle.owner(owner, { epoch: r.epoch.toString(), work }).catch(() => null);
          proofs[owner] = leaf === null || leaf.root !== r.root ? null : (leaf.proof as Hex[]);
        }
        result = await runInWorker({ ...base, proofs });
      }
      setChecks((c) => ({ ...c, [key]: { state: "done", result } }));
    } catch (e) {
      setChecks((c) => ({
        ...c,
        [key]: { state: "error", message: e instanceof Error ? e.message : String(e) },
      }));
    }
  }

  return (
    <>
      {work === "coverage" ? null : <h2>{title}</h2>}
      {posted.error ? (
        <p role="alert">
          Cannot read the {work} distributor: {String(posted.error)}
        </p>
      ) : null}
      {p ? (
        <>
          <AsOf at={p} />
          <DataTable
            testId={idOf("epoch-table")}
            caption={`${title} roots posted on chain (RootPosted events)`}
            columns={[
              { header: "Epoch", cell: (r) => r.epoch.toString() },
              { header: "Emission", cell: (r) => `${mesh(r.emission)} MESH`, numeric: true },
              { header: `${title} pool funded`, cell: (r) => `${mesh(r.funded)} MESH`, numeric: true },
              { header: "Root", cell: (r) => <code title={r.root}>{shortHex(r.root)}</code> },
              {
                header: "Total paid (cumulative)",
                cell: (r) => `${mesh(r.totalCumulative)} MESH`,
                numeric: true,
              },
              { header: "dataHash", cell: (r) => <code title={r.dataHash}>{shortHex(r.dataHash)}</code> },
              {
                header: "State",
                cell: (r) =>
                  p.live.epoch === r.epoch && p.live.root === r.root
                    ? "live"
                    : r.readyAt > p.blockTime
                      ? `pending until ${chainTime(r.readyAt)}`
                      : "ready",
              },
              {
                header: `Signed by (set v${p.roots[0]?.oracleSetVersion ?? "?"})`,
                cell: (r) => r.signers.map((s) => shortHex(s)).join(", "),
              },
              {
                header: "Verify",
                cell: (r) => (
                  <VerifyCell
                    check={checks[r.epoch.toString()]}
                    onVerify={() => void verify(r)}
                    epoch={r.epoch}
                    work={work}
                    testId={idOf("verify") + `-${r.epoch}`}
                  />
                ),
              },
            ]}
            rows={p.roots}
            rowKey={(r) => `${r.epoch}-${r.root}`}
            empty={`no ${work} root has been posted yet`}
          />
        </>
      ) : (
        <p>Reading the chain…</p>
      )}
    </>
  );
}

function VerifyCell(props: {
  readonly check: Verification | undefined;
  readonly onVerify: () => void;
  readonly epoch: bigint;
  readonly work: RewardWork;
  readonly testId: string;
}) {
  const { check, onVerify, epoch, work, testId } = props;
  return (
    <div data-testid={testId}>
      <button type="button" onClick={onVerify} disabled={check?.state === "running"}>
        Verify {work === "coverage" ? "" : `${work} `}epoch {epoch.toString()} in browser
      </button>
      {check?.state === "running" ? <span role="status"> recomputing…</span> : null}
      {check?.state === "error" ? <span role="alert"> {check.message}</span> : null}
      {check?.state === "done" ? <Outcome result={check.result} /> : null}
    </div>
  );
}

function Outcome({ result: r }: { readonly result: VerifyResult }) {
  return (
    <div role="status" className={r.ok ? "ok" : "bad"} data-testid="verify-outcome">
      {r.ok
        ? `Matches the chain: keccak256 of the ${r.encodingBytes.toLocaleString("en-US")}-byte encoding is the posted dataHash; ${r.leafCount} leaves rebuild root ${shortHex(r.rebuiltRoot ?? "")}; totals, pool split and amounts check`
        : `Mismatch: ${r.findings.map((f) => f.code).join(", ")}`}
      {r.ok ? null : (
        <ul>
          {r.findings.map((f, i) => (
            <li key={i}>{f.message}</li>
          ))}
        </ul>
      )}
      {r.firstMismatch ? (
        <div data-testid="first-mismatch">
          First mismatching leaf: #{r.firstMismatch.index} owner <code>{r.firstMismatch.owner}</code>{" "}
          cumulative {mesh(BigInt(r.firstMismatch.cumulative), 6)} MESH
        </div>
      ) : null}
    </div>
  );
}
