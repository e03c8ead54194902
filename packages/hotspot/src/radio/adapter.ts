/**
 * The radio seam: how the agent transmits its beacons and hears other hotspots' beacons. A real
 * hotspot drives a LoRa concentrator through its packet forwarder (semtech-udp.ts); tests and
 * simulations use the loopback medium (loopback.ts).
 *
 * Beacon frames over the air: "HXB" (0x48 0x58 0x42), a version byte (1), then the 32-byte beacon
 * payload (protocol entropy/payload.ts): 36 bytes. Anything else heard is other LoRa traffic and is
 * ignored.
 */
import type { DataRate } from "@hexmesh/protocol";

export interface Uplink {
  /** The frame's bytes as received (CRC checked by the radio). */
  readonly data: Uint8Array;
  /** Centre frequency, Hz. */
  readonly frequency: number;
  readonly modulation: DataRate;
  /** Received signal strength, dBm. */
  readonly rssi: number;
  /** Signal-to-noise ratio, dB. */
  readonly snr: number;
}

export interface Downlink {
  readonly data: Uint8Array;
  readonly frequency: number;
  readonly modulation: DataRate;
  /** Conducted power, dBm. */
  readonly powerDbm: number;
}

export interface RadioAdapter {
  /** Starts delivering uplinks to `onUplink`. */
  start(onUplink: (uplink: Uplink) => void): Promise<void>;
  /** Transmits now; resolves once the radio confirmed it (rejects with the radio's reason). */
  transmit(downlink: Downlink): Promise<void>;
  stop(): Promise<void>;
}

const MAGIC = [0x48, 0x58, 0x42, 0x01] as const;
export const BEACON_FRAME_BYTES = MAGIC.length + 32;

export function beaconFrame(payload: Uint8Array): Uint8Array {
  if (payload.length !== 32) throw new Error("a beacon payload is 32 bytes");
  const frame = new Uint8Array(BEACON_FRAME_BYTES);
  frame.set(MAGIC, 0);
  frame.set(payload, MAGIC.length);
  return frame;
}

/** The beacon payload in a frame, or null if the frame is not a Hexmesh beacon. */
export function payloadOfFrame(frame: Uint8Array): Uint8Array | null {
  if (frame.length !== BEACON_FRAME_BYTES) return null;
  for (let i = 0; i < MAGIC.length; i++) if (frame[i] !== MAGIC[i]) return null;
  return frame.slice(MAGIC.length);
}

/** LoRa data rate text as packet forwarders write it: "SF8BW125". */
export function datrOf(m: DataRate): string {
  return `SF${m.spreadingFactor}BW${m.bandwidthHz / 1000}`;
}

export function parseDatr(datr: unknown): DataRate | null {
  if (typeof datr !== "string") return null;
  const m = /^SF(5|6|7|8|9|10|11|12)BW(125|250|500)$/.exec(datr);
  return m === null ? null : { spreadingFactor: Number(m[1]), bandwidthHz: Number(m[2]) * 1000 };
}
