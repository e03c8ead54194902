/**
 * A device: status on chain, location history (LocationAsserted events), and from the oracle every
 * report with its verdict, reason and numbers, per epoch as a chart and a table, with CSV export.
 */
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { Link, useParams } from "react-router-dom";
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import { formatUnits } from "viem";

import { DeviceRegistryAbi } from "@hexmesh/contracts/abis";

import { AsOf } from "../components/AsOf";
import { DataTable } from "../components/DataTable";
import { latestBlock } from "../lib/chain";
import { useApp } from "../lib/context";
import { toCsv } from "../lib/csv";
import { chainTime, shortHex } from "../lib/format";
import { useDevices } from "../lib/useData";

export function Device() {
  const { id: idText } = useParams();
  const id = idText !== undefined && /^\d+$/.test(idText) ? BigInt(idText) : null;
  const { client, config, oracle } = useApp();
  const devices = useDevices();
  const device = devices.data?.devices.find((d) => d.id === id);
  const history = useQuery({
    queryKey: ["locations", idText],
    enabled: id !== null,
    queryFn: async () => {
      const at = await latestBlock(client);
      const events = await client.getContractEvents({
        address: config.addresses.registry,
        abi: DeviceRegistryAbi,
        eventName: "LocationAsserted",
        args: { deviceId: id! },
        fromBlock: config.fromBlock,
        toBlock: at.blockNumber,
      });
      const times = await Promise.all(events.map((e) => client.getBlock({ blockNumber: e.blockNumber })));
      return {
        ...at,
        rows: events.map((e, i) => ({
          block: e.blockNumber,
          time: times[i]!.timestamp,
          cell: e.args.cell!.toString(16),
          gain: e.args.gain!,
          elevation: e.args.elevation!,
          assertCount: e.args.assertCount!,
        })),
      };
    },
  });
  const results = useQuery({
    queryKey: ["device-results", device?.keyId],
    enabled: device !== undefined,
    retry: false,
    queryFn: () => oracle.deviceResults(device!.keyId, { limit: 1000 }),
  });
  const rows = results.data?.results ?? [];
  const perEpoch = useMemo(() => {
    const by = new Map<string, { epoch: string; valid: number; refused: number; units: bigint }>();
    for (const r of results.data?.results ?? []) {
      const e = by.get(r.epoch) ?? { epoch: r.epoch, valid: 0, refused: 0, units: 0n };
      e.units += BigInt(r.units);
      if (r.valid) e.valid++;
      else e.refused++;
      by.set(r.epoch, e);
    }
    return [...by.values()].sort((a, b) => Number(a.epoch) - Number(b.epoch));
  }, [results.data]);

  if (id === null) return <p>No such device.</p>;
  function exportCsv() {
    const csv = toCsv(
      ["epoch", "report", "kind", "receivedAt", "valid", "reason", "detail", "selected", "units"],
      rows.map((r) => [
        r.epoch,
        r.id,
        r.kind,
        new Date(r.receivedAt).toISOString(),
        r.valid,
        r.reason ?? "",
        r.detail ?? "",
        r.selected,
        r.units,
      ]),
    );
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
    a.download = `device-${device?.keyId ?? idText}-reports.csv`;
    a.click();
    URL.revokeObjectURL(a.href);
  }
  return (
    <section>
      <h1>Device {shortHex(`0x${id.toString(16)}`)}</h1>
      {device ? (
        <>
          <dl className="stats">
            <div>
              <dt>Status</dt>
              <dd data-testid="device-status">
                {device.status}
                {device.status === "suspended" ? ` (reason ${device.suspensionReason})` : ""}
              </dd>
            </div>
            <div>
              <dt>Owner</dt>
              <dd>
                <Link to={`/owner/${device.owner}`}>{shortHex(device.owner)}</Link>
              </dd>
            </div>
            <div>
              <dt>Key id</dt>
              <dd>
                <code>{device.keyId}</code>
              </dd>
            </div>
          </dl>
          <AsOf at={devices.data!} />
        </>
      ) : (
        <p>Reading the chain…</p>
      )}
      {history.data ? (
        <DataTable
          caption={`Location history, as of block ${history.data.blockNumber}`}
          columns={[
            { header: "Block", cell: (r) => r.block.toString(), numeric: true },
            { header: "Chain time", cell: (r) => chainTime(r.time) },
            { header: "Cell (res 12)", cell: (r) => <code>{r.cell}</code> },
            { header: "Gain (dBi×10)", cell: (r) => r.gain, numeric: true },
            { header: "Elevation (m)", cell: (r) => r.elevation, numeric: true },
            { header: "Assert #", cell: (r) => r.assertCount, numeric: true },
          ]}
          rows={history.data.rows}
          rowKey={(r) => `${r.block}-${r.assertCount}`}
        />
      ) : null}
      <h2>Reports and verdicts</h2>
      {results.error ? <p role="alert">The oracle cannot be reached: {String(results.error)}</p> : null}
      {perEpoch.length > 0 ? (
        <div className="pair">
          <figure aria-label="Valid and refused reports per epoch; the table beside it has the same data">
            <BarChart width={420} height={240} data={perEpoch}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="epoch" label={{ value: "epoch", position: "insideBottom", offset: -2 }} />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Bar dataKey="valid" stackId="r" fill="#3730a3" />
              <Bar dataKey="refused" stackId="r" fill="#b91c1c" />
            </BarChart>
          </figure>
          <DataTable
            caption="Reports per epoch"
            columns={[
              { header: "Epoch", cell: (r) => r.epoch },
              { header: "Valid", cell: (r) => r.valid, numeric: true },
              { header: "Refused", cell: (r) => r.refused, numeric: true },
              { header: "HIP-15 units", cell: (r) => formatUnits(r.units, 18), numeric: true },
            ]}
            rows={perEpoch}
            rowKey={(r) => r.epoch}
          />
        </div>
      ) : null}
      <button type="button" onClick={exportCsv} disabled={rows.length === 0}>
        Export CSV
      </button>
      <DataTable
        testId="device-reports"
        caption="Every report, with the oracle's verdict"
        columns={[
          { header: "Epoch", cell: (r) => r.epoch },
          { header: "Report", cell: (r) => <code>{shortHex(r.id)}</code> },
          { header: "Kind", cell: (r) => r.kind },
          { header: "Received", cell: (r) => new Date(r.receivedAt).toISOString() },
          { header: "Verdict", cell: (r) => (r.valid ? "valid" : "refused") },
          { header: "Reason", cell: (r) => r.reason ?? "" },
          { header: "Detail", cell: (r) => r.detail ?? "" },
          { header: "Selected", cell: (r) => (r.selected ? "yes" : "no") },
          { header: "HIP-15 units", cell: (r) => formatUnits(BigInt(r.units), 18), numeric: true },
        ]}
        rows={rows}
        rowKey={(r) => `${r.epoch}-${r.id}`}
        empty="no reports"
      />
    </section>
  );
}
