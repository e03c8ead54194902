/** Entry point of `npm run oracle` (tsx oracle/src/cli/run.ts). */
import { main } from "./main.js";

// node:sqlite prints an ExperimentalWarning on load; operators need not see it on every command.
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (w.name !== "ExperimentalWarning") process.stderr.write(`${w.name}: ${w.message}\n`);
});
await main();
