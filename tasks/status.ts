import { getAddress, isAddress } from "ethers";
import { cellToLatLng, getResolution, isValidCell } from "h3-js";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  formatDeviceId,
  formatDuration,
  formatMesh,
  openSuite,
  parseDeviceId,
  TaskError,
  type CommonArgs,
} from "./lib/common.js";
import { pendingRequests } from "./lib/requests.js";

const STATUS = ["none", "active", "suspended", "retired"] as const;
const KEY_TYPE = ["secp256k1", "P-256"] as const;

/** An account's MESH, stake, requests, rewards and bonded devices; or a device's record. */
export default async function status(
  args: CommonArgs & { address: string; device: string },
  hre: HardhatRuntimeEnvironment,
) {
  const suite = await openSuite(hre, args);
  const out: string[] = [];
  let result: Record<string, unknown>;
  if (args.device !== "") {
    const id = parseDeviceId(args.device);
    if (Number(await suite.registry.statusOf(id)) === 0) {
      throw new TaskError(`device ${formatDeviceId(id)} does not exist on chain ${suite.chainId}`);
    }
    const info = await suite.registry.deviceInfo(id);
    const cellHex = info.cell.toString(16);
    const located = info.cell !== 0n && isValidCell(cellHex);
    result = {
      device: id,
      owner: info.owner,
      keyType: KEY_TYPE[Number(info.keyType)],
      keyId: info.keyId,
      keyX: info.keyX,
      keyY: info.keyY,
      deviceClass: Number(info.deviceClass),
      makerId: Number(info.makerId),
      status: STATUS[Number(info.status)],
      suspensionReason: Number(info.suspensionReason),
      cell: located ? cellHex : null,
      latLng: located ? cellToLatLng(cellHex) : null,
      resolution: located ? getResolution(cellHex) : null,
      gainDbi: Number(info.gain) / 10,
      elevation: Number(info.elevation),
      assertCount: Number(info.assertCount),
    };
    // The id is the key id: show the key itself (the device's address for secp256k1).
    const key =
      Number(info.keyType) === 0 ? getAddress("0x" + info.keyX.slice(26)) : `(${info.keyX}, ${info.keyY})`;
    out.push(
      `device ${formatDeviceId(id)}: ${result.status}, owner ${info.owner}, ${result.keyType} key ${key}`,
    );
    out.push(
      `  class ${result.deviceClass}, maker ${result.makerId}${Number(info.status) === 2 ? `, suspended (reason ${result.suspensionReason})` : ""}`,
    );
    out.push(
      located
        ? `  location ${cellHex} (res ${result.resolution}, ${(result.latLng as number[]).map((x) => x.toFixed(6)).join(", ")}), gain ${result.gainDbi} dBi, elevation ${result.elevation} m, ${result.assertCount} assert(s)`
        : "  location not asserted",
    );
  } else {
    const who = args.address === "" ? suite.signer.address : args.address;
    if (!isAddress(who)) throw new TaskError(`--address must be an address, got "${who}"`);
    const account = getAddress(who);
    const now = BigInt((await suite.ethers.provider.getBlock("latest"))!.timestamp);
    const [balance, staked, pending, earned, devices, bonded, bond] = await Promise.all([
      suite.token.balanceOf(account),
      suite.vault.activeStakeOf(account),
      suite.vault.pendingUnstakeOf(account),
      suite.vault.earned(account),
      suite.registry.balanceOf(account),
      suite.vault.bondedDeviceCount(account),
      suite.vault.minStakePerDevice(),
    ]);
    const requests = await pendingRequests(suite, account);
    result = {
      account,
      balance,
      staked,
      pending,
      earned,
      devices,
      bonded,
      minStakePerDevice: bond,
      requests,
    };
    out.push(`account ${account} on chain ${suite.chainId}`);
    out.push(`  balance          ${formatMesh(balance)}`);
    out.push(`  staked           ${formatMesh(staked)}`);
    out.push(`  unstaking        ${formatMesh(pending)}`);
    for (const r of requests) {
      out.push(
        `    request ${r.id}: ${formatMesh(r.amount)}, ${r.unlockTime <= now ? "withdrawable now" : `withdrawable in ${formatDuration(r.unlockTime - now)}`}`,
      );
    }
    out.push(`  staking rewards  ${formatMesh(earned)} claimable`);
    out.push(`  devices          ${devices} owned, ${bonded} bonded (bond ${formatMesh(bond)} per device)`);
  }
  for (const line of out) suite.log(line);
  return result;
}
