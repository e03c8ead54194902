/**
 * Storage: the connected wallet's data sets as client or provider (`#/storage`), and one data set
 * (`#/storage/:dataSetId`): state, provider, pieces with roots and sizes, credits locked, paid and
 * returned, proven and faulty periods, collateral and fault fees; the client funds it (locks more
 * credits) or terminates it through the wallet, each refusal with the contract's reason.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { formatUnits } from "viem";
import { useConnection } from "wagmi";

import { StorageDealsAbi } from "@hexmesh/contracts/abis";

import { AsOf } from "../components/AsOf";
import { DataTable } from "../components/DataTable";
import { Notice } from "../components/Notice";
import { TxStatus, useTransaction } from "../components/Wallet";
import { chainTime, credits, mesh, parseCredits, parseId, shortHex } from "../lib/format";
import { MARKET_ERRORS } from "../lib/market";
import { useDataSet, useDataSets } from "../lib/useData";

/** Bytes as KiB/MiB/GiB/TiB (binary units), with the exact count. */
function bytes(n: bigint): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = Number(n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(2)} ${units[u]} (${n.toLocaleString("en-US")} B)`;
}

export function StorageList() {
  const account = useConnection().address;
  const state = useDataSets(account);
  if (account === undefined) return <Notice title="Storage" text="Connect a wallet to see its data sets." />;
  if (state.isError) return <Notice title="Storage" text={state.error.message} alert />;
  const s = state.data;
  return (
    <section>
      <h1>Storage</h1>
      <p>
        Data sets this account stores as a client or serves as a provider. Each proven day pays the provider
        the data set&apos;s rate from the credits locked; 30 days of rate stay locked.
      </p>
      {s ? (
        <>
          <AsOf at={s} />
          <DataTable
            testId="data-sets"
            caption={`Data sets of ${account} (block ${s.blockNumber})`}
            columns={[
              { header: "Data set", cell: (r) => <Link to={`/storage/${r.id}`}>#{r.id.toString()}</Link> },
              { header: "Role", cell: (r) => r.role },
              { header: "State", cell: (r) => r.status },
              {
                header: "Counterparty",
                cell: (r) => {
                  const other = r.role === "client" ? r.provider : r.client;
                  return <code title={other}>{shortHex(other)}</code>;
                },
              },
              { header: "Pieces", cell: (r) => r.pieceCount.toString(), numeric: true },
              { header: "Size", cell: (r) => bytes(r.totalBytes), numeric: true },
              { header: "Rate (credits/day)", cell: (r) => r.rate.toLocaleString("en-US"), numeric: true },
              { header: "Credits locked", cell: (r) => r.locked.toLocaleString("en-US"), numeric: true },
              { header: "Collateral", cell: (r) => `${mesh(r.collateral, 6)} MESH`, numeric: true },
            ]}
            rows={s.dataSets}
            rowKey={(r) => r.id.toString()}
            empty="no data sets"
          />
        </>
      ) : (
        <p>Reading the chain…</p>
      )}
    </section>
  );
}

export function DataSetPage() {
  const { dataSetId } = useParams();
  const id = parseId(dataSetId);
  const account = useConnection().address;
  const queries = useQueryClient();
  const state = useDataSet(id, account);
  const tx = useTransaction(() => void queries.invalidateQueries(), MARKET_ERRORS);
  const [fundText, setFundText] = useState("");

  if (id === null) return <Notice title="Data set" text={`“${dataSetId}” is not a data set id.`} alert />;
  if (state.isError) return <Notice title={`Data set ${id.toString()}`} text={state.error.message} alert />;
  const d = state.data;
  if (d === undefined) return <Notice title={`Data set ${id.toString()}`} text="Reading the chain…" />;
  const market = { address: d.deals, abi: StorageDealsAbi } as const;
  const s = d.summary;

  function fund() {
    const amount = parseCredits(fundText);
    if (amount === null) {
      tx.fail("Fund: enter a whole, positive number of credits");
      return;
    }
    void tx.write("Fund", { ...market, functionName: "depositCredits", args: [id!, amount] });
  }

  function terminate() {
    void tx.write("Terminate", { ...market, functionName: "terminateByClient", args: [id!] });
  }

  return (
    <section>
      <h1>Data set {id.toString()}</h1>
      <dl className="stats">
        <div>
          <dt>State</dt>
          <dd data-testid="ds-status">{s.status}</dd>
        </div>
        <div>
          <dt>Client</dt>
          <dd>
            <code data-testid="ds-client">{s.client}</code>
          </dd>
        </div>
        <div>
          <dt>Provider</dt>
          <dd>
            <code data-testid="ds-provider">{s.provider}</code> (device{" "}
            <Link to={`/device/${s.deviceId}`}>{s.deviceId.toString()}</Link>)
          </dd>
        </div>
        <div>
          <dt>Size</dt>
          <dd data-testid="ds-size">
            {s.pieceCount.toString()} pieces, {bytes(s.totalBytes)}
          </dd>
        </div>
        <div>
          <dt>Price and rate</dt>
          <dd data-testid="ds-rate">
            ${formatUnits(d.pricePerTiBMonth, 6)} per TiB-month: {credits(s.rate)} per day
          </dd>
        </div>
        <div>
          <dt>Credits locked</dt>
          <dd data-testid="ds-locked">{credits(s.locked)}</dd>
        </div>
        <div>
          <dt>Credits paid to the provider</dt>
          <dd data-testid="ds-paid">{credits(d.paid)}</dd>
        </div>
        <div>
          <dt>Credits returned to the client</dt>
          <dd data-testid="ds-returned">{credits(d.returned)}</dd>
        </div>
        <div>
          <dt>Periods proven / faulty</dt>
          <dd data-testid="ds-periods">
            {d.proven} proven, {d.faulty} faulty ({d.consecutiveFaults} in a row; first free miss{" "}
            {d.freeMissUsed ? "used" : "unused"})
          </dd>
        </div>
        <div>
          <dt>Collateral (required)</dt>
          <dd data-testid="ds-collateral">
            {mesh(s.collateral, 6)} MESH ({mesh(d.requiredCollateral, 6)} MESH)
          </dd>
        </div>
        <div>
          <dt>Fault fees taken</dt>
          <dd data-testid="ds-fees">{mesh(d.fees, 6)} MESH</dd>
        </div>
        <div>
          <dt>Current period</dt>
          <dd>
            {d.periodEnd === 0n
              ? "not started (no pieces yet)"
              : `#${d.period}, ends ${chainTime(d.periodEnd)}; ${d.challengeCount} challenges per proof`}
          </dd>
        </div>
        {d.ended ? (
          <div>
            <dt>Ended</dt>
            <dd data-testid="ds-ended">
              {d.ended.reason}: {mesh(d.ended.forfeitToClient, 6)} MESH of collateral to the client,{" "}
              {mesh(d.ended.collateralReturned, 6)} MESH returned to the provider
            </dd>
          </div>
        ) : null}
      </dl>
      <AsOf at={d} />
      <form className="row" onSubmit={(e) => e.preventDefault()}>
        <label>
          Credits to lock for this data set{" "}
          <input
            name="fund-credits"
            inputMode="numeric"
            value={fundText}
            onChange={(e) => setFundText(e.target.value)}
          />
        </label>
        <button type="button" onClick={fund}>
          Fund
        </button>
        <button type="button" onClick={terminate}>
          Terminate
        </button>
      </form>
      <p>
        Terminating pays the provider the credits locked, up to 30 days of rate, returns the rest and the
        provider&apos;s collateral. Only the client may fund or terminate.
      </p>
      <TxStatus state={tx.state} />
      <DataTable
        testId="ds-pieces"
        caption={`Pieces (block ${d.blockNumber})`}
        columns={[
          { header: "Piece", cell: (r) => r.index.toString(), numeric: true },
          { header: "Root", cell: (r) => <code title={r.root}>{r.root}</code> },
          { header: "Size (bytes)", cell: (r) => r.size.toLocaleString("en-US"), numeric: true },
          {
            header: "Leaves",
            cell: (r) => `${r.firstLeaf}…${r.firstLeaf + r.leafCount - 1n}`,
            numeric: true,
          },
        ]}
        rows={d.pieces}
        rowKey={(r) => r.index.toString()}
        empty="no pieces yet"
      />
      <DataTable
        testId="ds-periods-table"
        caption={`Settled periods (block ${d.blockNumber})`}
        columns={[
          { header: "Period", cell: (r) => r.period.toString(), numeric: true },
          { header: "Outcome", cell: (r) => r.outcome },
          { header: "Credits paid", cell: (r) => r.paid.toLocaleString("en-US"), numeric: true },
          { header: "Fault fee", cell: (r) => `${mesh(r.fee, 6)} MESH`, numeric: true },
          { header: "Block", cell: (r) => r.blockNumber.toString(), numeric: true },
        ]}
        rows={d.periods}
        rowKey={(r) => `${r.period}-${r.blockNumber}`}
        empty="no period settled yet"
      />
    </section>
  );
}
