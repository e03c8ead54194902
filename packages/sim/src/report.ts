/**
 * The fraud-detection report of a simulated epoch: markdown plus SVG charts (vega-lite rendered
 * by vega in pure JavaScript, no canvas). Byte-identical for the same analysis: nothing in it
 * depends on the clock or the machine (timings are printed by the script, not written here).
 */
import * as prettier from "prettier";
import * as vega from "vega";
import * as vl from "vega-lite";

import { DEFAULT_COVERAGE_PARAMS } from "@hexmesh/oracle";

import type { SimAnalysis } from "./analysis.js";
import { HATA_MAX_HM, INDOOR_LOSS_DB, NOISE_FIGURE_DB, RURAL_MODEL, URBAN_SIGMA_DB } from "./radio.js";
import { DEVICE_KINDS, KIND_DESCRIPTION, SITES, type DeviceKind } from "./world.js";

export interface ReportFiles {
  readonly markdown: string;
  /** File name -> SVG text. */
  readonly charts: ReadonlyMap<string, string>;
}

const pct = (x: number, digits = 1) => `${(100 * x).toFixed(digits)}%`;
const share = (a: number, b: number) => (b > 0 ? a / b : 0);

async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return `${svg}\n`;
}

export async function buildReport(a: SimAnalysis, chartPrefix = ""): Promise<ReportFiles> {
  const charts = new Map<string, string>();

  // Chart 1: share of each kind's reports refused, stacked by reason.
  const rejectionRows: { kind: string; reason: string; share: number }[] = [];
  for (const k of a.kinds) {
    for (const [reason, count] of [...k.reasons].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))) {
      rejectionRows.push({ kind: k.kind, reason, share: share(count, k.reports) });
    }
  }
  charts.set(
    "rejections.svg",
    await renderSvg({
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: { text: "Share of each kind's reports refused by the oracle, by reason", anchor: "start" },
      width: 560,
      height: 260,
      background: "white",
      data: { values: rejectionRows },
      mark: "bar",
      encoding: {
        y: { field: "kind", type: "nominal", sort: [...DEVICE_KINDS], title: null },
        x: {
          field: "share",
          type: "quantitative",
          aggregate: "sum",
          title: "share of the kind's reports refused",
          axis: { format: "%" },
          scale: { domain: [0, 1] },
        },
        color: { field: "reason", type: "nominal", title: "reason", scale: { scheme: "tableau20" } },
        order: { field: "share", type: "quantitative", sort: "descending" },
      },
    }),
  );

  // Chart 2: reward per device relative to honest devices of the same hardware.
  const rewardRows = a.kinds.map((k) => ({ kind: k.kind, ratio: k.rewardRatio }));
  charts.set(
    "rewards.svg",
    await renderSvg({
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: {
        text: "Reward per device, relative to an honest device of the same hardware (1 = same)",
        anchor: "start",
      },
      width: 560,
      height: 260,
      background: "white",
      data: { values: rewardRows },
      layer: [
        {
          mark: "bar",
          encoding: {
            y: { field: "kind", type: "nominal", sort: [...DEVICE_KINDS], title: null },
            x: { field: "ratio", type: "quantitative", title: "reward per device / honest same hardware" },
            color: {
              condition: { test: "datum.ratio >= 1 && datum.kind !== 'honest'", value: "#d62728" },
              value: "#4c78a8",
            },
          },
        },
        {
          mark: { type: "rule", color: "black", strokeDash: [4, 3] },
          encoding: { x: { datum: 1, type: "quantitative" } },
        },
        {
          mark: { type: "text", align: "left", dx: 4 },
          encoding: {
            y: { field: "kind", type: "nominal", sort: [...DEVICE_KINDS] },
            x: { field: "ratio", type: "quantitative" },
            text: { field: "ratio", type: "quantitative", format: ".2f" },
          },
        },
      ],
    }),
  );

  // Chart 3: honest reports: valid kept, wrongly refused (by reason), policy, collateral.
  const h = a.honest;
  const honestRows = [
    { group: "valid on the true geometry", outcome: "accepted", count: h.valid - h.wronglyRejected },
    ...[...h.reasons].map(([reason, count]) => ({
      group: "valid on the true geometry",
      outcome: `refused: ${reason}`,
      count,
    })),
    {
      group: "refused by rule on the true geometry",
      outcome: "accepted",
      count: h.policy - h.policyRejected,
    },
    { group: "refused by rule on the true geometry", outcome: "refused (expected)", count: h.policyRejected },
    { group: "about an adversary's beacon", outcome: "accepted", count: h.collateral - h.collateralRejected },
    { group: "about an adversary's beacon", outcome: "refused (collateral)", count: h.collateralRejected },
  ].filter((r) => r.count > 0);
  charts.set(
    "honest.svg",
    await renderSvg({
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: { text: "Honest devices' genuine reports: what the oracle did with them", anchor: "start" },
      width: 560,
      height: 120,
      background: "white",
      data: { values: honestRows },
      mark: "bar",
      encoding: {
        y: { field: "group", type: "nominal", title: null },
        x: {
          field: "count",
          type: "quantitative",
          aggregate: "sum",
          stack: "normalize",
          title: "share",
          axis: { format: "%" },
        },
        color: { field: "outcome", type: "nominal", scale: { scheme: "tableau10" } },
      },
    }),
  );

  const lines: string[] = [];
  const p = (s = "") => lines.push(s);
  p(`# Hexmesh network simulation: fraud detection`);
  p();
  p(
    `Seed \`${a.seed}\`, ${a.devices.toLocaleString("en-US")} devices, ${a.windows} beacon window(s) of 6 h, ` +
      `${a.reports.toLocaleString("en-US")} signed reports (${a.beacons.toLocaleString("en-US")} beacons, ` +
      `${a.witnesses.toLocaleString("en-US")} witness reports). Valid witnesses per accepted beacon: median ` +
      `${a.witnessesPerBeacon.median}, 90th percentile ${a.witnessesPerBeacon.p90}. Rewards distributed: ` +
      `${a.distributedMesh.toFixed(2)} MESH; epoch root \`${a.root}\`.`,
  );
  p();
  p(
    "Generated by `npm run sim:report` (packages/sim). Every report is signed with the " +
      "device's real key in the EIP-712 wire format firmware uses, and goes through the oracle unchanged " +
      "(`runCoverageEpoch`: verify, rewards, commit). The same seed gives this file byte for byte.",
  );
  p();
  p(`## Headline`);
  p();
  const honest = a.kinds.find((k) => k.kind === "honest")!;
  p(
    `- Honest devices lost **${pct(share(h.wronglyRejected, h.valid), 2)}** of their valid reports ` +
      `(${h.wronglyRejected.toLocaleString("en-US")} of ${h.valid.toLocaleString("en-US")}; target < 2%).`,
  );
  for (const k of a.kinds) {
    if (k.kind === "honest") continue;
    const verdict = k.rewardRatio < 1 ? "less than" : "**more than or as much as**";
    p(
      `- \`${k.kind}\`: ${pct(share(k.rejected, k.reports))} of its reports refused` +
        (k.illicit > 0 ? ` (${pct(share(k.illicitRejected, k.illicit))} of its illicit ones)` : "") +
        `; reward per device ${k.rewardRatio.toFixed(2)}× an honest device of the same hardware — ${verdict} honest.`,
    );
  }
  p();
  p(`![Refused reports by kind and reason](${chartPrefix}rejections.svg)`);
  p();
  p(`![Reward per device relative to honest](${chartPrefix}rewards.svg)`);
  p();
  p(`![Honest reports](${chartPrefix}honest.svg)`);
  p();
  const actOf = (kind: DeviceKind, act: string) =>
    a.acts.find((x) => x.kind === kind && x.act === act) ?? { count: 0, accepted: 0 };
  const frac = (t: { count: number; accepted: number }) =>
    `${t.accepted.toLocaleString("en-US")} of ${t.count.toLocaleString("en-US")} (${pct(share(t.accepted, t.count))})`;
  const ratio = (kind: DeviceKind) => a.kinds.find((k) => k.kind === kind)!.rewardRatio.toFixed(2);
  p(`## Findings: where the rules are weak`);
  p();
  p(
    `Measured in this run (the rules are those of \`DEFAULT_COVERAGE_PARAMS\`, packages/oracle/src/verify/params.ts).`,
  );
  p();
  const relayReasons = a.kinds.find((k) => k.kind === "late_relay")!.reasons;
  p(
    `1. **Relayed witness reports are caught by the one-way-link test, within its tolerance.** \`late_relay\` ` +
      `devices filed ${actOf("late_relay", "relayed").count.toLocaleString("en-US")} witness reports of beacons ` +
      `10-60 km away that only an accomplice heard; accepted: ${frac(actOf("late_relay", "relayed"))}, and ` +
      `${(relayReasons.get("one_way_links") ?? 0).toLocaleString("en-US")} of their reports were refused ` +
      `\`one_way_links\` (reward ${ratio("late_relay")}× honest). The far beaconer never hears the relay's own ` +
      "beacons, so the relay's unconfirmed links far exceed what fading explains. What is left: the test " +
      "tolerates 4 standard deviations plus 3 unconfirmed links above the expectation, so a relay that knows the " +
      "rule can add about that many fake links per epoch unflagged (4 √V + 3: about 11 for a device with 100 " +
      "links and 5 expected misses); and a " +
      "device with no valid beacon in the epoch is not tested at all (it forgoes its beacon rewards). Direction: " +
      "pay witness rewards only to devices whose own beacon was valid in the epoch, carry link statistics over " +
      "several epochs so the tolerance shrinks, and check gateway fine timestamps (GPS-disciplined concentrators).",
  );
  p(
    `2. **Beacon theft is closed by binding the payload to the beaconer.** A replayer re-signs a beacon it ` +
      `heard as its own and sends it faster than the victim: accepted ${frac(actOf("replayer", "stolen_beacon"))}; ` +
      `honest beacons lost to a copy: ${a.stolenVictims}. The payload is keccak256(remote entropy ‖ local ` +
      "entropy ‖ beaconer key id), so a copy signed by another key does not rebuild (`invalid_packet`), and " +
      "re-deriving it with the thief's key gives a payload no witness heard (no reward).",
  );
  p(
    `3. **Location spoofing within 100 km is not detected.** \`location_spoofer\` reward ${ratio("location_spoofer")}× ` +
      "honest: only spoofs to another city are caught (`max_distance_exceeded`); a cell 15-60 km away passes the " +
      "free-space bound because real path loss is 30-40 dB above free space. Direction: a statistical path-loss " +
      "consistency test per device, or locating the beaconer from its witnesses' positions and signals.",
  );
  p(
    `4. **Witness farms with attenuators pass.** Mutual witness reports inside a farm: attenuated farms ` +
      `${frac(a.farmMutual.attenuated)} accepted, farms without attenuators ${frac(a.farmMutual.raw)} accepted ` +
      `(\`bad_rssi\`). One wallet per device defeats \`same_owner\`; attenuation is symmetric, so reciprocity holds ` +
      `(reward ${ratio("witness_farm")}× honest). Direction: a farm's members report near-identical signals for ` +
      "every outside beacon (one antenna spot): correlation of witness signals across devices.",
  );
  p(
    `5. **\`same_owner\` stops only the careless ring.** Fabricated witness reports of one wallet's devices: ` +
      `accepted ${frac(actOf("colluding_wallet", "fabricated"))}. A ring that registers each device to its own ` +
      "wallet, as the farms do, is untouched.",
  );
  p(
    `6. **Reciprocity is beaten by amplifying both ways.** \`signal_forger\` (receive amplifier only) reward ` +
      `${ratio("signal_forger")}× honest. An amplifier on transmit too keeps links reciprocal; the EIRP it implies ` +
      "is above the registered one, but `txPower` is self-reported, so `invalid_tx_power` cannot see it.",
  );
  p(
    `7. **Timing uses the oracle's receive time.** ${a.honestTiming} honest reports were refused \`too_late\` / ` +
      "`too_early`, nearly all because the beaconer or witness has a slow backhaul (3% of devices here): a slow " +
      "beaconer loses every witness of its beacon.",
  );
  p();
  p(`## Per kind`);
  p();
  p(
    `| kind | devices | reports | refused | illicit reports refused | reward share | reward / honest same hardware |`,
  );
  p(`| --- | ---: | ---: | ---: | ---: | ---: | ---: |`);
  for (const k of a.kinds) {
    p(
      `| \`${k.kind}\` | ${k.devices} | ${k.reports} | ${pct(share(k.rejected, k.reports))} | ` +
        `${k.illicit > 0 ? `${k.illicitRejected}/${k.illicit} (${pct(share(k.illicitRejected, k.illicit))})` : "–"} | ` +
        `${pct(k.rewardShare, 2)} | ${k.rewardRatio.toFixed(3)} |`,
    );
  }
  p();
  p(`Reasons (refused reports of each kind):`);
  p();
  for (const k of a.kinds) {
    const rs = [...k.reasons].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
    p(
      `- \`${k.kind}\`: ` +
        (rs.length === 0
          ? "none"
          : rs.map(([r, c]) => `${r} ${c} (${pct(share(c, k.reports), 2)})`).join(", ")),
    );
  }
  p();
  if (a.oneWay.length > 0) {
    const rule = DEFAULT_COVERAGE_PARAMS.oneWayLinks!;
    const score = (v: number | null) =>
      v === null ? "–" : Number.isFinite(v) ? v.toFixed(2) : v > 0 ? "∞" : "−∞";
    p(
      `One-way-link test (\`one_way_links\`, packages/oracle/src/verify/links.ts): a device is flagged when its score ` +
        `(O − E − ${rule.minExcess}) / √V exceeds ${rule.z}, where O counts its links the other end never ` +
        `confirmed and E (variance V) the number fading explains. Tested: devices that sent a valid beacon and ` +
        `have a link to a device that was listening.`,
    );
    p();
    p(
      `| kind | tested | flagged | links tested | unconfirmed (O) | expected (E) | highest score unflagged | lowest score flagged |`,
    );
    p(`| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
    for (const k of a.oneWay) {
      p(
        `| \`${k.kind}\` | ${k.tested} | ${k.flagged} | ${k.links} | ${k.unconfirmed} | ${k.expected.toFixed(1)} | ` +
          `${score(k.maxUnflaggedScore)} | ${score(k.minFlaggedScore)} |`,
      );
    }
    p();
  }
  p(`## Honest devices`);
  p();
  p(`| genuine honest reports | count | refused |`);
  p(`| --- | ---: | ---: |`);
  p(
    `| valid on the true geometry (counterpart honest) | ${h.valid} | ${h.wronglyRejected} (${pct(share(h.wronglyRejected, h.valid), 2)}) |`,
  );
  p(
    `| refused by a published rule even on the true geometry (below_min_distance, max_distance_exceeded, region) | ${h.policy} | ${h.policyRejected} (${pct(share(h.policyRejected, h.policy), 2)}) |`,
  );
  p(
    `| witness of an adversary's beacon (collateral) | ${h.collateral} | ${h.collateralRejected} (${pct(share(h.collateralRejected, h.collateral), 2)}) |`,
  );
  p();
  p(
    `Wrongly refused, by reason: ` +
      ([...h.reasons].length === 0
        ? "none."
        : [...h.reasons]
            .sort((x, y) => y[1] - x[1])
            .map(([r, c]) => `${r} ${c}`)
            .join(", ") + "."),
  );
  p();
  p(`Honest mean reward per device by hardware (the yardstick of the ratios above):`);
  p();
  p(`| hardware | honest devices | mean reward (MESH) |`);
  p(`| --- | ---: | ---: |`);
  for (const hw of a.honestByHardware) p(`| ${hw.hardware} | ${hw.devices} | ${hw.meanMesh.toFixed(4)} |`);
  p();
  p(
    `Honest share of the epoch's rewards: ${pct(honest.rewardShare, 2)} (${pct(share(honest.devices, a.devices))} of devices).`,
  );
  p();
  p(`## The adversaries`);
  p();
  for (const k of DEVICE_KINDS) p(`- \`${k}\`: ${KIND_DESCRIPTION[k]}.`);
  p();
  p(`## The world`);
  p();
  p(
    `Sites: ${SITES.map((s) => `${s.name} (${(s.share * 100).toFixed(0)}%)`).join(", ")}. Cities are discs whose radius ` +
      "grows with their device count (constant density, denser towards the centre; inner 60% urban, the rest " +
      "suburban); the rural site is a square of open country. US sites use US915 (27 dBm, SF8/125 kHz), European " +
      "ones EU868 (16 dBm EIRP, SF9/125 kHz). Hardware: indoor 3 dBi at 3-8 m (55%), outdoor 5.8 dBi at 6-15 m " +
      "(35%), rooftop 9 dBi at 20-40 m (10%).",
  );
  p();
  p(
    "Radio (packages/sim/src/radio.ts): log-distance median path loss with log-normal shadowing, reciprocal per " +
      `link. Rural: Petäjäjärvi et al. 2015 (ITST), PL = ${RURAL_MODEL.pl1kmDb} + ${10 * RURAL_MODEL.exponent} ` +
      `log10(d/1 km) dB at 868 MHz, sigma ${RURAL_MODEL.sigmaDb} dB. Urban and suburban: Okumura-Hata (Hata 1980), ` +
      `heights from the two antennas (lower one capped at ${HATA_MAX_HM} m), sigma ${URBAN_SIGMA_DB} dB. ` +
      `Indoor ends add ${INDOOR_LOSS_DB} dB (ITU-R P.2109). Never above free space; nothing beyond the radio ` +
      `horizon. A packet is heard when its SNR (noise floor with a ${NOISE_FIGURE_DB} dB noise figure, minus ` +
      "0-3 dB interference) reaches the LoRa demodulation floor of its spreading factor.",
  );
  p();
  // formatted as the repository's prettier would (npm run format:check covers docs/)
  const markdown = await prettier.format(`${lines.join("\n")}\n`, { parser: "markdown", printWidth: 110 });
  return { markdown, charts };
}
