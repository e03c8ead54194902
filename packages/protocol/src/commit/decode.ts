/**
 * Reads the canonical epoch encoding (commit.ts) back: what an auditor holding the published bytes
 * needs to rebuild the owners' tree and check the totals. The mirror of commitEpoch's writer: every
 * field in the same order and width; anything short, long or out of shape is refused.
 */
import type { ChainIndex, EpochUsage } from "../chain/types.js";
import { toHex, type Hex } from "../hex.js";
import type { DevicePayout, OwnerPayout } from "../rewards/payout.js";
import type { ProviderUsage, UsageParams } from "../rewards/usage.js";
import { ENCODING_MAGIC, ENCODING_VERSION, ENCODING_VERSION_USAGE } from "./commit.js";

export interface DecodedPool {
  readonly name: string;
  readonly bps: number;
  readonly amount: bigint;
}

/** The usage section (version 2): the inputs of the usage rule and its outcome per provider. */
export interface DecodedUsage extends EpochUsage {
  readonly params: UsageParams;
  readonly usagePool: bigint;
  readonly totalValue: bigint;
  readonly paid: bigint;
  /** By ascending address. */
  readonly providers: readonly ProviderUsage[];
}

/** The encoding's fields: the chain index's header, the work's pools and metrics, the payout. */
export interface DecodedEpoch
  extends Pick<ChainIndex, "chainId" | "registry" | "epoch" | "epochStart" | "epochEnd" | "pool"> {
  readonly version: number;
  readonly kind: string;
  readonly pools: readonly DecodedPool[];
  /** null in version 1 (an epoch without usage records). */
  readonly usage: DecodedUsage | null;
  readonly metricNames: readonly string[];
  /** The verifier's record (coverage: the verdicts), as published. */
  readonly record: Uint8Array;
  /** By ascending id (metrics in `metricNames` order, weights in `pools` order). */
  readonly devices: readonly DevicePayout[];
  /** By ascending address. */
  readonly owners: readonly OwnerPayout[];
  readonly distributed: bigint;
  readonly dust: bigint;
  readonly totalCumulative: bigint;
  readonly root: Hex;
}

export class EncodingError extends Error {
  override readonly name = "EncodingError";
}

class ByteReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  private take(n: number, what: string): number {
    if (this.pos + n > this.bytes.length)
      throw new EncodingError(`encoding ends inside ${what} (byte ${this.pos} of ${this.bytes.length})`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(what: string): number {
    return this.bytes[this.take(1, what)]!;
  }

  uint(width: number, what: string): bigint {
    const at = this.take(width, what);
    let v = 0n;
    for (let i = 0; i < width; i++) v = (v << 8n) | BigInt(this.bytes[at + i]!);
    return v;
  }

  safe(width: number, what: string): number {
    const v = this.uint(width, what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new EncodingError(`${what} too large: ${v}`);
    return Number(v);
  }

  hex(size: number, what: string): Hex {
    return toHex(this.bytes, this.take(size, what), size);
  }

  ascii(what: string): string {
    const n = this.u8(what);
    const at = this.take(n, what);
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.bytes[at + i]!);
    return s;
  }

  slice(n: number, what: string): Uint8Array {
    const at = this.take(n, what);
    return this.bytes.subarray(at, at + n);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }
}

/** Decodes the canonical encoding of one epoch (the bytes whose keccak256 is its dataHash). */
export function decodeEpochEncoding(bytes: Uint8Array): DecodedEpoch {
  const r = new ByteReader(bytes);
  let magic = "";
  for (let i = 0; i < ENCODING_MAGIC.length; i++) magic += String.fromCharCode(r.u8("magic"));
  if (magic !== ENCODING_MAGIC)
    throw new EncodingError(`not an epoch encoding (magic ${JSON.stringify(magic)})`);
  const version = r.u8("version");
  if (version !== ENCODING_VERSION && version !== ENCODING_VERSION_USAGE)
    throw new EncodingError(
      `encoding version ${version}, this reader knows ${ENCODING_VERSION} and ${ENCODING_VERSION_USAGE}`,
    );
  const kind = r.ascii("work kind");
  const chainId = r.uint(32, "chainId");
  const registry = r.hex(20, "registry");
  const epoch = r.uint(8, "epoch");
  const epochStart = r.safe(8, "epochStart");
  const epochEnd = r.safe(8, "epochEnd");
  const pool = r.uint(32, "pool");
  const pools: DecodedPool[] = [];
  for (let n = r.u8("pool count"), i = 0; i < n; i++) {
    pools.push({ name: r.ascii("pool name"), bps: r.safe(2, "pool bps"), amount: r.uint(32, "pool amount") });
  }
  const usage = version === ENCODING_VERSION_USAGE ? readUsage(r) : null;
  const metricNames: string[] = [];
  for (let n = r.u8("metric count"), i = 0; i < n; i++) metricNames.push(r.ascii("metric name"));
  const recordLength = r.safe(8, "record length");
  const record = r.slice(recordLength, "verifier record");
  const devices: DevicePayout[] = [];
  const deviceCount = r.safe(4, "device count");
  for (let i = 0; i < deviceCount; i++) {
    const deviceId = r.uint(32, "device id");
    const owner = r.hex(20, "device owner");
    const bondedByte = r.u8("bonded");
    if (bondedByte > 1) throw new EncodingError(`device ${deviceId}: bonded byte ${bondedByte}`);
    const metrics = metricNames.map(() => r.uint(32, "device metric"));
    const weights = pools.map(() => r.uint(32, "device weight"));
    devices.push({
      deviceId,
      owner,
      bonded: bondedByte === 1,
      metrics,
      weights,
      amount: r.uint(32, "device amount"),
    });
  }
  const owners: OwnerPayout[] = [];
  const ownerCount = r.safe(4, "owner count");
  for (let i = 0; i < ownerCount; i++) {
    owners.push({
      owner: r.hex(20, "owner"),
      amount: r.uint(32, "owner amount"),
      cumulative: r.uint(32, "cumulative"),
    });
  }
  const distributed = r.uint(32, "distributed");
  const dust = r.uint(32, "dust");
  const totalCumulative = r.uint(32, "totalCumulative");
  const root = r.hex(32, "root");
  if (r.remaining !== 0) throw new EncodingError(`${r.remaining} bytes after the root`);
  return {
    version,
    kind,
    chainId,
    registry,
    epoch,
    epochStart,
    epochEnd,
    pool,
    pools,
    usage,
    metricNames,
    record,
    devices,
    owners,
    distributed,
    dust,
    totalCumulative,
    root,
  };
}

function readUsage(r: ByteReader): DecodedUsage {
  const subnetwork = r.hex(32, "usage subnetwork");
  const price = r.uint(32, "usage price");
  const priceBlock = r.safe(8, "usage price block");
  const params = { shareBps: r.safe(2, "usage share"), feeBps: r.safe(2, "usage fee") };
  const usagePool = r.uint(32, "usage pool");
  const totalValue = r.uint(32, "usage total value");
  const paid = r.uint(32, "usage paid");
  const records = [];
  for (let n = r.safe(4, "usage record count"), i = 0; i < n; i++) {
    records.push({
      block: r.safe(8, "usage record block"),
      logIndex: r.safe(4, "usage record log index"),
      provider: r.hex(20, "usage record provider"),
      account: r.hex(20, "usage record account"),
      credits: r.uint(32, "usage record credits"),
    });
  }
  const providers: ProviderUsage[] = [];
  for (let n = r.safe(4, "usage provider count"), i = 0; i < n; i++) {
    providers.push({
      provider: r.hex(20, "usage provider"),
      credits: r.uint(32, "usage provider credits"),
      value: r.uint(32, "usage provider value"),
      reward: r.uint(32, "usage provider reward"),
    });
  }
  return { subnetwork, price, priceBlock, records, params, usagePool, totalValue, paid, providers };
}
