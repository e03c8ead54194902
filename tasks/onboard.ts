import { readFileSync } from "node:fs";

import { AbiCoder, keccak256 } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  formatDeviceId,
  formatMesh,
  openSuite,
  requireBalance,
  requireNotPaused,
  sendOrDryRun,
  signPermit,
  TaskError,
  type CommonArgs,
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

/** keccak256(abi.encode(uint8 keyType, bytes32 x, bytes32 y)): the registry's key id, and the device's id. */
function keyIdOf(key: OnboardFile["req"]["key"]): string {
  try {
    return keccak256(
      AbiCoder.defaultAbiCoder().encode(["uint8", "bytes32", "bytes32"], [key.keyType, key.x, key.y]),
    );
  } catch (e) {
    throw new TaskError(`the onboarding file's key is malformed: ${(e as Error).message}`);
  }
}

/**
 * Onboards a device; the class's onboarding fee goes from the signer to the registry through a permit,
 * one tx (the registry burns collected fees in batches: `hexmesh burn-fees`).
 */
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
  // The device's id will be its key id: refuse a key registered before (even retired) right here.
  const keyId = keyIdOf(f.req.key);
  const deviceId = BigInt(keyId);
  if ((await suite.registry.deviceIdByKey(keyId)) !== 0n) {
    throw new TaskError(`this device key is already registered, as device ${formatDeviceId(deviceId)}`);
  }
  const permit = await signPermit(suite, await suite.registry.getAddress(), fee);
  suite.log(
    `onboarding a class ${req.deviceClass} device for ${req.owner} as device ${formatDeviceId(deviceId)}; ` +
      `fee ${formatMesh(fee)} (collected by the registry, burned in its next batch)`,
  );
  const result = await sendOrDryRun(
    suite,
    suite.registry,
    "onboardWithPermit",
    [req, f.makerSignature, f.deviceSignature, permit],
    args.dryRun,
  );
  if (result.dryRun) return { ...result, deviceId };
  // Read the id back from the receipt's DeviceOnboarded event, the registry's own word for it.
  const receipt = await suite.ethers.provider.getTransactionReceipt(result.hash!);
  const registry = await suite.registry.getAddress();
  const event = receipt?.logs
    .filter((l) => l.address === registry)
    .map((l) => suite.registry.interface.parseLog(l))
    .find((e) => e?.name === "DeviceOnboarded");
  if (event?.args.deviceId !== deviceId) {
    throw new TaskError(`transaction ${result.hash} did not onboard device ${formatDeviceId(deviceId)}`);
  }
  suite.log(`device ${formatDeviceId(deviceId)} onboarded`);
  return { ...result, deviceId };
}
