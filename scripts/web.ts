/**
 * `npm run web`: the web app against the demo's chain and oracles, with one command. Deploys the
 * suite on the in-process chain, onboards a fleet, takes epoch 0 through three oracles to a live
 * root (scripts/demo/web.ts), and serves the app from oracle 0 until Ctrl-C. Then open the printed
 * URL in a browser with a wallet: add the chain (its JSON-RPC URL and id) and import one of
 * Hardhat's default accounts (#4-#7 own the devices). Env: HEXMESH_WEB_RPC_PORT (default 8545;
 * 0 = any free port).
 */
import { network } from "hardhat";

import { startWebStack } from "./demo/web.js";

const rpcPort = Number(process.env.HEXMESH_WEB_RPC_PORT ?? 8545);
const connection = await network.create();
const stack = await startWebStack(connection, { rpcPort });
const owners = (await connection.ethers.getSigners()).slice(4, 8).map((s) => s.address);
console.log(`Hexmesh web app: ${stack.appUrl}`);
console.log(`  chain ${stack.suite.chainId} JSON-RPC ${stack.rpc.url} (Hardhat's default accounts)`);
console.log(`  oracles ${stack.oracles.urls.join(", ")}; epoch 0 is posted and live`);
console.log(`  device owners (accounts #4-#7): ${owners.join(", ")}`);
console.log(
  "  they serve storage and compute epochs too (none posted yet): the owner page shows all three kinds",
);
if (process.env.HEXMESH_WEB_ONCE === "1") {
  await stack.stop();
  process.exit(0);
}
console.log("serving until Ctrl-C");
process.on("SIGINT", () => {
  void stack.stop().then(() => process.exit(0));
});
await new Promise(() => {});
