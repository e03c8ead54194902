/**
 * Region plans: channels, data rates and legal transmit power, per LoRaWAN regional parameters.
 *
 * US915 (902-928 MHz)
 *   LoRaWAN Regional Parameters RP002-1.0.4, "US902-928": uplink channels 0-63 at
 *   902.3 MHz + 200 kHz x n (125 kHz, DR0-DR3) and 64-71 at 903.0 MHz + 1.6 MHz x (n - 64)
 *   (500 kHz, DR4). DR0 SF10, DR1 SF9, DR2 SF8, DR3 SF7 (125 kHz); DR4 SF8 (500 kHz).
 *   Power: FCC 47 CFR 15.247(b)(3) 1 W (30 dBm) conducted; 15.247(b)(4) antenna gain above 6 dBi
 *   reduces it dB for dB, i.e. at most 36 dBm EIRP.
 * EU868 (863-870 MHz)
 *   RP002-1.0.4, "EU863-870": default channels 868.1, 868.3, 868.5 MHz (0-2) plus the usual
 *   network channels 867.1-867.9 MHz (3-7), 125 kHz, DR0-DR5 = SF12-SF7.
 *   Power: ETSI EN 300 220-2 / ERC Rec 70-03 Annex 1 bands h1.4 and h1.5: 25 mW ERP
 *   (14 dBm ERP = 16.15 dBm EIRP); RP002 MaxEIRP +16 dBm, used for both limits.
 *
 * Which region a location is in: `RegionResolver`. The default is a coarse stand-in (two latitude/
 * longitude boxes: North America -> US915, Europe -> EU868); production should inject a resolver
 * built from the regulatory region polygons (as Helium's region H3 sets). Everything outside
 * every box is invalid_region.
 */

export interface DataRate {
  readonly spreadingFactor: number;
  readonly bandwidthHz: number;
}

export interface RegionPlan {
  readonly name: string;
  /** Frequency in Hz of channel i, or undefined if the plan has no such channel. */
  readonly channelFrequency: readonly number[];
  /** Data rate indexes allowed on channel i. */
  readonly channelDataRates: readonly (readonly number[])[];
  /** Data rate index -> modulation. */
  readonly dataRates: ReadonlyMap<number, DataRate>;
  /** Conducted transmit power limit, tenths of dBm. */
  readonly maxConductedTenths: number;
  /** EIRP limit (conducted power + antenna gain), tenths of dBm. */
  readonly maxEirpTenths: number;
}

const US915_DR = new Map<number, DataRate>([
  [0, { spreadingFactor: 10, bandwidthHz: 125_000 }],
  [1, { spreadingFactor: 9, bandwidthHz: 125_000 }],
  [2, { spreadingFactor: 8, bandwidthHz: 125_000 }],
  [3, { spreadingFactor: 7, bandwidthHz: 125_000 }],
  [4, { spreadingFactor: 8, bandwidthHz: 500_000 }],
]);

export const US915: RegionPlan = {
  name: "US915",
  channelFrequency: Array.from({ length: 72 }, (_, n) =>
    n < 64 ? 902_300_000 + 200_000 * n : 903_000_000 + 1_600_000 * (n - 64),
  ),
  channelDataRates: Array.from({ length: 72 }, (_, n) => (n < 64 ? [0, 1, 2, 3] : [4])),
  dataRates: US915_DR,
  maxConductedTenths: 300,
  maxEirpTenths: 360,
};

const EU868_DR = new Map<number, DataRate>(
  [12, 11, 10, 9, 8, 7].map((sf, dr) => [dr, { spreadingFactor: sf, bandwidthHz: 125_000 }]),
);

export const EU868: RegionPlan = {
  name: "EU868",
  channelFrequency: [
    868_100_000, 868_300_000, 868_500_000, 867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000,
  ],
  channelDataRates: Array.from({ length: 8 }, () => [0, 1, 2, 3, 4, 5]),
  dataRates: EU868_DR,
  maxConductedTenths: 160,
  maxEirpTenths: 160,
};

/** Region of a location (degrees), or undefined if no plan applies. */
export type RegionResolver = (lat: number, lng: number) => RegionPlan | undefined;

export const coarseRegionResolver: RegionResolver = (lat, lng) => {
  if (lat >= 14 && lat <= 72 && lng >= -170 && lng <= -50) return US915;
  if (lat >= 34 && lat <= 72 && lng >= -25 && lng <= 45) return EU868;
  return undefined;
};
