/**
 * Why a report was refused. Helium's reason names where Helium has one; the Hexmesh additions are
 * marked. The numeric code is what the canonical epoch encoding stores: append only, never
 * renumber (published epochs must stay decodable).
 */
export const REASONS = [
  "malformed", // 1  Hexmesh: the wire text did not parse (see reports/wire.ts for the sub-code)
  "outside_epoch", // 2  Hexmesh: received outside the epoch's window
  "gateway_not_found", // 3  Helium: no registered device with that key id
  "bad_signature", // 4  Helium
  "denied", // 5  Helium: device suspended (on the denylist)
  "not_active", // 6  Helium: device retired
  "not_asserted", // 7  Helium: no (valid) asserted location
  "bad_entropy", // 8  Helium: remote entropy never published
  "entropy_expired", // 9  Helium: entropy not valid at receipt (published < 0 s or > 180 s before)
  "invalid_packet", // 10 Helium: payload does not rebuild from the entropies
  "invalid_region", // 11 Helium: location outside every region plan, or witness in another region
  "invalid_frequency", // 12 Helium: beacon off its channel, or witness > 100 kHz from the beacon
  "invalid_data_rate", // 13 Hexmesh: data rate not allowed on the channel, or witness at another one
  "invalid_tx_power", // 14 Hexmesh: transmit power above the region's conducted or EIRP limit
  "duplicate", // 15 Helium: same beacon payload again, or same witness for the same beacon again
  "irregular_interval", // 16 Helium: second beacon of a device in one 6-hour window
  "unknown_beacon", // 17 Hexmesh: witness of a payload no beacon in the epoch carries
  "invalid_beacon", // 18 Hexmesh: witness of a beacon that was refused (Helium: beaconer-side failure)
  "self_witness", // 19 Helium
  "too_late", // 20 Helium: witness received > 4,000 ms after the beacon
  "too_early", // 21 Hexmesh: witness received > 4,000 ms before the beacon
  "below_min_distance", // 22 Helium: H3 res-11 grid distance < 8
  "max_distance_exceeded", // 23 Helium: > 100 km
  "bad_rssi", // 24 Helium: signal stronger than free-space path loss allows
  "bad_snr", // 25 Hexmesh: SNR below the demodulation floor or above what the signal allows
  "same_owner", // 26 Hexmesh: witness of a beacon of a device with the same owner
  "nonreciprocal_signal", // 27 Hexmesh: the device hears others far better than they hear it (reciprocity)
  "one_way_links", // 28 Hexmesh: far more of the device's links go unconfirmed by the other end than fading explains
] as const;

export type Reason = (typeof REASONS)[number];

/** Code -> reason (null for 0 = valid; otherwise 1 + index in REASONS). */
export function reasonOf(code: number): Reason | null {
  if (code === 0) return null;
  const r = REASONS[code - 1];
  if (r === undefined) throw new RangeError(`unknown reason code ${code}`);
  return r;
}

/** Reason -> code, for hot paths that store codes. */
export const CODE = Object.fromEntries(REASONS.map((r, i) => [r, i + 1])) as Readonly<Record<Reason, number>>;
