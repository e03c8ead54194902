/** Entry point of the `hexmesh-oracle` bin (bin/hexmesh-oracle.js imports the compiled file). */
import { main } from "./main.js";

// node:sqlite prints an ExperimentalWarning on load; operators need not see it on every command.
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (w.name !== "ExperimentalWarning") process.stderr.write(`${w.name}: ${w.message}\n`);
});
await main();
