/**
 * Radio physics used by the witness checks.
 *
 * Free-space path loss (Friis): FSPL(dB) = 20 log10(4 pi d f / c), d in m, f in Hz.
 * A witness cannot receive more than max = txPower + gainTx - FSPL + gainRx (all dB/dBm):
 * ground reflections, obstacles and cable losses only lower the signal.
 *
 * Determinism: these use floating point. Node's V8 implements Math.log10/sin/cos/atan2/sqrt with
 * the same fdlibm-derived code on every platform, so all oracles get bit-identical results; the
 * checks compare with tolerances, so a last-bit difference could only matter exactly at a bound.
 */

export const SPEED_OF_LIGHT = 299_792_458;
/** IUGG mean Earth radius. */
export const EARTH_RADIUS_M = 6_371_008.8;

export function fsplDb(distanceM: number, frequencyHz: number): number {
  return 20 * Math.log10((4 * Math.PI * distanceM * frequencyHz) / SPEED_OF_LIGHT);
}

/** Strongest possible received signal in dBm over a free-space path. */
export function maxRssiDbm(
  txPowerDbm: number,
  gainTxDbi: number,
  distanceM: number,
  frequencyHz: number,
  gainRxDbi: number,
): number {
  return txPowerDbm + gainTxDbi - fsplDb(distanceM, frequencyHz) + gainRxDbi;
}

/** Great-circle distance between two points given in radians. */
export function haversineM(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const sinDLat = Math.sin((lat2 - lat1) / 2);
  const sinDLng = Math.sin((lng2 - lng1) / 2);
  const a = sinDLat * sinDLat + Math.cos(lat1) * Math.cos(lat2) * sinDLng * sinDLng;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Thermal noise floor of a receiver: -174 dBm/Hz + 10 log10(bandwidth) + noise figure. */
export function noiseFloorDbm(bandwidthHz: number, noiseFigureDb: number): number {
  return -174 + 10 * Math.log10(bandwidthHz) + noiseFigureDb;
}

/**
 * Lowest SNR at which LoRa demodulates, by spreading factor (Semtech SX1276/77/78/79 datasheet,
 * table "Range of Spreading Factors": SF7 -7.5 dB ... SF12 -20 dB). A packet reported below it
 * could not have been decoded.
 */
export function loraSnrFloorDb(spreadingFactor: number): number {
  return -7.5 - 2.5 * (spreadingFactor - 7);
}
