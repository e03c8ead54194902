/**
 * The oracle set and how rewards are computed, with every parameter read from the chain at one
 * block (the controller's emission schedule and split, the vault's stream and bond, the
 * distributor's oracle set, threshold and challenge window).
 */
import { useQuery } from "@tanstack/react-query";
import { keccak256, stringToHex, type Hex } from "viem";

import { EmissionsControllerAbi, RewardsDistributorAbi, StakingVaultAbi } from "@hexmesh/contracts/abis";
import { HIP15, HIP104_LEVELS } from "@hexmesh/protocol";

import { AsOf } from "../components/AsOf";
import { DataTable } from "../components/DataTable";
import { latestBlock } from "../lib/chain";
import { useApp } from "../lib/context";
import { chainTime, duration, mesh } from "../lib/format";

const pct = (bps: number) => `${(bps / 100).toFixed(2)}%`;

/** Subnetwork ids are keccak256("hexmesh.subnetwork.<name>") (deploy/lib/hexmesh.ts). */
const SUBNETWORKS = new Map<Hex, string>(
  ["coverage", "compute", "storage"].map((n) => [keccak256(stringToHex(`hexmesh.subnetwork.${n}`)), n]),
);

export function Network() {
  const { client, config } = useApp();
  const q = useQuery({
    queryKey: ["parameters"],
    refetchInterval: 10_000,
    queryFn: async () => {
      const at = await latestBlock(client);
      const b = { blockNumber: at.blockNumber };
      const c = { address: config.addresses.controller, abi: EmissionsControllerAbi } as const;
      const d = { address: config.addresses.distributor, abi: RewardsDistributorAbi } as const;
      const v = { address: config.addresses.vault, abi: StakingVaultAbi } as const;
      const [genesisTime, epochLength, initialEmission, halvingInterval, emissionCap, emitted, split, pools] =
        await Promise.all([
          client.readContract({ ...c, functionName: "genesisTime", ...b }),
          client.readContract({ ...c, functionName: "epochLength", ...b }),
          client.readContract({ ...c, functionName: "initialEmission", ...b }),
          client.readContract({ ...c, functionName: "halvingInterval", ...b }),
          client.readContract({ ...c, functionName: "emissionCap", ...b }),
          client.readContract({ ...c, functionName: "emitted", ...b }),
          client.readContract({ ...c, functionName: "split", ...b }),
          client.readContract({ ...c, functionName: "pools", ...b }),
        ]);
      const [oracles, threshold, setVersion, challengeWindow, rewardsDuration, minStakePerDevice, cooldown] =
        await Promise.all([
          client.readContract({ ...d, functionName: "oracles", ...b }),
          client.readContract({ ...d, functionName: "threshold", ...b }),
          client.readContract({ ...d, functionName: "oracleSetVersion", ...b }),
          client.readContract({ ...d, functionName: "challengeWindow", ...b }),
          client.readContract({ ...v, functionName: "rewardsDuration", ...b }),
          client.readContract({ ...v, functionName: "minStakePerDevice", ...b }),
          client.readContract({ ...v, functionName: "cooldown", ...b }),
        ]);
      return {
        ...at,
        genesisTime,
        epochLength,
        initialEmission,
        halvingInterval,
        emissionCap,
        emitted,
        stakingBps: split[0],
        treasuryBps: split[1],
        pools,
        oracles,
        threshold,
        setVersion,
        challengeWindow,
        rewardsDuration,
        minStakePerDevice,
        cooldown,
      };
    },
  });
  const p = q.data;
  if (q.error) return <p role="alert">Cannot read the chain: {String(q.error)}</p>;
  if (p === undefined) return <p>Reading the chain…</p>;
  const poolsBps = p.pools.reduce((s, x) => s + x.bps, 0);
  const params: [string, string][] = [
    ["Genesis", chainTime(p.genesisTime)],
    ["Epoch length", duration(p.epochLength)],
    ["Emission of epoch 0", `${mesh(p.initialEmission)} MESH`],
    ["Halving", `every ${p.halvingInterval} epochs`],
    ["Emission cap", `${mesh(p.emissionCap)} MESH (${mesh(p.emitted)} emitted)`],
    ["Stakers' share", `${pct(p.stakingBps)}, streamed over ${duration(p.rewardsDuration)} after each epoch`],
    ["Treasury's share", pct(p.treasuryBps)],
    ["Subnetwork pools' share", pct(poolsBps)],
    ["Bond per device", `${mesh(p.minStakePerDevice)} MESH of active stake (unbonded devices earn nothing)`],
    ["Unstake cooldown", duration(p.cooldown)],
    ["Challenge window", `${duration(p.challengeWindow)} between a posted root and its going live`],
    [
      "HIP-15 units (oracle rule, @hexmesh/protocol)",
      `redundancy ${HIP15.redundancy}, decay ${HIP15.decay.num}/${HIP15.decay.den}, cap ${HIP15.cap.num}/${HIP15.cap.den}`,
    ],
  ];
  return (
    <section>
      <h1>Network parameters</h1>
      <AsOf at={p} />
      <h2>Oracle set</h2>
      <DataTable
        testId="oracle-set"
        caption={`Oracle set version ${p.setVersion}: a root needs ${p.threshold} of ${p.oracles.length} signatures`}
        columns={[
          { header: "#", cell: (r) => r.i + 1, numeric: true },
          { header: "Oracle signer", cell: (r) => <code>{r.address}</code> },
        ]}
        rows={p.oracles.map((address, i) => ({ address, i }))}
        rowKey={(r) => r.address}
      />
      <h2>How rewards are computed</h2>
      <p>
        Each epoch the controller mints the scheduled emission and splits it: stakers, treasury, and each
        subnetwork&apos;s pool by its share. The coverage pool pays device owners by the HIP-15 units of their
        valid beacons and witnesses, times each device&apos;s hex density scale (HIP-17 with HIP-104 levels),
        for bonded devices only; oracles publish the cumulative amounts as a Merkle root signed k-of-n.
      </p>
      <DataTable
        testId="parameters"
        caption="Parameters on chain"
        columns={[
          { header: "Parameter", cell: (r) => r[0] },
          { header: "Value", cell: (r) => r[1] },
        ]}
        rows={params}
        rowKey={(r) => r[0]}
      />
      <DataTable
        testId="pools"
        caption="Subnetwork pools (share of each epoch's emission)"
        columns={[
          {
            header: "Subnetwork",
            cell: (r) => SUBNETWORKS.get(r.subnetwork) ?? <code>{r.subnetwork}</code>,
          },
          { header: "Distributor", cell: (r) => <code>{r.distributor}</code> },
          { header: "Share", cell: (r) => pct(r.bps), numeric: true },
        ]}
        rows={p.pools}
        rowKey={(r) => r.subnetwork}
      />
      <DataTable
        testId="density-levels"
        caption="Hex density levels (HIP-104), applied from resolution 10 up to 4"
        columns={[
          { header: "Resolution", cell: (r) => r.resolution, numeric: true },
          { header: "N (occupied neighbours)", cell: (r) => r.neighbours, numeric: true },
          { header: "Target", cell: (r) => r.target, numeric: true },
          { header: "Max", cell: (r) => r.max, numeric: true },
        ]}
        rows={HIP104_LEVELS}
        rowKey={(r) => String(r.resolution)}
      />
    </section>
  );
}
