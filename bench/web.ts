/**
 * `npm run bench:web`: page weight and time to interactive of the web app's overview, in Debian's
 * Chromium against the demo's chain and oracles on localhost (scripts/demo/web.ts). Each round is a
 * fresh browser context (empty cache). Page weight: bytes the browser received for the app's own
 * files (HTML, JS, CSS, workers; encoded body sizes from the Resource Timing API) and in all, with
 * the JSON-RPC and oracle answers. Time to interactive: from navigation start until the overview's
 * device count and hex table are rendered from the chain and the map's canvas exists (the page
 * answers clicks from then on). Writes bench/results/web.json.
 */
import { writeFileSync } from "node:fs";
import os from "node:os";

import { network } from "hardhat";

import { launchChromium, startWebStack } from "../scripts/demo/web.js";

const ROUNDS = Number(process.env.BENCH_WEB_ROUNDS ?? 5);

const loadAtStart = os.loadavg()[0]!;
const stack = await startWebStack(await network.create());
const browser = await launchChromium();

interface Round {
  readonly interactiveMs: number;
  readonly appBytes: number;
  readonly totalBytes: number;
  readonly requests: number;
}
const rounds: Round[] = [];
try {
  for (let i = 0; i < ROUNDS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(stack.appUrl);
    await page
      .getByTestId("stat-devices")
      .filter({ hasText: String(stack.fleet.length) })
      .waitFor();
    await page.getByTestId("hex-table").locator("tbody tr").first().waitFor();
    await page.locator(".maplibregl-canvas").waitFor();
    const interactiveMs = await page.evaluate("performance.now()");
    const entries = (await page.evaluate(
      `performance.getEntriesByType("resource").map((e) => ({ name: e.name, bytes: e.encodedBodySize, type: e.initiatorType }))`,
    )) as { name: string; bytes: number; type: string }[];
    const nav = (await page.evaluate(
      `performance.getEntriesByType("navigation")[0].encodedBodySize`,
    )) as number;
    const app = entries.filter((e) => e.name.startsWith(stack.appUrl) && !e.name.includes("/v1/"));
    rounds.push({
      interactiveMs: Math.round(interactiveMs as number),
      appBytes: nav + app.reduce((s, e) => s + e.bytes, 0),
      totalBytes: nav + entries.reduce((s, e) => s + e.bytes, 0),
      requests: entries.length + 1,
    });
    await context.close();
  }
} finally {
  await browser.close();
  await stack.stop();
}

const sorted = [...rounds].sort((a, b) => a.interactiveMs - b.interactiveMs);
const median = sorted[Math.floor(sorted.length / 2)]!;
const result = {
  what: "overview page of packages/web in Debian's Chromium (headless, SwiftShader WebGL) against the demo's chain (16 devices) and oracle 0 on localhost; fresh context (empty cache) per round; bytes are encoded body sizes of same-origin resources (app files and oracle answers; the JSON-RPC answers are cross-origin and not counted); served uncompressed",
  generatedAt: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "unknown",
    node: process.version,
    loadAverage1mAtStart: Number(loadAtStart.toFixed(2)),
    loadAverage1mAtEnd: Number(os.loadavg()[0]!.toFixed(2)),
  },
  rounds: rounds.length,
  timeToInteractiveMs: {
    median: median.interactiveMs,
    min: sorted[0]!.interactiveMs,
    max: sorted[sorted.length - 1]!.interactiveMs,
  },
  pageWeightBytes: { app: median.appBytes, total: median.totalBytes },
  requests: median.requests,
  interactiveMeans:
    "navigation start until the device count and hex table are rendered from chain reads and the map canvas exists",
  perRound: rounds,
};
writeFileSync("bench/results/web.json", JSON.stringify(result, null, 2) + "\n");
console.log(JSON.stringify(result, null, 2));
