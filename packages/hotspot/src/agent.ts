/**
 * The hotspot agent: the device side of Proof of Coverage, as a long-running service.
 *
 * - Beacons once per window (the oracle's 6-hour windows, aligned to Unix time): fetches the remote
 *   entropy from the first oracle that answers, draws local entropy, signs the beacon, queues it
 *   (durably, with the window number), then transmits its payload over the radio. The window is
 *   judged by the entropy's publication time (the oracle's clock, not the host's), and the agent
 *   does not beacon in a window's last two minutes, so the oracle never sees two beacons in one.
 * - Witnesses: every Hexmesh beacon frame the radio hears becomes a signed witness report (signal,
 *   SNR, frequency, data rate as received), queued at once.
 * - Submits the queue to every configured oracle in batches, immediately and then with exponential
 *   backoff while an oracle is unreachable or busy; an oracle's answer (accepted, duplicate, refused
 *   with a code) takes a report out of its queue. Nothing is lost across restarts (queue.ts).
 *
 * Witness reports must reach the oracle within 4 s of the beacon, so submission is immediate; a
 * report delivered late is still delivered (the oracle records it as too_late).
 */
import crypto from "node:crypto";

import { OracleApiError, OracleClient } from "@hexmesh/oracle/api/client";
import {
  encodeReport,
  fromHex,
  signBeacon,
  signWitness,
  toHex,
  type DataRate,
  type Hex,
  type RegionPlan,
  type ReportDomain,
} from "@hexmesh/protocol";

import type { DeviceKeyPair } from "./key.js";
import type { QueuedReport, ReportQueue } from "./queue.js";
import { beaconFrame, payloadOfFrame, type RadioAdapter, type Uplink } from "./radio/adapter.js";

export interface BeaconSettings {
  /** Channel of the region plan to beacon on. */
  readonly channel: number;
  /** Data rate index of the region plan (must be allowed on the channel). */
  readonly dataRate: number;
  /** Conducted transmit power, tenths of dBm. */
  readonly txPowerTenths: number;
}

export interface AgentOptions {
  readonly key: DeviceKeyPair;
  /** The reports' EIP-712 domain: the chain and its DeviceRegistry. */
  readonly domain: ReportDomain;
  /** Oracle ingest URLs; every report goes to each. Entropy comes from the first that answers. */
  readonly oracles: readonly string[];
  readonly radio: RadioAdapter;
  readonly queue: ReportQueue;
  readonly region: RegionPlan;
  readonly beacon: BeaconSettings;
  /** Beacon window, ms (the oracles' beaconIntervalMs; default 6 h). */
  readonly beaconIntervalMs?: number;
  /** Longest random wait after a window opens before beaconing, ms (default a quarter of the window). */
  readonly maxBeaconDelayMs?: number;
  /** Largest batch per request (the oracles' limits.batchMax; default 100). */
  readonly batchMax?: number;
  /** First retry delay, doubling up to maxRetryMs (defaults 1 s and 5 min). */
  readonly retryBaseMs?: number;
  readonly maxRetryMs?: number;
  readonly timeoutMs?: number;
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
}

const DEFAULT_WINDOW_MS = 6 * 60 * 60 * 1000;
/** No beacon this close to a window's end: its receipt could fall into the next window. */
const WINDOW_END_MARGIN_MS = 120_000;
const STATE_WINDOW = "beacon_window";
/** Transient HTTP statuses: retry. Other 4xx answers for a batch mean "send one by one". */
const RETRY_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

export class AgentConfigError extends Error {
  override readonly name = "AgentConfigError";
}

export class HotspotAgent {
  readonly keyId: Hex;
  private readonly clients: readonly OracleClient[];
  private readonly windowMs: number;
  private readonly maxDelayMs: number;
  private readonly modulation: DataRate;
  private readonly frequency: number;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private flushAgain = false;
  private running = false;
  /** Window -> when to beacon in it (host ms), drawn once per window. */
  private plannedAt: { window: number; at: number } | undefined;
  private beaconing = false;
  /** Payload hashes witnessed recently: one witness per beacon even if heard on two channels. */
  private readonly heard = new Map<string, number>();
  private readonly log: NonNullable<AgentOptions["log"]>;

