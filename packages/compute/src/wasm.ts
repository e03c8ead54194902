/**
 * The part of the WebAssembly JavaScript API the runner uses. The project's TypeScript lib set has
 * no DOM/WebAssembly typings (packages/protocol's keccak does the same), so they are declared here.
 */

/** A compiled module (opaque here; structured-cloneable to a worker). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

export interface WasmDescriptor {
  module?: string;
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmApi {
  Module: {
    new (bytes: Uint8Array): WasmModule;
    imports(m: WasmModule): Required<WasmDescriptor>[];
    exports(m: WasmModule): WasmDescriptor[];
  };
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  Instance: new (module: WasmModule, imports: object) => WasmInstance;
}

/** The runtime's WebAssembly object (every Node the project supports has it). */
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The export the metered program counts its ticks in (meter.ts), read by the worker after the job exits. */
export const TICKS_EXPORT = "hexmesh_ticks";
