/**
 * A device owner's page: devices and bond eligibility, earned / claimed / claimable, and Claim,
 * which checks the oracle's proof against the root on chain in the browser before it sends anything.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import { formatUnits, getAddress, isAddress, type Address, type Hex } from "viem";
import { useConnection } from "wagmi";

import { RewardsDistributorAbi } from "@hexmesh/contracts/abis";
import { OracleApiError } from "@hexmesh/oracle/api/client";
import { verifyOwnerProof } from "@hexmesh/protocol";

import { AsOf } from "../components/AsOf";
import { DataTable } from "../components/DataTable";
import { TxStatus, useTransaction } from "../components/Wallet";
import { readOwner } from "../lib/chain";
import { useApp } from "../lib/context";
import { mesh, shortHex } from "../lib/format";
import { useDevices, useOwnerChain } from "../lib/useData";

/** The oracle's leaf for an owner, or null when the owner has earned nothing yet (404). */
function useOwnerLeaf(owner: Address | undefined) {
  const { oracle } = useApp();
  return useQuery({
    queryKey: ["owner-leaf", owner],
    enabled: owner !== undefined,
    refetchInterval: 10_000,
    retry: false,
    queryFn: async () => {
      try {
        return await oracle.owner(owner!);
      } catch (e) {
        if (e instanceof OracleApiError && e.status === 404) return null;
        throw e;
      }
    },
  });
}

/** The owner's amount in every epoch up to the live one, from the epochs' published leaves. */
function useOwnerHistory(owner: Address | undefined, throughEpoch: bigint | undefined) {
  const { oracle } = useApp();
  return useQuery({
    queryKey: ["owner-history", owner, throughEpoch?.toString()],
    enabled: owner !== undefined && throughEpoch !== undefined,
    retry: false,
    queryFn: async () => {
      const rows: { epoch: string; amount: number; amountWei: bigint; cumulativeWei: bigint }[] = [];
      for (let e = 0n; e <= throughEpoch!; e++) {
        const set = await oracle.results(e);
        const mine = set.owners.find((o) => o.owner === owner!.toLowerCase());
        const amountWei = BigInt(mine?.amount ?? "0");
        rows.push({
          epoch: e.toString(),
          amount: Number(formatUnits(amountWei, 18)),
          amountWei,
          cumulativeWei: BigInt(mine?.cumulative ?? "0"),
        });
      }
      return rows;
    },
  });
}

const ZERO_ROOT = `0x${"00".repeat(32)}`;

