/**
 * Radio propagation for the network simulator: who hears whom, at what signal and SNR.
 *
 * Median path loss is a log-distance model, PL(d) = PL(1 km) + 10 n log10(d / 1 km), with the
 * coefficients of a published measurement or model per environment, plus log-normal shadowing
 * X ~ N(0, sigma) per link (the same in both directions: shadowing is reciprocal):
 *
 * - rural (open, flat): Petäjäjärvi, Mikhaylov, Roivainen, Hänninen, Pettissalo, "On the coverage of
 *   LPWANs: range evaluation and channel attenuation model for LoRa technology", 14th Int. Conf. on
 *   ITS Telecommunications (ITST), 2015 — LoRa 868 MHz measured around Oulu from a car, base
 *   station antenna 24 m: PL(d) = 128.95 + 23.2 log10(d / 1 km) dB (n = 2.32), sigma = 7.8 dB.
 *   Shifted to the carrier by 20 log10(f / 868 MHz) (the frequency term of free space).
 * - urban and suburban: Okumura-Hata (M. Hata, "Empirical formula for propagation loss in land
 *   mobile radio services", IEEE Trans. Veh. Technol. 29(3), 1980), which is log-distance in form:
 *   PL = 69.55 + 26.16 log10 f − 13.82 log10 hb − a(hm) + (44.9 − 6.55 log10 hb) log10 d, with
 *   a(hm) = (1.1 log10 f − 0.7) hm − (1.56 log10 f − 0.8) (small/medium city), f in MHz, d in km;
 *   suburban subtracts 2 (log10(f / 28))² + 5.4. hb = the higher antenna, hm = the lower one; Hata
 *   was fitted for hb 30–200 m and hm 1–10 m, so heights are clamped to hb ≥ 10 m (an extrapolation
 *   below 30 m, stated) and hm ≤ 5 m (HATA_MAX_HM). Shadowing sigma = 8 dB, the usual urban value (Rappaport,
 *   "Wireless Communications", 2nd ed., ch. 4: 6–10 dB measured in cities).
 * - indoor devices add a building entry loss of 12 dB per indoor end (ITU-R P.2109-1 median loss of
 *   "traditional" buildings near 1 GHz is about 10–15 dB).
 *
 * Physical ceilings: a received signal never exceeds free space (the path loss is clamped to FSPL,
 * which is also what the oracle's bad_rssi rule assumes), and nothing is heard beyond the radio
 * horizon of the two antennas, 4.12 (√h1 + √h2) km (4/3 Earth radius, ITU-R P.834).
 *
 * Reception: a LoRa packet is decoded when its SNR reaches the demodulation floor of its spreading
 * factor (Semtech SX1276 datasheet: SF7 −7.5 dB … SF12 −20 dB), the noise being the thermal floor
 * −174 dBm/Hz + 10 log10(bandwidth) + a 6 dB noise figure (SX1302 class). So the sensitivity is
 * floor(SF) + noise floor, e.g. −127 dBm at SF8/125 kHz. Reported RSSI has a ±1 dB (1 sigma)
 * measurement error; reported SNR is the true one minus interference (0–3 dB), saturating near
 * +10 dB as real LoRa receivers do.
 */
import { fsplDb, loraSnrFloorDb, noiseFloorDbm } from "@hexmesh/protocol";

export type Environment = "urban" | "suburban" | "rural";

export const ENVIRONMENTS: readonly Environment[] = ["urban", "suburban", "rural"];

/** Petäjäjärvi et al. 2015, ITST: car measurements at 868 MHz around Oulu. */
export const RURAL_MODEL = { pl1kmDb: 128.95, exponent: 2.32, referenceHz: 868_000_000, sigmaDb: 7.8 };
/** Typical urban shadowing (Rappaport, ch. 4). */
export const URBAN_SIGMA_DB = 8;
/** ITU-R P.2109-1 traditional-building entry loss near 1 GHz (median). */
export const INDOOR_LOSS_DB = 12;
/** SX1302-class receiver noise figure. */
export const NOISE_FIGURE_DB = 6;
/** Highest SNR a LoRa receiver reports in practice (dB). */
export const SNR_SATURATION_DB = 10;

export function sigmaDb(env: Environment): number {
  return env === "rural" ? RURAL_MODEL.sigmaDb : URBAN_SIGMA_DB;
}