  constructor(private readonly o: AgentOptions) {
    if (o.oracles.length === 0) throw new AgentConfigError("at least one oracle URL is needed");
    const freq = o.region.channelFrequency[o.beacon.channel];
    if (freq === undefined) throw new AgentConfigError(`${o.region.name} has no channel ${o.beacon.channel}`);
    if (!o.region.channelDataRates[o.beacon.channel]!.includes(o.beacon.dataRate))
      throw new AgentConfigError(
        `${o.region.name} channel ${o.beacon.channel} does not allow data rate ${o.beacon.dataRate}`,
      );
    if (o.beacon.txPowerTenths > o.region.maxConductedTenths)
      throw new AgentConfigError(
        `transmit power ${o.beacon.txPowerTenths / 10} dBm is over ${o.region.name}'s ${o.region.maxConductedTenths / 10} dBm`,
      );
    this.frequency = freq;
    this.modulation = o.region.dataRates.get(o.beacon.dataRate)!;
    this.keyId = o.key.signer.keyId;
    this.windowMs = o.beaconIntervalMs ?? DEFAULT_WINDOW_MS;
    this.maxDelayMs = o.maxBeaconDelayMs ?? Math.floor(this.windowMs / 4);
    this.clients = o.oracles.map((url) => new OracleClient(url, { timeoutMs: o.timeoutMs ?? 10_000 }));
    this.log = o.log ?? (() => {});
  }

