/**
 * A hex (H3, as on the overview's map): its devices, its neighbours with theirs, and the HIP-17 /
 * HIP-104 density counts at every resolution the oracle scales rewards by, computed in the browser
 * with @hexmesh/protocol from the chain's active devices (what the oracle computes at epoch close).
 */
import { cellToParent, getResolution, gridDisk, isValidCell } from "h3-js";
import { useMemo } from "react";
import { Link, useParams } from "react-router-dom";

import { buildDensity, HIP104_LEVELS } from "@hexmesh/protocol";

import { AsOf } from "../components/AsOf";
import { DataTable } from "../components/DataTable";
import { HexMap } from "../components/HexMap";
import { hexesOf } from "../lib/chain";
import { shortHex } from "../lib/format";
import { useDevices } from "../lib/useData";

/** A fraction in (0, 1] as a decimal with 4 places. */
function decimal(f: { num: bigint; den: bigint }): string {
  return (Number((f.num * 1_000_000n) / f.den) / 1_000_000).toFixed(4);
}

export function Hex() {
  const { hex = "" } = useParams();
  const devices = useDevices();
  const d = devices.data;
  // Device locations are resolution-12 cells: a hex finer than that holds none.
  const valid = isValidCell(hex) && getResolution(hex) <= 12;
  const view = useMemo(() => {
    if (d === undefined || !valid) return null;
    const res = getResolution(hex);
    const located = d.devices.filter((x) => x.cell !== null);
    const active = located.filter((x) => x.status === "active");
    const density = buildDensity(active.map((x) => x.cell!));
    const inside = (cell: string) => cellToParent(cell, res) === hex;
    const mine = located.filter((x) => inside(x.cell!));
    const rows = hexesOf(located);
    const neighbours = gridDisk(hex, 1)
      .filter((h) => h !== hex)
      .map((h) => ({ hex: h, devices: rows.find((r) => r.hex === h)?.devices ?? 0 }))
      .sort((a, b) => (a.hex < b.hex ? -1 : 1));
    // Every counted cell of each level that is this hex, contains it, or lies inside it.
    const levels = HIP104_LEVELS.flatMap((level) => {
      const cells = new Set(
        active.filter((x) => inside(x.cell!)).map((x) => parentAt(x.cell!, level.resolution)),
      );
      return [...cells].sort().map((cell) => ({ level, cell, counts: density.counts(cell) }));
    });
    return {
      mine: mine.map((x) => ({
        device: x,
        scale: x.status === "active" ? decimal(density.scaleOf(x.cell!)) : "–",
      })),
      neighbours,
      levels,
    };
  }, [d, hex, valid]);
  if (!valid) return <p role="alert">Not an H3 cell of resolution 0 to 12: {hex}</p>;
  return (
    <section>
      <h1>Hex {hex}</h1>
      {d ? <AsOf at={d} /> : <p>Reading the chain…</p>}
      {view ? (
        <>
          <div className="pair">
            <HexMap
              hexes={[
                { hex, value: view.mine.length },
                ...view.neighbours.map((n) => ({ hex: n.hex, value: n.devices })),
              ]}
              label="This hex and its neighbours, shaded by device count; the table lists them"
            />
            <DataTable
              testId="hex-neighbours"
              caption="This hex and its neighbours (devices)"
              columns={[
                {
                  header: "Hex",
                  cell: (r) =>
                    r.hex === hex ? <code>{r.hex}</code> : <Link to={`/hex/${r.hex}`}>{r.hex}</Link>,
                },
                { header: "Devices", cell: (r) => r.devices, numeric: true },
              ]}
              rows={[{ hex, devices: view.mine.length }, ...view.neighbours]}
              rowKey={(r) => r.hex}
            />
          </div>
          <DataTable
            testId="hex-devices"
            caption="Devices in this hex, with their density scale (HIP-17, HIP-104 parameters)"
            columns={[
              {
                header: "Device",
                cell: (r) => (
                  <Link to={`/device/${r.device.id.toString()}`}>
                    {shortHex(`0x${r.device.id.toString(16)}`)}
                  </Link>
                ),
              },
              { header: "Status", cell: (r) => r.device.status },
              { header: "Cell (res 12)", cell: (r) => <code>{r.device.cell}</code> },
              { header: "Density scale", cell: (r) => r.scale, numeric: true },
            ]}
            rows={view.mine}
            rowKey={(r) => r.device.id.toString()}
            empty="no devices"
          />
          <DataTable
            testId="hex-density"
            caption="Density at each resolution (active devices): clipped = min(unclipped, min(max, target × max(1, occupied − N + 1)))"
            columns={[
              { header: "Resolution", cell: (r) => r.level.resolution, numeric: true },
              { header: "Cell", cell: (r) => <code>{r.cell}</code> },
              { header: "N", cell: (r) => r.level.neighbours, numeric: true },
              { header: "Target", cell: (r) => r.level.target, numeric: true },
              { header: "Max", cell: (r) => r.level.max, numeric: true },
              { header: "Unclipped", cell: (r) => r.counts?.unclipped ?? 0, numeric: true },
              { header: "Clipped", cell: (r) => r.counts?.clipped ?? 0, numeric: true },
            ]}
            rows={view.levels}
            rowKey={(r) => r.cell}
            empty="no active devices in this hex"
          />
        </>
      ) : null}
    </section>
  );
}

function parentAt(cell: string, resolution: number): string {
  return getResolution(cell) === resolution ? cell : cellToParent(cell, resolution);
}
