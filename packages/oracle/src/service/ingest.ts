/**
 * Report ingestion: a filter in front of the store, then group commit. Each request's texts go
 * through, in order (each step refuses only the items it must, with its own code):
 *
 *   parse        the protocol's parser (malformed: its code)
 *   client       the sending address's report budget per minute (client_rate_limited)
 *   signature    on the stage-1 worker pool: the key the report names must be registered and its
 *                signature verify (unknown_device, bad_signature); nothing unsigned is counted
 *                against a device or stored
 *   device       the proven device's report budget per minute, one budget for every endpoint
 *                (device_rate_limited), and its cap of stored reports per beacon window (window_cap)
 *   store        stamped with the oracle's receive time and committed; a receive time before the
 *                cutoff of a closed or closing epoch is refused (epoch_closed)
 *
 * One flush writes everything queued in ONE store transaction (one fsync) and only then resolves the
 * requests, so an acknowledgement always follows a durable write. Ingest is a filter, not the judge:
 * the verifier checks every stored report again when the epoch closes.
 */
import { keccak256, parseReport, toHex, type DeviceKey, type Hex, type ParseError } from "@hexmesh/protocol";

import type { EpochClose, InsertedReport, OracleStore, ReportInput } from "../store/types.js";
import type { ReportAuthenticator } from "../verify/prepare.js";
import { AUTH_OK, AUTH_UNKNOWN_DEVICE } from "../verify/table.js";

/** Why ingest refused a report: one code per step (see the file comment and docs/oracle-service.md). */
export type RefusalReason = "malformed" | "unauthenticated" | "rate_limited" | "epoch_closed";

export type SubmitResult =
  | { readonly status: "accepted" | "duplicate"; readonly hash: Hex; readonly receivedAt: number }
  | {
      readonly status: "refused";
      readonly reason: RefusalReason;
      readonly code: string;
      readonly detail: string;
    };

type Refused = SubmitResult & { status: "refused" };

/** A parsed report ready to store, or why it was refused. */
export type Checked =
  | { readonly ok: true; readonly input: ReportInput }
  | { readonly ok: false; readonly result: Refused };

export interface IngestLimits {
  /** Reports per proven device per minute, every endpoint together. */
  readonly perDevicePerMinute: number;
  /** Reports per client address per minute, every write endpoint together. */
  readonly clientReportsPerMinute: number;
  /** Reports stored per device per beacon window (windows aligned to Unix time, by receive time). */
  readonly perDevicePerWindow: number;
  /** The beacon window, ms (the verifier's one-beacon-per-device window). */
  readonly beaconWindowMs: number;
}

export interface IngestorOptions {
  /** Receive-time clock (Unix ms). */
  readonly clock: () => number;
  /** Overrides the clock per report (the "device-timestamp" replay clock). */
  readonly stamp?: (raw: string) => number;
  /** Most reports in one transaction. Default 10,000. */
  readonly maxBatch?: number;
  /** Signature checks (worker pool or inline) with the registered keys. */
  readonly authenticator: ReportAuthenticator;
  /** Keys onboarded since the last call: asked (at most every `refreshMs`) when a report names an unknown key. */
  readonly refreshKeys?: () => Promise<DeviceKey[]>;
  /** Default 5,000 ms. */
  readonly refreshMs?: number;
  readonly limits: IngestLimits;
}

interface Waiting {
  readonly inputs: ReportInput[];
  readonly resolve: (r: InsertedReport[]) => void;
  readonly reject: (e: unknown) => void;
}

const utf8 = new TextEncoder();

/** A report text as the store keeps it (hash, named device, kind), received at `receivedAt`; or why it is no report. */
export function toReportInput(
  raw: unknown,
  receivedAt: number,
): { readonly ok: true; readonly input: ReportInput } | { readonly ok: false; readonly error: ParseError } {
  const parsed = parseReport(raw);
  if (!parsed.ok) return parsed;
  const r = parsed.report;
  return {
    ok: true,
    input: {
      hash: toHex(keccak256(utf8.encode(raw as string))),
      raw: raw as string,
      receivedAt,
      device: r.type === "beacon" ? r.device : r.witness,
      kind: r.type,
    },
  };
}

/** Counts per key in fixed windows aligned to Unix time; a new window starts from zero. */
export class WindowCounter {
  private window = -1;
  private counts = new Map<string, number>();
  constructor(private readonly windowMs: number) {}

  private roll(now: number): void {
    const w = Math.floor(now / this.windowMs);
    if (w !== this.window) {
      this.window = w;
      this.counts = new Map();
    }
  }

