import { readFileSync } from "node:fs";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  type CommonArgs,
  formatMesh,
  openSuite,
  requireBalance,
  requireNotPaused,
  sendOrDryRun,
  signPermit,
  TaskError,
} from "./lib/common.js";

/** The file an owner gets from the maker: the attestation plus the device's proof of possession. */
interface OnboardFile {
  req: {
    key: { keyType: number; x: string; y: string };
    deviceClass: number;
    makerId: number;
    owner: string;
    makerDeadline: string | number;
    deviceDeadline: string | number;
  };
  makerSignature: string;
  deviceSignature: string;
}

function readOnboardFile(file: string): OnboardFile {
  let json: OnboardFile;
  try {
    json = JSON.parse(readFileSync(file, "utf8")) as OnboardFile;
  } catch (e) {
    throw new TaskError(`cannot read onboarding file ${file}: ${(e as Error).message}`);
  }
  const r = json?.req;
  if (
    r?.key === undefined ||
    typeof json.makerSignature !== "string" ||
    typeof json.deviceSignature !== "string" ||
    r.owner === undefined ||
    r.deviceClass === undefined ||
    r.makerId === undefined
  ) {
    throw new TaskError(
      `onboarding file ${file} must hold {req: {key, deviceClass, makerId, owner, makerDeadline, deviceDeadline}, makerSignature, deviceSignature}`,
    );
  }
  return json;
}

/** Onboards a device; the class's onboarding fee is burned from the signer through a permit, one tx. */
export default async function onboard(args: CommonArgs & { file: string }, hre: HardhatRuntimeEnvironment) {
  if (args.file === "") throw new TaskError("--file <onboarding.json> is required");
  const suite = await openSuite(hre, args);
  const f = readOnboardFile(args.file);
  await requireNotPaused(suite.registry, "device registry");
  const cls = await suite.registry.deviceClassInfo(f.req.deviceClass);
  if (!cls.enabled) throw new TaskError(`device class ${f.req.deviceClass} is not enabled on this registry`);
  const fee = cls.onboardingFee;
  await requireBalance(suite, suite.signer.address, fee, `the class ${f.req.deviceClass} onboarding fee`);
  const req = {
    key: f.req.key,
    deviceClass: f.req.deviceClass,
    makerId: f.req.makerId,
    owner: f.req.owner,
    makerDeadline: BigInt(f.req.makerDeadline),
    deviceDeadline: BigInt(f.req.deviceDeadline),
  };
  const permit = await signPermit(suite, await suite.registry.getAddress(), fee);
  suite.log(`onboarding a class ${req.deviceClass} device for ${req.owner}; fee ${formatMesh(fee)} (burned)`);
  const result = await sendOrDryRun(
    suite,
    suite.registry,
    "onboardWithPermit",
    [req, f.makerSignature, f.deviceSignature, permit],
    args.dryRun,
  );
  if (result.dryRun) return result;
  const deviceId = await suite.registry.lastDeviceId();
  suite.log(`device ${deviceId} onboarded`);
  return { ...result, deviceId };
}
