/**
 * hexmesh-hotspot: the hotspot's command line.
 *
 *   keygen --out FILE [--curve secp256k1|p256] [--pem]   make a device key (PEM: P-256 secure-element stand-in)
 *   identity --key FILE                                   what a maker attests (JSON)
 *   attest --identity FILE --chain-id N --registry ADDR --maker-id N --device-class N
 *                                                         the maker signs (key in HEXMESH_MAKER_KEY)
 *   onboarding --key FILE --attestation FILE --owner ADDR the file `npx hardhat hexmesh onboard --file` takes
 *   run --config FILE                                     the agent service, until SIGINT/SIGTERM
 *   status --queue FILE                                   queued, accepted, refused reports
 *
 * Results are JSON on stdout; the service logs one JSON line per event on stdout.
 */
import { readFileSync, writeFileSync } from "node:fs";

import { Command, InvalidArgumentError, Option } from "commander";

import { HotspotConfigError, loadAgentConfig } from "./config.js";
import { generateDeviceKey, identityOf, KeyFileError, loadDeviceKey, p256Pem, writeKeyFile } from "./key.js";
import { attestDevice, OnboardingError, onboardingFile, type MakerAttestation } from "./onboarding.js";
import { ReportQueue } from "./queue.js";
import { startAgent } from "./service.js";

const print = (o: unknown) => console.log(JSON.stringify(o, null, 2));

function intArg(v: string): number {
  if (!/^[0-9]{1,10}$/.test(v)) throw new InvalidArgumentError("must be a non-negative integer");
  return Number(v);
}

function readJson<T>(file: string, what: string): T {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch (e) {
    throw new OnboardingError(`cannot read the ${what} ${file}: ${(e as Error).message}`);
  }
}

/** A deadline: --deadline (Unix seconds) or now + --valid-days. */
function deadlineOf(o: { deadline?: number; validDays: number }): bigint {
  if (o.deadline !== undefined) return BigInt(o.deadline);
  return BigInt(Math.floor(Date.now() / 1000) + o.validDays * 86_400);
}

export function program(): Command {
  const p = new Command("hexmesh-hotspot").description(
    "Hexmesh hotspot agent: device key, onboarding, beacons and witness reports",
  );

  p.command("keygen")
    .description("create a device key file (refuses to overwrite one)")
    .requiredOption("--out <file>", "where to write the key (mode 0600)")
    .addOption(new Option("--curve <curve>", "key curve").choices(["secp256k1", "p256"]).default("secp256k1"))
    .option("--pem", "write a P-256 key as PEM (PKCS#8), the secure-element stand-in")
    .action((o: { out: string; curve: "secp256k1" | "p256"; pem?: boolean }) => {
      if (o.pem === true && o.curve !== "p256") throw new KeyFileError("--pem needs --curve p256");
      const key = generateDeviceKey(o.curve);
      if (o.pem === true) writeFileSync(o.out, p256Pem(key), { mode: 0o600, flag: "wx" });
      else writeKeyFile(o.out, key);
      print(identityOf(key));
    });

  p.command("identity")
    .description("print what a maker attests: the registry key (keyType, x, y), its keyId, the report key id")
    .requiredOption("--key <file>", "device key file or P-256 PEM")
    .action((o: { key: string }) => print(identityOf(loadDeviceKey(o.key))));

  p.command("attest")
    .description("maker: sign a DeviceAttestation of a device identity (maker key in HEXMESH_MAKER_KEY)")
    .requiredOption("--identity <file>", "the device's `identity` output")
    .requiredOption("--chain-id <n>", "chain id", intArg)
    .requiredOption("--registry <address>", "DeviceRegistry address")
    .requiredOption("--maker-id <n>", "the maker's id in the registry", intArg)
    .requiredOption("--device-class <n>", "device class", intArg)
    .option("--valid-days <n>", "attestation valid this many days from now", intArg, 365)
    .option("--deadline <unix>", "explicit deadline, Unix seconds (chain time)", intArg)
    .action(
      async (o: {
        identity: string;
        chainId: number;
        registry: string;
        makerId: number;
        deviceClass: number;
        validDays: number;
        deadline?: number;
      }) => {
        const makerKey = process.env.HEXMESH_MAKER_KEY;
        if (makerKey === undefined || makerKey === "")
          throw new OnboardingError("set HEXMESH_MAKER_KEY to the maker's approved signing key");
        print(
          await attestDevice({
            makerKey,
            identity: readJson(o.identity, "identity"),
            chainId: BigInt(o.chainId),
            registry: o.registry,
            makerId: o.makerId,
            deviceClass: o.deviceClass,
            deadline: deadlineOf(o),
          }),
        );
      },
    );

  p.command("onboarding")
    .description("sign the device's proof of possession for its owner: the `hexmesh onboard --file` JSON")
    .requiredOption("--key <file>", "device key file or P-256 PEM")
    .requiredOption("--attestation <file>", "the maker's `attest` output")
    .requiredOption("--owner <address>", "the first owner")
    .option("--valid-days <n>", "valid this many days from now", intArg, 30)
    .option("--deadline <unix>", "explicit deadline, Unix seconds (chain time)", intArg)
    .action(
      (o: { key: string; attestation: string; owner: string; validDays: number; deadline?: number }) => {
        const att = readJson<MakerAttestation>(o.attestation, "attestation");
        print(onboardingFile(loadDeviceKey(o.key), att, o.owner, deadlineOf(o)));
      },
    );

  p.command("run")
    .description("run the agent: beacon, witness, submit, until SIGINT/SIGTERM")
    .requiredOption("-c, --config <file>", "agent configuration (JSON)")
    .action(async (o: { config: string }) => {
      const cfg = loadAgentConfig(o.config);
      const log = (event: string, fields: Record<string, unknown> = {}) =>
        console.log(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));
      const running = await startAgent(cfg, { log });
      const stop = async (signal: string) => {
        log("stopping", { signal });
        await running.stop();
        process.exit(0);
      };
      process.once("SIGINT", () => void stop("SIGINT"));
      process.once("SIGTERM", () => void stop("SIGTERM"));
    });

  p.command("status")
    .description("queue counts and the latest refusals")
    .requiredOption("--queue <file>", "the agent's queue file")
    .action((o: { queue: string }) => {
      const q = new ReportQueue(o.queue);
      try {
        print({ ...q.counts(), beaconWindow: q.getState("beacon_window") ?? null, refused: q.refused(20) });
      } finally {
        q.close();
      }
    });
  return p;
}

/** Runs the CLI; a bad argument, file or configuration prints one line and exits 2. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (e) {
    const known =
      e instanceof HotspotConfigError || e instanceof KeyFileError || e instanceof OnboardingError;
    process.stderr.write(`hexmesh-hotspot: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(known ? 2 : 1);
  }
}

// node:sqlite prints an ExperimentalWarning on load; operators need not see it on every command.
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (w.name !== "ExperimentalWarning") process.stderr.write(`${w.name}: ${w.message}\n`);
});
await main();
