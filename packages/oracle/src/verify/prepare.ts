/**
 * Stage 1 of verification, per report and independent of every other report: parse the wire
 * text, hash the EIP-712 digest, find the device key, check the signature, rebuild the beacon
 * payload, and write the result as one record of a ReportTable (table.ts). This is where the CPU
 * goes (signature checks), so it runs on worker threads (pool.ts) or inline (InlinePreparer) with
 * byte-identical results.
 */
import {
  beaconDigestInto,
  keccak256Into,
  PARSE_ERROR_CODES,
  parseReport,
  PAYLOAD_INPUT_BYTES,
  separatorOf,
  witnessDigestInto,
  writeHex,
  type DeviceKey,
  type Hex,
  type ReceivedReport,
  type ReportDomain,
} from "@hexmesh/protocol";

import { KeyRing } from "./keys.js";
import { SignatureChecker } from "./signatures.js";
import {
  AUTH_BAD_SIGNATURE,
  AUTH_OK,
  AUTH_UNKNOWN_DEVICE,
  KIND_BEACON,
  KIND_MALFORMED,
  KIND_WITNESS,
  ReportTable,
} from "./table.js";

const utf8 = new TextEncoder();

/** Per-thread stage-1 state: the domain separator, the key list and the signature cache. */
export class ReportPreparation {
  private readonly separator: Uint8Array;
  private readonly keys: KeyRing;
  private readonly checker = new SignatureChecker();
  private readonly digest = new Uint8Array(32);
  private readonly scratch = new Uint8Array(128);

  /**
   * `keys[i]` is the key of device index i (ChainView.devices order), as DeviceKey objects or packed
   * (KeyRing.pack: what a thread is given).
   */
  constructor(domain: ReportDomain, keys: readonly DeviceKey[] | Uint8Array) {
    this.separator = separatorOf(domain);
    this.keys = new KeyRing(keys);
  }

  /** Appends device keys (indexes continue; ingest learns keys as devices are onboarded). */
  addKeys(keys: readonly DeviceKey[] | Uint8Array): void {
    this.keys.add(keys);
  }

  /**
   * The ingest check of one text: AUTH_OK when it parses and its signature verifies for the key it
   * names, AUTH_UNKNOWN_DEVICE for a key not registered, AUTH_BAD_SIGNATURE otherwise (a text that
   * does not parse is refused before this, by the same parser).
   */
  authenticate(raw: string): number {
    const parsed = parseReport(raw);
    if (!parsed.ok) return AUTH_BAD_SIGNATURE;
    const r = parsed.report;
    const d = this.keys.find(r.type === "beacon" ? r.device : r.witness);
    if (d < 0) return AUTH_UNKNOWN_DEVICE;
    if (r.type === "beacon") beaconDigestInto(this.separator, r, this.digest, 0);
    else witnessDigestInto(this.separator, r, this.digest, 0);
    return this.keys.verify(this.checker, d, this.digest, r.signature) ? AUTH_OK : AUTH_BAD_SIGNATURE;
  }

  /** Writes record i of `table` for one report, then publishes it (table.markWritten). */
  prepareInto(table: ReportTable, i: number, raw: string, receivedAt: number): void {
    const bytes = table.bytes;
    const parsed = parseReport(raw);
    if (!parsed.ok) {
      table.setHeader(
        i,
        KIND_MALFORMED,
        AUTH_OK,
        false,
        PARSE_ERROR_CODES.indexOf(parsed.error.code) + 1,
        -1,
        receivedAt,
      );
      const text = utf8.encode(typeof raw === "string" ? raw : String(raw));
      keccak256Into(text, 0, text.length, bytes, table.at(i, "id"));
      table.markWritten(i);
      return;
    }
    const r = parsed.report;
    const digest = this.digest;
    const keyId = r.type === "beacon" ? r.device : r.witness;
    const d = this.keys.find(keyId);
    if (r.type === "beacon") {
      beaconDigestInto(this.separator, r, digest, 0);
      // payload == keccak256(remoteEntropy ‖ localEntropy ‖ device)?  (entropy/payload.ts)
      const s = this.scratch;
      writeHex(s, 0, r.remoteEntropy);
      writeHex(s, 32, r.localEntropy);
      writeHex(s, 64, r.device);
      keccak256Into(s, 0, PAYLOAD_INPUT_BYTES, s, 96);
      writeHex(s, 0, r.payload);
      let payloadOk = true;
      for (let k = 0; k < 32; k++) if (s[k] !== s[96 + k]) payloadOk = false;
      table.setHeader(i, KIND_BEACON, AUTH_OK, payloadOk, 0, d, receivedAt);
      table.setRadio(i, r.frequency, r.channel, r.dataRate, r.txPower, 0);
      keccak256Into(s, 0, 32, bytes, table.at(i, "beacon"));
      writeHex(bytes, table.at(i, "remoteEntropy"), r.remoteEntropy);
    } else {
      witnessDigestInto(this.separator, r, digest, 0);
      table.setHeader(i, KIND_WITNESS, AUTH_OK, false, 0, d, receivedAt);
      table.setRadio(i, r.frequency, 0, r.dataRate, r.signal, r.snr);
      writeHex(bytes, table.at(i, "beacon"), r.beaconPayloadHash);
    }
    bytes.set(digest, table.at(i, "id"));
    writeHex(bytes, table.at(i, "device"), keyId);
    const auth =
      d < 0
        ? AUTH_UNKNOWN_DEVICE
        : this.keys.verify(this.checker, d, digest, r.signature)
          ? AUTH_OK
          : AUTH_BAD_SIGNATURE;
    table.setAuth(i, auth);
    table.markWritten(i);
  }

