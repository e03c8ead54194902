import { expect } from "chai";

import {
  coarseRegionResolver,
  EU868,
  fsplDb,
  haversineM,
  loraSnrFloorDb,
  maxRssiDbm,
  noiseFloorDbm,
  US915,
} from "@hexmesh/protocol";

import { near } from "../../helpers/approx.js";

const rad = (deg: number) => (deg * Math.PI) / 180;

describe("oracle / radio physics and region plans", function () {
  // Hand computation: FSPL = 20 log10(4 pi d f / c), c = 299,792,458 m/s.
  //   d = 1 km, f = 915 MHz:  4 pi 1000 915e6 / c = 38,353.96  -> 20 log10 = 91.676 dB
  //   d = 2 km, f = 903.9 MHz: 75,777.37                         -> 97.591 dB
  //   d = 10 km, f = 868.1 MHz: 363,880.6                        -> 111.219 dB
  it("free-space path loss matches hand-computed values", function () {
    near(fsplDb(1_000, 915e6), 91.676, 0.001);
    near(fsplDb(2_000, 903.9e6), 97.591, 0.001);
    near(fsplDb(10_000, 868.1e6), 111.219, 0.001);
    // doubling the distance costs 6.02 dB
    near(fsplDb(2_000, 915e6) - fsplDb(1_000, 915e6), 6.0206, 0.0001);
  });

  it("max RSSI = tx + gain_tx - FSPL + gain_rx", function () {
    // 27 dBm, 3 dBi each side, 2 km at 903.9 MHz: 27 + 3 - 97.591 + 3 = -64.591 dBm
    near(maxRssiDbm(27, 3, 2_000, 903.9e6, 3), -64.591, 0.001);
    // 14 dBm, 2 dBi and 5.5 dBi, 10 km at 868.1 MHz: 14 + 2 - 111.219 + 5.5 = -89.719 dBm
    near(maxRssiDbm(14, 2, 10_000, 868.1e6, 5.5), -89.719, 0.001);
  });

  it("great-circle distance: one degree of latitude is 111.195 km on the mean sphere", function () {
    // 2 pi R / 360 with R = 6,371,008.8 m = 111,195.08 m
    near(haversineM(rad(40), rad(-105), rad(41), rad(-105)), 111_195.08, 0.01);
    expect(haversineM(rad(10), rad(20), rad(10), rad(20))).to.equal(0);
  });

  it("noise floor and LoRa demodulation floors", function () {
    // -174 + 10 log10(125,000) + 6 = -174 + 50.969 + 6 = -117.031 dBm
    near(noiseFloorDbm(125_000, 6), -117.031, 0.001);
    near(noiseFloorDbm(500_000, 6), -111.01, 0.001);
    expect([7, 8, 9, 10, 11, 12].map(loraSnrFloorDb)).to.deep.equal([-7.5, -10, -12.5, -15, -17.5, -20]);
  });

  it("US915 plan: 64 + 8 uplink channels, data rates per channel, 30 dBm conducted / 36 dBm EIRP", function () {
    expect(US915.channelFrequency.length).to.equal(72);
    expect(US915.channelFrequency[0]).to.equal(902_300_000);
    expect(US915.channelFrequency[63]).to.equal(914_900_000);
    expect(US915.channelFrequency[64]).to.equal(903_000_000);
    expect(US915.channelFrequency[71]).to.equal(914_200_000);
    expect(US915.channelDataRates[8]).to.deep.equal([0, 1, 2, 3]);
    expect(US915.channelDataRates[65]).to.deep.equal([4]);
    expect(US915.dataRates.get(4)).to.deep.equal({ spreadingFactor: 8, bandwidthHz: 500_000 });
    expect([US915.maxConductedTenths, US915.maxEirpTenths]).to.deep.equal([300, 360]);
  });

  it("EU868 plan: 8 channels at 867.1-868.5 MHz, SF12-SF7, 16 dBm EIRP", function () {
    expect(EU868.channelFrequency).to.include.members([
      868_100_000, 868_300_000, 868_500_000, 867_100_000, 867_900_000,
    ]);
    expect(EU868.dataRates.get(0)).to.deep.equal({ spreadingFactor: 12, bandwidthHz: 125_000 });
    expect(EU868.dataRates.get(5)).to.deep.equal({ spreadingFactor: 7, bandwidthHz: 125_000 });
    expect(EU868.maxEirpTenths).to.equal(160);
  });

  it("the coarse resolver maps North America to US915, Europe to EU868, elsewhere to nothing", function () {
    expect(coarseRegionResolver(40.0, -105.3)).to.equal(US915);
    expect(coarseRegionResolver(48.85, 2.35)).to.equal(EU868);
    expect(coarseRegionResolver(-33.87, 151.2)).to.equal(undefined);
  });
});
