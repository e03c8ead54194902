/**
 * `hexmesh assert-location --lat/--lng`: the coordinate forms the command line can carry. Hardhat's
 * parser takes any value starting with "-" for an option, so south and west are written with their
 * hemisphere letter there (the outsider test, test/oracle/package.test.ts, runs it so).
 */
import { expect } from "chai";

import { parseDegrees } from "../../tasks/assert-location.js";

describe("tasks: assert-location coordinates", function () {
  it("reads signed decimals and hemisphere letters alike", function () {
    expect(parseDegrees("37.752", "lat")).to.equal(37.752);
    expect(parseDegrees("-122.47", "lng")).to.equal(-122.47);
    expect(parseDegrees("122.47W", "lng")).to.equal(-122.47);
    expect(parseDegrees("122.47w", "lng")).to.equal(-122.47);
    expect(parseDegrees("2.35E", "lng")).to.equal(2.35);
    expect(parseDegrees("33.87S", "lat")).to.equal(-33.87);
    expect(parseDegrees(" 51.5 N ", "lat")).to.equal(51.5);
  });

  it("refuses a hemisphere of the other axis, a sign with a hemisphere, and junk", function () {
    for (const [value, axis] of [
      ["122.47N", "lng"],
      ["33.87W", "lat"],
      ["-122.47W", "lng"],
      ["", "lat"],
      ["1e2", "lat"],
      ["west", "lng"],
    ] as const) {
      expect(parseDegrees(value, axis), `${value} as ${axis}`).to.be.NaN;
    }
  });
});