export function Owner() {
  const params = useParams();
  const account = useConnection();
  const owner: Address | undefined =
    params.address !== undefined && isAddress(params.address) ? getAddress(params.address) : account.address;
  const { client, config, oracle } = useApp();
  const queries = useQueryClient();
  const chain = useOwnerChain(owner);
  const leaf = useOwnerLeaf(owner);
  const devices = useDevices();
  const tx = useTransaction(() => void queries.invalidateQueries());
  const history = useOwnerHistory(
    owner,
    chain.data?.liveRoot.root === ZERO_ROOT ? undefined : chain.data?.liveRoot.epoch,
  );

  if (owner === undefined)
    return (
      <section>
        <h1>Owner</h1>
        <p>Connect a wallet, or open an owner&apos;s page from the device list.</p>
      </section>
    );
  const mine = (devices.data?.devices ?? []).filter((d) => d.owner === owner);
  const c = chain.data;
  const l = leaf.data;
  const cumulative = l ? BigInt(l.cumulative) : 0n;
  const claimable = c && cumulative > c.claimed ? cumulative - c.claimed : 0n;
  const isSelf = account.address !== undefined && account.address === owner;

  async function claim() {
    // Fresh figures: the oracle's leaf and proof, and the live root read from the chain now.
    let fresh;
    try {
      fresh = await oracle.owner(owner!);
    } catch (e) {
      tx.fail(`Claim: cannot get the proof from the oracle: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const now = await readOwner(client, config, owner!);
    const amount = BigInt(fresh.cumulative);
    const ok = verifyOwnerProof(now.liveRoot.root, { owner: owner!, amount }, fresh.proof as Hex[]);
    if (!ok) {
      tx.fail(
        `Claim: the oracle's proof does not verify against the root on chain (epoch ${now.liveRoot.epoch}, ${shortHex(now.liveRoot.root)}); nothing was sent`,
      );
      return;
    }
    await tx.run("Claim", (wallet) =>
      wallet.writeContract({
        account: wallet.account!,
        chain: wallet.chain,
        address: config.addresses.distributor,
        abi: RewardsDistributorAbi,
        functionName: "claim",
        args: [owner!, amount, fresh.proof as Hex[]],
      }),
    );
  }

  const eligibleNeeded = BigInt(mine.length) * (c?.minStakePerDevice ?? 0n);
  const stakeMore = c && eligibleNeeded > c.activeStake ? eligibleNeeded - c.activeStake : 0n;
  return (
    <section>
      <h1>Owner {shortHex(owner)}</h1>
      <p>
        <code data-testid="owner-address">{owner}</code>
      </p>
      {leaf.error ? (
        <p role="alert">
          The oracle cannot be reached: rewards history is unavailable ({String(leaf.error)}).
        </p>
      ) : null}
      {c ? (
        <>
          <dl className="stats">
            <div>
              <dt>Earned (cumulative)</dt>
              <dd data-testid="owner-earned">{l === undefined ? "…" : `${mesh(cumulative, 4)} MESH`}</dd>
            </div>
            <div>
              <dt>Claimed</dt>
              <dd data-testid="owner-claimed">{mesh(c.claimed, 4)} MESH</dd>
            </div>
            <div>
              <dt>Claimable</dt>
              <dd data-testid="owner-claimable">{mesh(claimable, 4)} MESH</dd>
            </div>
            <div>
              <dt>Balance</dt>
              <dd data-testid="owner-balance">{mesh(c.balance, 4)} MESH</dd>
            </div>
            <div>
              <dt>Bond</dt>
              <dd data-testid="owner-bond">
                {c.bondedDevices.toString()} of {mine.length} devices eligible
                {stakeMore > 0n ? `; stake ${mesh(stakeMore)} MESH more` : ""}
              </dd>
            </div>
          </dl>
          <AsOf at={c} />
          {l ? (
            <p className="asof">
              rewards through epoch {l.epoch} (oracle root <code>{shortHex(l.root)}</code>; on chain{" "}
              <code>{shortHex(c.liveRoot.root)}</code>)
            </p>
          ) : null}
          <button type="button" onClick={() => void claim()} disabled={!isSelf || claimable === 0n}>
            Claim {mesh(claimable, 4)} MESH
          </button>
          {!isSelf ? <p>Connect this owner&apos;s wallet to claim.</p> : null}
          <TxStatus state={tx.state} />
        </>
      ) : (
        <p>Reading the chain…</p>
      )}
      {history.data && history.data.length > 0 ? (
        <div className="pair">
          <figure aria-label="Rewards per epoch; the table beside it has the same data">
            <BarChart width={420} height={220} data={history.data}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="epoch" />
              <YAxis />
              <Tooltip />
              <Bar dataKey="amount" name="MESH" fill="#3730a3" />
            </BarChart>
          </figure>
          <DataTable
            testId="owner-history"
            caption="Rewards per epoch (from the epochs' published leaves)"
            columns={[
              { header: "Epoch", cell: (r) => r.epoch },
              { header: "Earned (MESH)", cell: (r) => mesh(r.amountWei, 4), numeric: true },
              { header: "Cumulative (MESH)", cell: (r) => mesh(r.cumulativeWei, 4), numeric: true },
            ]}
            rows={history.data}
            rowKey={(r) => r.epoch}
          />
        </div>
      ) : null}
      <DataTable
        testId="owner-devices"
        caption="Devices of this owner"
        columns={[
          {
            header: "Device",
            cell: (x) => <Link to={`/device/${x.id.toString()}`}>{shortHex(`0x${x.id.toString(16)}`)}</Link>,
          },
          { header: "Status", cell: (x) => x.status },
          { header: "Cell (res 12)", cell: (x) => <code>{x.cell ?? "none"}</code> },
        ]}
        rows={mine}
        rowKey={(x) => x.id.toString()}
        empty="no devices"
      />
    </section>
  );
}
