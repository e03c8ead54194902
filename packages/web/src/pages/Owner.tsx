/**
 * A device owner's page: balance, devices and bond eligibility, and the rewards of each kind of work
 * hexmesh.json names a distributor for (coverage, storage, compute: OwnerRewards, with its Claim).
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import { formatUnits, getAddress, isAddress, type Address } from "viem";
import { useConnection } from "wagmi";

import { OracleApiError } from "@hexmesh/oracle/api/client";

import { AsOf } from "../components/AsOf";
import { DataTable, type Column } from "../components/DataTable";
import { OwnerRewards } from "../components/OwnerRewards";
import { TxStatus, useTransaction } from "../components/Wallet";
import { ZERO_ROOT } from "../lib/chain";
import { rewardDistributors, WORK_NAMES, type RewardWork } from "../lib/config";
import { useApp } from "../lib/context";
import { mesh, shortHex } from "../lib/format";
import { useDevices, useOwnerChain, useOwnerRewardsChain } from "../lib/useData";

/**
 * The owner's amount in every epoch of `work` up to the live one, from the epochs' published leaves.
 * An epoch this oracle has not closed (a kind's epochs before its first) has no row.
 */
function useOwnerHistory(owner: Address | undefined, throughEpoch: bigint | undefined, work: RewardWork) {
  const { oracle } = useApp();
  return useQuery({
    queryKey: ["owner-history", work, owner, throughEpoch?.toString()],
    enabled: owner !== undefined && throughEpoch !== undefined,
    retry: false,
    queryFn: async () => {
      const rows: { epoch: string; amount: number; amountWei: bigint; cumulativeWei: bigint }[] = [];
      for (let e = 0n; e <= throughEpoch!; e++) {
        const set = await oracle.results(e, work).catch((err: unknown) => {
          if (err instanceof OracleApiError && err.code === "epoch_not_closed") return null;
          throw err;
        });
        if (set === null) continue;
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

type HistoryRow = NonNullable<ReturnType<typeof useOwnerHistory>["data"]>[number];

/** The columns of every kind's rewards per epoch. */
const HISTORY_COLUMNS: readonly Column<HistoryRow>[] = [
  { header: "Epoch", cell: (r) => r.epoch },
  { header: "Earned (MESH)", cell: (r) => mesh(r.amountWei, 4), numeric: true },
  { header: "Cumulative (MESH)", cell: (r) => mesh(r.cumulativeWei, 4), numeric: true },
];

/** A storage or compute owner's rewards per epoch, from that kind's published result sets. */
function KindHistory(props: {
  readonly work: RewardWork;
  readonly distributor: Address;
  readonly owner: Address;
}) {
  const { work, distributor, owner } = props;
  const chain = useOwnerRewardsChain(distributor, owner);
  const live = chain.data?.liveRoot;
  const history = useOwnerHistory(
    owner,
    live === undefined || live.root === ZERO_ROOT ? undefined : live.epoch,
    work,
  );
  if (history.data === undefined || !history.data.some((r) => r.cumulativeWei > 0n)) return null;
  return (
    <DataTable
      testId={`${work}-history`}
      caption={`${WORK_NAMES[work]} rewards per epoch (from the epochs' published leaves, ?work=${work})`}
      columns={HISTORY_COLUMNS}
      rows={history.data}
      rowKey={(r) => r.epoch}
    />
  );
}

export function Owner() {
  const params = useParams();
  const account = useConnection();
  const owner: Address | undefined =
    params.address !== undefined && isAddress(params.address) ? getAddress(params.address) : account.address;
  const { config } = useApp();
  const queries = useQueryClient();
  const chain = useOwnerChain(owner);
  const coverage = useOwnerRewardsChain(config.addresses.distributor, owner);
  const devices = useDevices();
  const tx = useTransaction(() => void queries.invalidateQueries());
  const history = useOwnerHistory(
    owner,
    coverage.data?.liveRoot.root === ZERO_ROOT ? undefined : coverage.data?.liveRoot.epoch,
    "coverage",
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
  const isSelf = account.address !== undefined && account.address === owner;
  const eligibleNeeded = BigInt(mine.length) * (c?.minStakePerDevice ?? 0n);
  const stakeMore = c && eligibleNeeded > c.activeStake ? eligibleNeeded - c.activeStake : 0n;
  return (
    <section>
      <h1>Owner {shortHex(owner)}</h1>
      <p>
        <code data-testid="owner-address">{owner}</code>
      </p>
      {c ? (
        <>
          <dl className="stats">
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
        </>
      ) : (
        <p>Reading the chain…</p>
      )}
      {rewardDistributors(config).map((r) => (
        <OwnerRewards key={r.work} {...r} owner={owner} canClaim={isSelf} tx={tx} />
      ))}
      {!isSelf ? <p>Connect this owner&apos;s wallet to claim.</p> : null}
      <TxStatus state={tx.state} />
      {history.data && history.data.length > 0 ? (
        <div className="pair">
          <figure aria-label="Coverage rewards per epoch; the table beside it has the same data">
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
            caption="Coverage rewards per epoch (from the epochs' published leaves)"
            columns={HISTORY_COLUMNS}
            rows={history.data}
            rowKey={(r) => r.epoch}
          />
        </div>
      ) : null}
      {rewardDistributors(config)
        .filter((r) => r.work !== "coverage")
        .map((r) => (
          <KindHistory key={r.work} work={r.work} distributor={r.distributor} owner={owner} />
        ))}
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
