/**
 * Signing keys, as the other Hexmesh CLIs take them: a 0x-prefixed private key in an environment
 * variable (HEXMESH_PROVIDER_KEY for the agent, HEXMESH_CLIENT_KEY for the client commands), or an
 * encrypted JSON keystore (ethers/geth format) named by HEXMESH_KEYSTORE with its password in
 * HEXMESH_KEYSTORE_PASSWORD. Never a command-line argument (it would show in `ps`).
 */
import { readFile } from "node:fs/promises";

import { Wallet, type Provider } from "ethers";

import { UsageError } from "./errors.js";

export async function loadSigner(
  envName: "HEXMESH_PROVIDER_KEY" | "HEXMESH_CLIENT_KEY",
  provider: Provider,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Wallet> {
  const key = env[envName];
  if (key !== undefined && key !== "") {
    if (!/^0x[0-9a-fA-F]{64}$/.test(key))
      throw new UsageError(`${envName} must be a 0x-prefixed 32-byte private key`);
    return new Wallet(key, provider);
  }
  const keystore = env.HEXMESH_KEYSTORE;
  if (keystore !== undefined && keystore !== "") {
    const password = env.HEXMESH_KEYSTORE_PASSWORD;
    if (password === undefined)
      throw new UsageError("HEXMESH_KEYSTORE is set: set HEXMESH_KEYSTORE_PASSWORD too");
    let json: string;
    try {
      json = await readFile(keystore, "utf8");
    } catch (e) {
      throw new UsageError(`cannot read the keystore ${keystore}: ${(e as Error).message}`);
    }
    try {
      return (await Wallet.fromEncryptedJson(json, password)).connect(provider) as Wallet;
    } catch (e) {
      throw new UsageError(`cannot decrypt the keystore ${keystore}: ${(e as Error).message}`);
    }
  }
  throw new UsageError(`set ${envName} (a private key) or HEXMESH_KEYSTORE and HEXMESH_KEYSTORE_PASSWORD`);
}