  /** Takes up to `n` units of `key`'s budget `max`; returns how many it got. */
  take(key: string, n: number, max: number, now: number): number {
    this.roll(now);
    const used = this.counts.get(key) ?? 0;
    const got = Math.max(0, Math.min(n, max - used));
    if (got > 0) this.counts.set(key, used + got);
    return got;
  }

  used(key: string, now: number): number {
    this.roll(now);
    return this.counts.get(key) ?? 0;
  }

  /** Gives back `n` units taken in the window of `at` (not stored after all). */
  give(key: string, n: number, at: number): void {
    if (Math.floor(at / this.windowMs) !== this.window) return;
    const used = this.counts.get(key) ?? 0;
    this.counts.set(key, Math.max(0, used - n));
  }
}

/**
 * Per-window counts of stored reports per device: one counter per beacon window seen, seeded from
 * the store the first time a device shows up in a window (so the cap holds across restarts).
 */
class StoredPerWindow {
  private readonly windows = new Map<number, Map<string, number>>();
  constructor(private readonly windowMs: number) {}

  private window(w: number): Map<string, number> {
    let m = this.windows.get(w);
    if (m === undefined) {
      m = new Map();
      this.windows.set(w, m);
      // Keep the current and previous few windows only (receive times are near the clock).
      for (const k of this.windows.keys()) if (k < w - 2) this.windows.delete(k);
    }
    return m;
  }

  /** Loads what the store holds for the (device, window) pairs not counted yet. */
  async seed(store: OracleStore, items: readonly ReportInput[]): Promise<void> {
    for (const r of items) {
      const w = Math.floor(r.receivedAt / this.windowMs);
      if (this.window(w).has(r.device)) continue;
      const n = await store.countDeviceReports(r.device, w * this.windowMs, (w + 1) * this.windowMs);
      const m = this.window(w);
      if (!m.has(r.device)) m.set(r.device, n);
    }
  }

  take(device: string, at: number, max: number): boolean {
    const m = this.window(Math.floor(at / this.windowMs));
    const n = m.get(device) ?? 0;
    if (n >= max) return false;
    m.set(device, n + 1);
    return true;
  }

  give(device: string, at: number): void {
    const m = this.windows.get(Math.floor(at / this.windowMs));
    const n = m?.get(device);
    if (m !== undefined && n !== undefined) m.set(device, Math.max(0, n - 1));
  }
}

const refused = (reason: RefusalReason, code: string, detail: string): Checked => ({
  ok: false,
  result: { status: "refused", reason, code, detail },
});

export function closedDetail(close: EpochClose, receivedAt: number): string {
  return `received at ${new Date(receivedAt).toISOString()}, in epoch ${close.epoch} or before, which is closed or closing: reports received before ${new Date(close.cutoff).toISOString()} are no longer accepted (close began ${new Date(close.startedAt).toISOString()})`;
}

export class Ingestor {
  private queue: Waiting[] = [];
  private queued = 0;
  private flushing = false;
  private scheduled = false;
  private readonly clients = new WindowCounter(60_000);
  private readonly devices = new WindowCounter(60_000);
  private readonly stored: StoredPerWindow;
  private refreshing: Promise<void> | null = null;
  private lastRefresh = 0;
  /** Reports acknowledged since start (accepted + duplicate). */
  acknowledged = 0;
  /** Transactions committed since start. */
  commits = 0;
  /** Reports refused since start, by code (nothing refused is stored). */
  readonly refusals = new Map<string, number>();

  constructor(
    private readonly store: OracleStore,
    private readonly options: IngestorOptions,
  ) {
    this.stored = new StoredPerWindow(options.limits.beaconWindowMs);
  }

  get limits(): IngestLimits {
    return this.options.limits;
  }

  /** Parses and stamps one text (no I/O). */
  check(raw: unknown): Checked {
    const receivedAt =
      this.options.stamp !== undefined && typeof raw === "string"
        ? this.options.stamp(raw)
        : this.options.clock();
    const c = toReportInput(raw, receivedAt);
    if (c.ok) return c;
    const e = c.error;
    return refused("malformed", e.code, e.field !== undefined ? `${e.field}: ${e.detail}` : e.detail);
  }

