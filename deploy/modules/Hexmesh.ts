/**
 * Hardhat Ignition entry point for the whole Hexmesh suite:
 *
 *   hardhat ignition deploy deploy/modules/Hexmesh.ts --network <net> --parameters deploy/parameters/<net>.json
 *
 * The parameters file is read and validated here, when Ignition loads the module, so a bad file (for
 * example a timelock delay not above the unstake cooldown) fails before any transaction is sent. The file
 * comes from the `--parameters` flag (or HEXMESH_PARAMETERS for programmatic runs).
 */
import { buildHexmeshModule, HexmeshParameterError, loadHexmeshParameters } from "../lib/hexmesh.js";

function parametersPath(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--parameters") return argv[i + 1];
    if (arg.startsWith("--parameters=")) return arg.slice("--parameters=".length);
  }
  return process.env.HEXMESH_PARAMETERS;
}

const path = parametersPath(process.argv);
if (path === undefined || !path.endsWith(".json")) {
  throw new HexmeshParameterError(
    "pass the network's file: --parameters deploy/parameters/<network>.json (or set HEXMESH_PARAMETERS)",
  );
}

export default buildHexmeshModule(loadHexmeshParameters(path));