  async start(): Promise<void> {
    this.running = true;
    const released = this.o.queue.releaseAllHeld();
    if (released > 0) this.log("released_after_restart", { reports: released });
    await this.o.radio.start((u) => this.onUplink(u));
    this.log("started", { keyId: this.keyId, oracles: this.o.oracles, queue: this.o.queue.counts() });
    this.kick();
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.flushing;
    await this.o.radio.stop();
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  /** Once a second: beacon when due, retry queued reports when due. */
  private async tick(): Promise<void> {
    try {
      await this.maybeBeacon();
    } catch (e) {
      this.log("beacon_failed", { error: (e as Error).message });
    }
    const next = this.o.queue.nextDue();
    if (next !== null && next <= Date.now()) this.kick();
    this.schedule(1_000);
  }

  private lastWindow(): number {
    return Number(this.o.queue.getState(STATE_WINDOW) ?? "-1");
  }

  /** Beacons if this window has none yet and its planned moment has come. */
  async maybeBeacon(): Promise<boolean> {
    if (this.beaconing) return false;
    this.beaconing = true;
    try {
      // Cheap check on the host clock first; the entropy's time decides.
      const hostWindow = Math.floor(Date.now() / this.windowMs);
      if (
        this.plannedAt !== undefined &&
        this.plannedAt.window === hostWindow &&
        Date.now() < this.plannedAt.at
      )
        return false;
      const entropy = await this.entropy();
      const oracleMs = entropy.timestamp * 1000;
      const window = Math.floor(oracleMs / this.windowMs);
      if (window <= this.lastWindow()) return false;
      if (oracleMs % this.windowMs > this.windowMs - WINDOW_END_MARGIN_MS) return false;
      if (this.plannedAt?.window !== window) {
        const delay = this.maxDelayMs === 0 ? 0 : crypto.randomInt(this.maxDelayMs + 1);
        this.plannedAt = { window, at: Date.now() + delay };
        if (delay > 0) {
          this.log("beacon_planned", { window, inMs: delay });
          return false;
        }
      } else if (Date.now() < this.plannedAt.at) return false;
      await this.beacon(entropy.value as Hex, window);
      return true;
    } finally {
      this.beaconing = false;
    }
  }

  private async entropy() {
    let last: unknown;
    for (const c of this.clients) {
      try {
        return await c.entropy();
      } catch (e) {
        last = e;
      }
    }
    throw new Error(`no oracle gave entropy: ${(last as Error).message}`);
  }

  /** Signs, queues (with the window, atomically) and transmits one beacon. */
  private async beacon(remoteEntropy: Hex, window: number): Promise<void> {
    const report = signBeacon(this.o.key.signer, this.o.domain, {
      remoteEntropy,
      localEntropy: toHex(new Uint8Array(crypto.randomBytes(32))),
      frequency: this.frequency,
      channel: this.o.beacon.channel,
      dataRate: this.o.beacon.dataRate,
      txPower: this.o.beacon.txPowerTenths,
      timestamp: BigInt(Date.now()),
    });
    // Queued (held) with its window before it goes on the air: a crash after the transmission
    // cannot lose the report or let the agent beacon twice in the window. A failed transmission
    // drops it and reopens the window.
    const text = encodeReport(report);
    const previous = String(this.lastWindow());
    this.o.queue.enqueue(text, this.o.oracles, Date.now(), {
      state: { [STATE_WINDOW]: String(window) },
      held: true,
    });
    try {
      await this.o.radio.transmit({
        data: beaconFrame(fromHex(report.payload)),
        frequency: this.frequency,
        modulation: this.modulation,
        powerDbm: this.o.beacon.txPowerTenths / 10,
      });
    } catch (e) {
      this.o.queue.discard(text, { [STATE_WINDOW]: previous });
      throw e;
    }
    this.o.queue.release(text);
    this.kick();
    this.log("beacon", { window, payload: report.payload, frequency: this.frequency });
  }

  private dataRateIndex(m: DataRate): number | undefined {
    for (const [index, dr] of this.o.region.dataRates)
      if (dr.spreadingFactor === m.spreadingFactor && dr.bandwidthHz === m.bandwidthHz) return index;
    return undefined;
  }

  /** A heard beacon frame becomes a witness report, queued and sent at once. */
  onUplink(u: Uplink): void {
    const payload = payloadOfFrame(u.data);
    if (payload === null) return;
    const dataRate = this.dataRateIndex(u.modulation);
    if (dataRate === undefined) {
      this.log("witness_skipped", { reason: `modulation not in ${this.o.region.name}` });
      return;
    }
    const heardPayload = toHex(payload);
    const now = Date.now();
    for (const [p, at] of this.heard) if (now - at > 60_000) this.heard.delete(p);
    if (this.heard.has(heardPayload)) return;
    this.heard.set(heardPayload, now);
    const report = signWitness(this.o.key.signer, this.o.domain, {
      heardPayload,
      signal: Math.round(u.rssi * 10),
      snr: Math.round(u.snr * 10),
      frequency: u.frequency,
      dataRate,
      timestamp: BigInt(now),
    });
    this.o.queue.enqueue(encodeReport(report), this.o.oracles, now);
    this.log("witness", { payload: heardPayload, rssi: u.rssi, snr: u.snr });
    this.kick();
  }

  /** Starts a flush now (or right after the running one). */
  kick(): void {
    if (this.flushing !== undefined) {
      this.flushAgain = true;
      return;
    }
    this.flushing = (async () => {
      do {
        this.flushAgain = false;
        await Promise.all(this.o.oracles.map((url, i) => this.flushOracle(url, this.clients[i]!)));
      } while (this.flushAgain);
    })()
      .catch((e: unknown) => this.log("flush_failed", { error: (e as Error).message }))
      .finally(() => (this.flushing = undefined));
  }

  /** Resolves when nothing is being sent (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
  }

  private async flushOracle(url: string, client: OracleClient): Promise<void> {
    const batchMax = this.o.batchMax ?? 100;
    for (;;) {
      const items = this.o.queue.due(url, Date.now(), batchMax);
      if (items.length === 0) return;
      try {
        const res = await client.submitReports(items.map((i) => i.report));
        const answers = [];
        const later = [];
        for (const [k, r] of res.results.entries()) {
          const item = items[k]!;
          // rate_limited is the oracle asking to come back, not a verdict on the report.
          if (r.status === "refused" && r.code === "rate_limited") later.push(item);
          else
            answers.push({
              item,
              outcome: r.status,
              ...(r.code !== undefined ? { code: r.code } : {}),
              ...(r.detail !== undefined ? { detail: r.detail } : {}),
            });
        }
        this.o.queue.answered(answers, Date.now());
        for (const a of answers)
          if (a.outcome === "refused") this.log("refused", { oracle: url, code: a.code, detail: a.detail });
        if (later.length > 0) {
          this.backoff(later, "rate_limited");
          return;
        }
      } catch (e) {
        if (e instanceof OracleApiError && e.status !== undefined && !RETRY_STATUSES.has(e.status)) {
          // The batch as a whole was refused: send one by one, so each report gets its own answer.
          await this.sendSingly(url, client, items);
          continue;
        }
        this.backoff(items, (e as Error).message);
        this.log("oracle_unreachable", { oracle: url, error: (e as Error).message, queued: items.length });
        return;
      }
    }
  }

  private async sendSingly(url: string, client: OracleClient, items: readonly QueuedReport[]) {
    for (const item of items) {
      try {
        const r = await client.submitReport(item.report);
        this.o.queue.answered([{ item, outcome: r.status }], Date.now());
      } catch (e) {
        if (e instanceof OracleApiError && e.status !== undefined && !RETRY_STATUSES.has(e.status)) {
          this.o.queue.answered(
            [{ item, outcome: "refused", code: e.code ?? `http_${e.status}`, detail: e.apiMessage }],
            Date.now(),
          );
          this.log("refused", { oracle: url, code: e.code, detail: e.apiMessage });
        } else {
          this.backoff([item], (e as Error).message);
          return;
        }
      }
    }
  }

  private backoff(items: readonly QueuedReport[], error: string) {
    const attempts = Math.min(...items.map((i) => i.attempts));
    const base = this.o.retryBaseMs ?? 1_000;
    const delay = Math.min(this.o.maxRetryMs ?? 300_000, base * 2 ** attempts);
    this.o.queue.retryLater(items, Date.now() + delay, error);
  }
}