  /** Stores checked reports durably; resolves after the commit that holds them. */
  persist(inputs: ReportInput[]): Promise<InsertedReport[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ inputs, resolve, reject });
      this.queued += inputs.length;
      this.schedule();
    });
  }

  /** Whether `client` has used its whole report budget of this minute (the request is refused, 429). */
  clientExhausted(client: string): boolean {
    return this.clients.used(client, this.options.clock()) >= this.options.limits.clientReportsPerMinute;
  }

  private async refreshKeys(): Promise<void> {
    const refresh = this.options.refreshKeys;
    if (refresh === undefined) return;
    if (this.refreshing === null && Date.now() - this.lastRefresh >= (this.options.refreshMs ?? 5_000)) {
      this.lastRefresh = Date.now();
      this.refreshing = refresh()
        .then((keys) => this.options.authenticator.addKeys(keys))
        .finally(() => (this.refreshing = null));
    }
    await this.refreshing?.catch(() => {});
  }

  /** Every step of the file comment for each text of one request from `client`; results in input order. */
  async submit(raws: readonly unknown[], client = "local"): Promise<SubmitResult[]> {
    const { limits, authenticator } = this.options;
    const now = this.options.clock();
    const checked: Checked[] = raws.map((r) => this.check(r));
    // client budget: every text counts, parsed or not
    let budget = this.clients.take(client, raws.length, limits.clientReportsPerMinute, now);
    for (let i = 0; i < checked.length; i++) {
      if (budget > 0) budget--;
      else
        checked[i] = refused(
          "rate_limited",
          "client_rate_limited",
          `more than ${limits.clientReportsPerMinute} reports this minute from ${client}`,
        );
    }
    // signatures, on the worker pool
    const parsed = checked.flatMap((c, i) => (c.ok ? [i] : []));
    const texts = parsed.map((i) => (checked[i] as { input: ReportInput }).input.raw);
    let auth = await authenticator.authenticate(texts);
    if (auth.some((a) => a === AUTH_UNKNOWN_DEVICE) && this.options.refreshKeys !== undefined) {
      await this.refreshKeys();
      auth = await authenticator.authenticate(texts);
    }
    parsed.forEach((i, k) => {
      const input = (checked[i] as { input: ReportInput }).input;
      if (auth[k] === AUTH_OK) return;
      checked[i] =
        auth[k] === AUTH_UNKNOWN_DEVICE
          ? refused("unauthenticated", "unknown_device", `${input.device} is not a registered device key`)
          : refused(
              "unauthenticated",
              "bad_signature",
              `the signature does not verify for ${input.device} over this report`,
            );
    });
    // proven devices: per-minute budget, then the stored-per-window cap
    await this.stored.seed(
      this.store,
      checked.flatMap((c) => (c.ok ? [c.input] : [])),
    );
    const taken: ReportInput[] = [];
    for (let i = 0; i < checked.length; i++) {
      const c = checked[i]!;
      if (!c.ok) continue;
      const d = c.input.device;
      if (this.devices.take(d, 1, limits.perDevicePerMinute, now) === 0)
        checked[i] = refused(
          "rate_limited",
          "device_rate_limited",
          `more than ${limits.perDevicePerMinute} reports this minute from ${d}`,
        );
      else if (!this.stored.take(d, c.input.receivedAt, limits.perDevicePerWindow))
        checked[i] = refused(
          "rate_limited",
          "window_cap",
          `${d} already has ${limits.perDevicePerWindow} reports stored in this ${limits.beaconWindowMs / 3_600_000}-hour beacon window`,
        );
      else taken.push(c.input);
    }
    let stored: InsertedReport[];
    try {
      stored = await this.persist(taken);
    } catch (e) {
      for (const t of taken) this.stored.give(t.device, t.receivedAt);
      throw e;
    }
    let k = 0;
    const results = checked.map((c): SubmitResult => {
      if (!c.ok) return c.result;
      const s = stored[k++]!;
      if (s.duplicate || s.closed !== undefined) this.stored.give(c.input.device, c.input.receivedAt);
      if (s.closed !== undefined)
        return {
          status: "refused",
          reason: "epoch_closed",
          code: "epoch_closed",
          detail: closedDetail(s.closed, s.receivedAt),
        };
      return { status: s.duplicate ? "duplicate" : "accepted", hash: s.hash, receivedAt: s.receivedAt };
    });
    for (const r of results)
      if (r.status === "refused") this.refusals.set(r.code, (this.refusals.get(r.code) ?? 0) + 1);
    return results;
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    // setImmediate: every request already read off the sockets in this turn joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const max = this.options.maxBatch ?? 10_000;
    const take: Waiting[] = [];
    let n = 0;
    while (this.queue.length > 0 && (n === 0 || n + this.queue[0]!.inputs.length <= max)) {
      const w = this.queue.shift()!;
      take.push(w);
      n += w.inputs.length;
    }
    this.queued -= n;
    try {
      const all = await this.store.insertReports(take.flatMap((w) => w.inputs));
      this.commits++;
      let k = 0;
      for (const w of take) {
        const mine = all.slice(k, k + w.inputs.length);
        k += w.inputs.length;
        this.acknowledged += mine.length;
        w.resolve(mine);
      }
    } catch (e) {
      for (const w of take) w.reject(e);
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** Reports waiting for a commit. */
  get pending(): number {
    return this.queued;
  }
}