/**
 * Cap on Hata's mobile-antenna height. Hata fitted a(hm) for vehicle antennas of 1-10 m in open
 * streets; a hotspot's lower antenna sits among buildings, so its height gain is capped at 5 m (a
 * calibration choice: with 10 m, a rooftop beacon is heard by an entire city and the median beacon
 * gets ~100 witnesses; with 5 m, tens, as in Helium's dense areas).
 */
export const HATA_MAX_HM = 5;

/** Hata's mobile antenna correction, small/medium city. */
function hataA(fMHz: number, hm: number): number {
  const lf = Math.log10(fMHz);
  return (1.1 * lf - 0.7) * hm - (1.56 * lf - 0.8);
}

/**
 * Median path loss in dB between antennas at heights h1, h2 (m, above ground) d metres apart, before
 * shadowing, never below free space.
 */
export function medianPathLossDb(
  env: Environment,
  distanceM: number,
  frequencyHz: number,
  h1: number,
  h2: number,
): number {
  const d = Math.max(distanceM, 1);
  const dKm = d / 1000;
  let pl: number;
  if (env === "rural") {
    pl =
      RURAL_MODEL.pl1kmDb +
      10 * RURAL_MODEL.exponent * Math.log10(dKm) +
      20 * Math.log10(frequencyHz / RURAL_MODEL.referenceHz);
  } else {
    const f = frequencyHz / 1e6;
    const hb = Math.min(200, Math.max(10, Math.max(h1, h2)));
    const hm = Math.min(HATA_MAX_HM, Math.max(1, Math.min(h1, h2)));
    const lhb = Math.log10(hb);
    pl = 69.55 + 26.16 * Math.log10(f) - 13.82 * lhb - hataA(f, hm) + (44.9 - 6.55 * lhb) * Math.log10(dKm);
    if (env === "suburban") pl -= 2 * Math.log10(f / 28) ** 2 + 5.4;
  }
  return Math.max(pl, fsplDb(d, frequencyHz));
}

/** Radio horizon of two antennas (m), 4/3 Earth radius. */
export function radioHorizonM(h1: number, h2: number): number {
  return 4120 * (Math.sqrt(Math.max(h1, 0)) + Math.sqrt(Math.max(h2, 0)));
}

/** Lowest signal (dBm) a receiver decodes at this spreading factor and bandwidth. */
export function sensitivityDbm(spreadingFactor: number, bandwidthHz: number): number {
  return noiseFloorDbm(bandwidthHz, NOISE_FIGURE_DB) + loraSnrFloorDb(spreadingFactor);
}

/** The worse of two endpoints' environments governs the link. */
export function linkEnvironment(a: Environment, b: Environment): Environment {
  if (a === "urban" || b === "urban") return "urban";
  if (a === "suburban" || b === "suburban") return "suburban";
  return "rural";
}

/**
 * Largest distance at which a link can still be heard with shadowing at most `sigmas` standard
 * deviations above the median (search bound for the simulator; beyond it the chance is negligible).
 */
export function maxRangeM(
  env: Environment,
  budgetDb: number,
  frequencyHz: number,
  h1: number,
  h2: number,
  sigmas = 3.5,
): number {
  const allowed = budgetDb + sigmas * sigmaDb(env);
  let lo = 1;
  let hi = Math.min(radioHorizonM(h1, h2), 200_000);
  if (medianPathLossDb(env, hi, frequencyHz, h1, h2) <= allowed) return hi;
  for (let k = 0; k < 40; k++) {
    const mid = (lo + hi) / 2;
    if (medianPathLossDb(env, mid, frequencyHz, h1, h2) <= allowed) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** A 32-bit integer mix (murmur3 finaliser): link shadowing from ids without a stream. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85eb_ca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2_ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Standard normal from two 32-bit words (Box-Muller). */
export function normalFrom(u32a: number, u32b: number): number {
  const u1 = (u32a + 1) / 0x1_0000_0001; // (0, 1)
  const u2 = u32b / 0x1_0000_0000;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * Shadowing of the link between devices a and b in dB: N(0, sigma), symmetric in (a, b), fixed
 * for the epoch (large-scale fading does not change between packets), derived from the seed.
 */
export function linkShadowDb(seed: number, a: number, b: number, sigma: number): number {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  const h1 = mix32(mix32(seed ^ Math.imul(lo, 0x9e37_79b1)) ^ Math.imul(hi, 0x85eb_ca77));
  const h2 = mix32(h1 ^ 0x2545_f491);
  return sigma * normalFrom(h1, h2);
}
