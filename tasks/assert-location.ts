import { getResolution, isValidCell, latLngToCell } from "h3-js";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  formatDeviceId,
  formatMesh,
  openSuite,
  parseDeviceId,
  requireBalance,
  requireNotPaused,
  sendOrDryRun,
  TaskError,
  type CommonArgs,
} from "./lib/common.js";

interface AssertArgs extends CommonArgs {
  device: string;
  cell: string;
  lat: string;
  lng: string;
  gain: string;
  elevation: string;
}

/**
 * Degrees from `--lat` / `--lng`: signed decimal (`37.75`, `-122.47`), or unsigned with the hemisphere
 * (`33.87S`, `122.47W`). Hardhat's command line takes any value that starts with `-` for an option
 * ("Options cannot be grouped together"), so southern and western coordinates are written with their
 * hemisphere letter there; signed values still work where tasks are run from code. NaN if malformed.
 */
export function parseDegrees(value: string, axis: "lat" | "lng"): number {
  const m = /^\s*([+-]?\d+(?:\.\d+)?)\s*([NSEW])?\s*$/i.exec(value);
  if (m === null) return NaN;
  const degrees = Number(m[1]);
  const hemisphere = m[2]?.toUpperCase();
  if (hemisphere === undefined) return degrees;
  const [plus, minus] = axis === "lat" ? ["N", "S"] : ["E", "W"];
  if (degrees < 0 || (hemisphere !== plus && hemisphere !== minus)) return NaN;
  return hemisphere === minus ? -degrees : degrees;
}

/** The H3 cell from --cell (hex) or from --lat/--lng at the registry's resolution. */
function resolveCell(args: AssertArgs, resolution: number): string {
  if (args.cell !== "") {
    const hex = args.cell.toLowerCase().replace(/^0x/, "");
    if (!isValidCell(hex)) throw new TaskError(`--cell ${args.cell} is not a valid H3 cell`);
    if (getResolution(hex) !== resolution) {
      throw new TaskError(
        `--cell ${args.cell} has resolution ${getResolution(hex)}; the registry takes resolution ${resolution}`,
      );
    }
    return hex;
  }
  const lat = parseDegrees(args.lat, "lat");
  const lng = parseDegrees(args.lng, "lng");
  if (!(Math.abs(lat) <= 90) || !(Math.abs(lng) <= 180)) {
    throw new TaskError(
      "give --cell <h3 hex> or --lat <deg> and --lng <deg> (latitude in [-90, 90], longitude in [-180, 180]; " +
        "south and west as 33.87S and 122.47W: on the command line a value starting with '-' is taken for an option)",
    );
  }
  return latLngToCell(lat, lng, resolution);
}

/** Asserts a device's location; a paid assert (after the first) gets an approval first if needed. */
export default async function assertLocation(args: AssertArgs, hre: HardhatRuntimeEnvironment) {
  const suite = await openSuite(hre, args);
  const deviceId = parseDeviceId(args.device);
  const shown = formatDeviceId(deviceId);
  const resolution = Number(await suite.registry.CELL_RESOLUTION());
  const cell = resolveCell(args, resolution);
  const gainDbi = Number(args.gain);
  const [minGain, maxGain] = [
    Number(await suite.registry.MIN_GAIN()),
    Number(await suite.registry.MAX_GAIN()),
  ];
  const gain = Math.round(gainDbi * 10);
  if (!Number.isFinite(gainDbi) || gain < minGain || gain > maxGain) {
    throw new TaskError(
      `--gain must be in dBi between ${minGain / 10} and ${maxGain / 10}, got "${args.gain}"`,
    );
  }
  const elevation = Number(args.elevation);
  if (!Number.isInteger(elevation))
    throw new TaskError(`--elevation must be whole metres, got "${args.elevation}"`);
  await requireNotPaused(suite.registry, "device registry");
  if (Number(await suite.registry.statusOf(deviceId)) === 0) {
    throw new TaskError(`device ${shown} does not exist on chain ${suite.chainId}`);
  }
  const info = await suite.registry.deviceInfo(deviceId);
  if (info.owner !== suite.signer.address) {
    throw new TaskError(`device ${shown} belongs to ${info.owner}, not to ${suite.signer.address}`);
  }
  const fee = info.assertCount === 0n ? 0n : await suite.registry.assertFee();
  if (fee > 0n) {
    await requireBalance(suite, suite.signer.address, fee, "the location assert fee");
    const registry = await suite.registry.getAddress();
    if ((await suite.token.allowance(suite.signer.address, registry)) < fee) {
      suite.log(`approving the registry for the ${formatMesh(fee)} assert fee`);
      await sendOrDryRun(suite, suite.token, "approve", [registry, fee], args.dryRun);
      if (args.dryRun) {
        suite.log("(the assert itself cannot be estimated before that approval; it is shown unestimated)");
        const data = suite.registry.interface.encodeFunctionData("assertLocation", [
          deviceId,
          BigInt("0x" + cell),
          gain,
          elevation,
        ]);
        suite.log(
          `  then  assertLocation(deviceId=${shown}, cell=0x${cell}, gain=${gain}, elevation=${elevation})\n  data  ${data}`,
        );
        return { dryRun: true, cell, gain, elevation, fee, data };
      }
    }
  }
  suite.log(
    `asserting device ${shown} at ${cell}, gain ${gain / 10} dBi, elevation ${elevation} m, fee ${formatMesh(fee)}`,
  );
  return {
    ...(await sendOrDryRun(
      suite,
      suite.registry,
      "assertLocation",
      [deviceId, BigInt("0x" + cell), gain, elevation],
      args.dryRun,
    )),
    cell,
    fee,
  };
}