  /** Stage 1 for a batch into table rows [start, start + raws.length); marks the last row written. */
  prepareBatch(
    table: ReportTable,
    start: number,
    raws: readonly string[],
    receivedAt: ArrayLike<number>,
  ): void {
    for (let k = 0; k < raws.length; k++) this.prepareInto(table, start + k, raws[k]!, receivedAt[k]!);
    if (raws.length > 0) table.markWritten(start + raws.length - 1);
  }
}

/** Called as each range of table rows [start, end) is complete (ranges arrive in any order). */
export type BatchListener = (table: ReportTable, start: number, end: number) => void;

/** Signature checks at ingest (ingest is a filter; the verifier checks everything again at close). */
export interface ReportAuthenticator {
  /** An AUTH_* code per text, in order. */
  authenticate(raws: readonly string[]): Promise<Uint8Array>;
  /** Keys of devices onboarded since (ignored when already known). */
  addKeys(keys: readonly DeviceKey[]): Promise<void>;
  close(): Promise<void>;
}

/** Ingest signature checks on the calling thread (tests, small deployments). */
export class InlineAuthenticator implements ReportAuthenticator {
  private readonly prep: ReportPreparation;

  constructor(domain: ReportDomain, keys: readonly DeviceKey[]) {
    this.prep = new ReportPreparation(domain, keys);
  }

  authenticate(raws: readonly string[]): Promise<Uint8Array> {
    return Promise.resolve(Uint8Array.from(raws, (raw) => this.prep.authenticate(raw)));
  }

  addKeys(keys: readonly DeviceKey[]): Promise<void> {
    this.prep.addKeys(keys);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * An epoch's reports as pages (a streaming close reads them from the store page by page): `count`
 * reports in all, row i of the table being the i-th report yielded. Only one page at a time needs
 * to be in memory.
 */
export interface ReportSource {
  readonly count: number;
  readonly pages: AsyncIterable<readonly ReceivedReport[]> | Iterable<readonly ReceivedReport[]>;
}

/** An array of reports as a source of one page. */
export function sourceOf(reports: readonly ReceivedReport[]): ReportSource {
  return { count: reports.length, pages: [reports] };
}

/** Thrown when a source yields more or fewer reports than it announced. */
export function countMismatch(count: number, got: number): Error {
  return new RangeError(`the report source announced ${count} reports and yielded ${got}`);
}

/** Runs stage 1 over an epoch's reports; row i of the table is the i-th report. */
export interface ReportPreparer {
  prepare(reports: readonly ReceivedReport[], onBatch?: BatchListener): Promise<ReportTable>;
  /**
   * The same from pages (bounded memory: a page's texts are dropped once stage 1 has read them).
   * `reuse`: a table the caller is done with, written over when it has `source.count` rows (and,
   * for worker threads, shared memory): consecutive chunks of a close then use one buffer.
   */
  prepareStream(source: ReportSource, onBatch?: BatchListener, reuse?: ReportTable): Promise<ReportTable>;
  close(): Promise<void>;
}

/** Stage 1 on the calling thread (tests, small epochs). */
export class InlinePreparer implements ReportPreparer {
  private readonly prep: ReportPreparation;

  constructor(domain: ReportDomain, keys: readonly DeviceKey[]) {
    this.prep = new ReportPreparation(domain, keys);
  }

  prepare(reports: readonly ReceivedReport[], onBatch?: BatchListener): Promise<ReportTable> {
    return this.prepareStream(sourceOf(reports), onBatch);
  }

  async prepareStream(
    source: ReportSource,
    onBatch?: BatchListener,
    reuse?: ReportTable,
  ): Promise<ReportTable> {
    const table = reuse?.length === source.count ? reuse : new ReportTable(source.count);
    let next = 0;
    for await (const page of source.pages) {
      if (next + page.length > source.count) throw countMismatch(source.count, next + page.length);
      for (let k = 0; k < page.length; k++)
        this.prep.prepareInto(table, next + k, page[k]!.raw, page[k]!.receivedAt);
      if (page.length > 0) onBatch?.(table, next, next + page.length);
      next += page.length;
    }
    if (next !== source.count) throw countMismatch(source.count, next);
    return table;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
