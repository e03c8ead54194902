import { expect } from "chai";

import { fsplDb } from "@hexmesh/protocol";
import {
  ENVIRONMENTS,
  linkEnvironment,
  linkShadowDb,
  maxRangeM,
  medianPathLossDb,
  radioHorizonM,
  RURAL_MODEL,
  sensitivityDbm,
  sigmaDb,
  URBAN_SIGMA_DB,
} from "@hexmesh/sim/radio";

import { near } from "../helpers/approx.js";

const F = 903_900_000;

describe("sim / radio model", function () {
  it("median path loss grows with distance in every environment, and never beats free space", function () {
    for (const env of ENVIRONMENTS) {
      for (const [h1, h2] of [
        [4, 4],
        [10, 30],
        [40, 40],
      ] as const) {
        let previous = -Infinity;
        for (let d = 10; d <= 100_000; d *= 1.25) {
          const pl = medianPathLossDb(env, d, F, h1, h2);
          expect(pl, `${env} ${d} m`).to.be.at.least(previous);
          expect(pl).to.be.at.least(fsplDb(d, F) - 1e-9);
          previous = pl;
        }
      }
    }
  });

  it("urban loses more than suburban, suburban more than nothing; higher antennas lose less", function () {
    expect(medianPathLossDb("urban", 5_000, F, 10, 5)).to.be.greaterThan(
      medianPathLossDb("suburban", 5_000, F, 10, 5),
    );
    expect(medianPathLossDb("urban", 5_000, F, 30, 5)).to.be.lessThan(
      medianPathLossDb("urban", 5_000, F, 10, 5),
    );
    expect(medianPathLossDb("urban", 5_000, F, 30, 5)).to.be.lessThan(
      medianPathLossDb("urban", 5_000, F, 30, 2),
    );
  });

  it("rural is Petäjäjärvi et al. 2015 at 868 MHz: 128.95 dB at 1 km, 23.2 dB per decade", function () {
    near(medianPathLossDb("rural", 1_000, 868_000_000, 24, 2), 128.95, 1e-9);
    near(medianPathLossDb("rural", 10_000, 868_000_000, 24, 2), 128.95 + 23.2, 1e-9);
    // the carrier shift is the free-space frequency term
    near(medianPathLossDb("rural", 1_000, F, 24, 2) - 128.95, 20 * Math.log10(F / 868e6), 1e-9);
    expect(sigmaDb("rural")).to.equal(RURAL_MODEL.sigmaDb);
    expect(sigmaDb("urban")).to.equal(URBAN_SIGMA_DB);
  });

  it("receiver sensitivity: noise floor (6 dB NF) + LoRa demodulation floor; -127 dBm at SF8/125 kHz", function () {
    near(sensitivityDbm(8, 125_000), -174 + 10 * Math.log10(125_000) + 6 - 10, 1e-9);
    near(sensitivityDbm(8, 125_000), -127.03, 0.01);
    expect(sensitivityDbm(12, 125_000)).to.be.lessThan(sensitivityDbm(7, 125_000));
  });

  it("range search: the median loss at the returned range meets the budget plus 3.5 sigma; capped by the horizon", function () {
    const budget = 130; // range inside the radio horizon (39 km for 10 m and 40 m antennas)
    const r = maxRangeM("urban", budget, F, 10, 40);
    expect(r).to.be.lessThan(radioHorizonM(10, 40));
    expect(medianPathLossDb("urban", r * 0.999, F, 10, 40)).to.be.at.most(budget + 3.5 * URBAN_SIGMA_DB);
    expect(medianPathLossDb("urban", r * 1.01, F, 10, 40)).to.be.greaterThan(budget + 3.5 * URBAN_SIGMA_DB);
    expect(maxRangeM("rural", 400, F, 4, 4)).to.equal(radioHorizonM(4, 4));
    near(radioHorizonM(25, 25), 41_200, 1);
  });

  it("shadowing is N(0, sigma), the same both ways, fixed per seed", function () {
    const samples: number[] = [];
    for (let a = 0; a < 300; a++) for (let b = a + 1; b < a + 60; b++) samples.push(linkShadowDb(7, a, b, 8));
    const n = samples.length;
    const mean = samples.reduce((s, x) => s + x, 0) / n;
    const sd = Math.sqrt(samples.reduce((s, x) => s + (x - mean) ** 2, 0) / n);
    near(mean, 0, 0.15);
    near(sd, 8, 0.2);
    const within = (k: number) => samples.filter((x) => Math.abs(x) < k * 8).length / n;
    near(within(1), 0.6827, 0.01);
    near(within(2), 0.9545, 0.006);
    expect(linkShadowDb(7, 3, 9, 8)).to.equal(linkShadowDb(7, 9, 3, 8));
    expect(linkShadowDb(7, 3, 9, 8)).to.not.equal(linkShadowDb(8, 3, 9, 8));
  });

  it("a link is as bad as its worse end", function () {
    expect(linkEnvironment("rural", "urban")).to.equal("urban");
    expect(linkEnvironment("suburban", "rural")).to.equal("suburban");
    expect(linkEnvironment("rural", "rural")).to.equal("rural");
  });
});
