/**
 * Deterministic metering of a job: the program is instrumented with binaryen's `log-execution` pass,
 * which calls a logger at every function entry and loop iteration; the logger is then replaced by a
 * function inside the module that adds one to an exported i64 global (`hexmesh_ticks`), so counting
 * costs a wasm call, not a trip to JavaScript. The count depends only on the program and its input
 * (the job is deterministic), never on the machine: the provider agent bills `unitsOfTicks` of it and
 * the compute oracle's re-execution measures the same number (@hexmesh/protocol compute/units.ts).
 * The instrumented module is what runs; the job's spec still names the program as uploaded.
 */
import binaryen from "binaryen";

import { JobError } from "./errors.js";
import { TICKS_EXPORT } from "./wasm.js";

/** The import module the pass's logger is given (replaced inside the module; never imported at run time). */
const LOGGER_MODULE = "hexmesh_meter";

/** `program` with a tick counter exported as TICKS_EXPORT (the program is checked by checkProgram first). */
export function meterProgram(program: Uint8Array): Uint8Array {
  let module: binaryen.Module;
  try {
    module = binaryen.readBinary(program);
  } catch (e) {
    // V8 compiled it, binaryen cannot read it: no runner of this version can meter it, so no provider
    // could have billed it honestly (the same on every oracle: deterministic).
    throw new JobError("malformed-program", `the program cannot be metered: ${(e as Error).message}`);
  }
  try {
    module.setFeatures(binaryen.Features.All);
    for (let i = 0; i < module.getNumExports(); i++)
      if (binaryen.getExportInfo(module.getExportByIndex(i)).name === TICKS_EXPORT)
        throw new JobError("malformed-program", `the program exports ${TICKS_EXPORT}, the runner's meter`);
    binaryen.setPassArgument("log-execution", LOGGER_MODULE);
    try {
      module.runPasses(["log-execution"]);
    } finally {
      binaryen.setPassArgument("log-execution", null);
    }
    let logger: string | undefined;
    for (let i = 0; i < module.getNumFunctions(); i++) {
      const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
      if (info.module === LOGGER_MODULE) logger = info.name;
    }
    if (logger === undefined) return program; // nothing to count in: no functions or loops
    const counter = uniqueGlobalName(module);
    module.addGlobal(counter, binaryen.i64, true, module.i64.const(0n));
    module.removeFunction(logger);
    module.addFunction(
      logger,
      binaryen.createType([binaryen.i32]),
      binaryen.none,
      [],
      module.global.set(
        counter,
        module.i64.add(module.global.get(counter, binaryen.i64), module.i64.const(1n)),
      ),
    );
    module.addGlobalExport(counter, TICKS_EXPORT);
    if (!module.validate()) throw new JobError("malformed-program", "the metered program does not validate");
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

function uniqueGlobalName(module: binaryen.Module): string {
  const taken = new Set<string>();
  for (let i = 0; i < module.getNumGlobals(); i++)
    taken.add(binaryen.getGlobalInfo(module.getGlobalByIndex(i)).name);
  let name = TICKS_EXPORT;
  while (taken.has(name)) name += "_";
  return name;
}
