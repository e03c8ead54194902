/**
 * Checks a program before it runs: valid WebAssembly, a WASI command (exports `_start` and
 * `memory`), importing only WASI preview1 functions and its memory as `env.memory`. The memory must
 * be imported so the runner creates it with a maximum, the job's memory limit; a module that defines
 * its own memory could declare any maximum, or none.
 */
import { JobError } from "./errors.js";
import { wasm, type WasmModule } from "./wasm.js";

const WASI_MODULE = "wasi_snapshot_preview1";
const PAGE = 65_536;

export interface CheckedProgram {
  module: WasmModule;
  /** Pages the module's memory import asks for at least. */
  minimumPages: number;
}

export function checkProgram(bytes: Uint8Array, memoryLimitBytes: number): CheckedProgram {
  let module: WasmModule;
  try {
    module = new wasm.Module(bytes);
  } catch (error) {
    throw new JobError("malformed-program", `not a valid WebAssembly module (${(error as Error).message})`);
  }
  const exports = wasm.Module.exports(module);
  if (!exports.some((e) => e.name === "_start" && e.kind === "function"))
    throw new JobError("malformed-program", "no _start function export: not a WASI command");
  for (const imp of wasm.Module.imports(module)) {
    const ok =
      (imp.module === WASI_MODULE && imp.kind === "function") ||
      (imp.module === "env" && imp.name === "memory" && imp.kind === "memory");
    if (!ok)
      throw new JobError(
        "malformed-program",
        `import ${imp.module}.${imp.name} (${imp.kind}) is not allowed`,
      );
  }
  const minimumPages = memoryImportMinimum(bytes);
  if (minimumPages === undefined)
    throw new JobError(
      "malformed-program",
      "the job must import its memory as env.memory (the runner bounds it)",
    );
  if (minimumPages * PAGE > memoryLimitBytes)
    throw new JobError(
      "memory-limit",
      `the job needs ${minimumPages * PAGE} bytes of memory to start, over the limit of ${memoryLimitBytes}`,
    );
  return { module, minimumPages };
}

/**
 * The initial page count of the `env.memory` import, read from the binary's import section (the
 * JavaScript API does not expose import limits). The module has compiled already, so the binary is
 * well formed; undefined when there is no such import.
 */
function memoryImportMinimum(bytes: Uint8Array): number | undefined {
  let pos = 8; // magic and version
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  };
  const name = (): string => {
    const length = leb();
    const text = new TextDecoder().decode(bytes.subarray(pos, pos + length));
    pos += length;
    return text;
  };
  const limits = (): number => {
    const flags = bytes[pos++]!;
    const minimum = leb();
    if (flags & 1) leb();
    return minimum;
  };
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const size = leb();
    const end = pos + size;
    if (id === 2) {
      const count = leb();
      for (let i = 0; i < count; i++) {
        const moduleName = name();
        const field = name();
        const kind = bytes[pos++]!;
        if (kind === 0)
          leb(); // function: type index
        else if (kind === 1) {
          pos++; // table: element type
          limits();
        } else if (kind === 2) {
          const minimum = limits();
          if (moduleName === "env" && field === "memory") return minimum;
        } else if (kind === 3)
          pos += 2; // global: value type, mutability
        else return undefined; // a newer import kind: checkProgram's allow-list refuses it anyway
      }
      return undefined;
    }
    pos = end;
  }
  return undefined;
}
