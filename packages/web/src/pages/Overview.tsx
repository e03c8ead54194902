/** The network at a glance: hex map and its table, devices, active hexes, epoch, total staked. */
import { useMemo } from "react";
import { Link } from "react-router-dom";

import { AsOf } from "../components/AsOf";
import { DataTable } from "../components/DataTable";
import { HexMap } from "../components/HexMap";
import { hexesOf, MAP_RESOLUTION } from "../lib/chain";
import { duration, mesh, shortHex } from "../lib/format";
import { useDevices, useNetwork } from "../lib/useData";

export function Overview() {
  const network = useNetwork();
  const devices = useDevices();
  const hexes = useMemo(() => hexesOf(devices.data?.devices ?? []), [devices.data]);
  const mapHexes = useMemo(() => hexes.map((h) => ({ hex: h.hex, value: h.devices })), [hexes]);
  const n = network.data;
  const d = devices.data;
  return (
    <section>
      <h1>Network overview</h1>
      {network.error ? <p role="alert">Cannot read the chain: {String(network.error)}</p> : null}
      {n ? (
        <>
          <dl className="stats">
            <div>
              <dt>Devices</dt>
              <dd data-testid="stat-devices">{d ? d.devices.length : "…"}</dd>
            </div>
            <div>
              <dt>Active devices</dt>
              <dd data-testid="stat-active-devices">
                {d ? d.devices.filter((x) => x.status === "active").length : "…"}
              </dd>
            </div>
            <div>
              <dt>Active hexes (res {MAP_RESOLUTION})</dt>
              <dd data-testid="stat-active-hexes">{d ? hexes.filter((h) => h.active > 0).length : "…"}</dd>
            </div>
            <div>
              <dt>Epoch</dt>
              <dd data-testid="stat-epoch">{n.epoch.toString()}</dd>
            </div>
            <div>
              <dt>Next distribution in</dt>
              <dd data-testid="stat-next">{duration(n.nextDistributionAt - n.blockTime)}</dd>
            </div>
            <div>
              <dt>Total staked</dt>
              <dd data-testid="stat-staked">{mesh(n.totalActiveStake)} MESH</dd>
            </div>
            <div>
              <dt>Live rewards root</dt>
              <dd>
                epoch {n.liveRoot.epoch.toString()} <code>{shortHex(n.liveRoot.root)}</code>
              </dd>
            </div>
          </dl>
          <AsOf at={n} epoch={n.epoch} />
        </>
      ) : (
        <p>Reading the chain…</p>
      )}
      {d ? (
        <div className="pair">
          <HexMap
            hexes={mapHexes}
            label={`Map of ${hexes.length} hexes with devices; the table lists them`}
          />
          <DataTable
            testId="hex-table"
            caption={`Devices per hex (H3 resolution ${MAP_RESOLUTION}), as of block ${d.blockNumber}`}
            columns={[
              {
                header: "Hex",
                cell: (h) => (
                  <Link to={`/hex/${h.hex}`}>
                    <code>{h.hex}</code>
                  </Link>
                ),
              },
              { header: "Devices", cell: (h) => h.devices, numeric: true },
              { header: "Active", cell: (h) => h.active, numeric: true },
            ]}
            rows={hexes}
            rowKey={(h) => h.hex}
            empty="no device has asserted a location"
          />
        </div>
      ) : null}
      {d ? (
        <DataTable
          testId="device-table"
          caption={`Devices, as of block ${d.blockNumber}`}
          columns={[
            {
              header: "Device",
              cell: (x) => (
                <Link to={`/device/${x.id.toString()}`}>{shortHex(`0x${x.id.toString(16)}`)}</Link>
              ),
            },
            { header: "Owner", cell: (x) => <Link to={`/owner/${x.owner}`}>{shortHex(x.owner)}</Link> },
            { header: "Status", cell: (x) => x.status },
            { header: "Cell (res 12)", cell: (x) => <code>{x.cell ?? "none"}</code> },
          ]}
          rows={d.devices}
          rowKey={(x) => x.id.toString()}
        />
      ) : null}
    </section>
  );
}
