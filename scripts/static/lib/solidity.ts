/**
 * Loads Solidity sources into one Slang compilation unit (imports followed, `@openzeppelin/...`
 * resolved from node_modules) and turns every file's concrete syntax tree into plain JS nodes
 * carrying what the checks need: kind, edge label, code position and, for identifiers, the
 * definitions Slang's binding graph resolves them to.
 *
 * Plain nodes rather than live Slang cursors: the checks walk the same trees many times (function
 * summaries, loops, events) and a JS object walk is far cheaper than a call into WebAssembly per step.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";

import type { BindingGraph } from "@nomicfoundation/slang/bindings";
import { CompilationBuilder } from "@nomicfoundation/slang/compilation";
import {
  NonterminalKind,
  TerminalKind,
  TerminalKindExtensions,
  type Cursor,
  type EdgeLabel,
} from "@nomicfoundation/slang/cst";

/** The Solidity version the project compiles with (hardhat.config.ts pins solc 0.8.28). */
export const LANGUAGE_VERSION = "0.8.28";

export const NK = NonterminalKind;
export const TK = TerminalKind;

/** What an identifier resolves to: the definiens node (e.g. the whole FunctionDefinition). */
export interface Resolution {
  /** `file#offset#kind` of the definiens; look it up with `Program.definition`. */
  key: string;
  kind: string;
  /** A compiler built-in (`msg`, `.push`, `.call`, `.length` of arrays, ...). */
  builtin: boolean;
}

export interface SolNode {
  kind: NonterminalKind | TerminalKind;
  label: EdgeLabel | undefined;
  terminal: boolean;
  /** Terminal text ("" for nonterminals; use `code()`). */
  text: string;
  children: SolNode[];
  parent: SolNode | undefined;
  file: SourceFile;
  /** UTF-16 offsets of the code, without leading/trailing trivia (comments, whitespace). */
  start: number;
  end: number;
  /** 1-based line of the first code token. */
  line: number;
  /** For identifier terminals that reference something: the resolved definitions. */
  refs: Resolution[] | undefined;
}

export interface SourceFile {
  /** Absolute path (the compilation unit's file id). */
  id: string;
  /** Path relative to the project root, for messages. */
  display: string;
  source: string;
  root: SolNode;
  parseErrors: string[];
}

export interface Program {
  root: string;
  files: SourceFile[];
  /** Imports that resolved to no file ("importer: path"): bindings through them are missing. */
  unresolvedImports: string[];
  /** The definiens node of a resolution, when it lies in a user file of the unit. */
  definition(res: Resolution): SolNode | undefined;
}

function nodeModulesPath(root: string, importPath: string): string | undefined {
  // Walk up like Node does, so a worktree whose node_modules is a symlink still resolves.
  let dir = root;
  for (;;) {
    const candidate = path.join(dir, "node_modules", importPath);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function importLiteral(cursor: Cursor): string {
  const raw = cursor.node.unparse().trim();
  return raw.slice(1, -1);
}

/** Parses `files` (absolute paths) and everything they import into one compilation unit. */
export async function loadProgram(root: string, files: string[]): Promise<Program> {
  const unresolvedImports: string[] = [];
  const builder = CompilationBuilder.create({
    languageVersion: LANGUAGE_VERSION,
    readFile: async (id) => {
      try {
        return await readFile(id, "utf8");
      } catch {
        return undefined;
      }
    },
    resolveImport: async (sourceFileId, importPath) => {
      const spec = importLiteral(importPath);
      let resolved: string | undefined;
      if (spec.startsWith("./") || spec.startsWith("../")) {
        resolved = path.resolve(path.dirname(sourceFileId), spec);
      } else {
        // Project-root-relative imports (`contracts/...`) first, then packages.
        const local = path.join(root, spec);
        resolved = existsSync(local) ? local : nodeModulesPath(root, spec);
      }
      if (!resolved || !existsSync(resolved)) {
        unresolvedImports.push(`${path.relative(root, sourceFileId)}: ${spec}`);
        return undefined;
      }
      return resolved;
    },
  });
  for (const file of files) await builder.addFile(file);
  const unit = builder.build();
  const graph = unit.bindingGraph;

  const sources = new Map<string, string>();
  for (const id of unit.files().map((f) => f.id)) sources.set(id, await readFile(id, "utf8"));

  const definitions = new Map<string, SolNode>();
  const out: SourceFile[] = [];
  for (const file of unit.files()) {
    const sf: SourceFile = {
      id: file.id,
      display: path.relative(root, file.id).split(path.sep).join("/"),
      source: sources.get(file.id) ?? "",
      root: undefined as unknown as SolNode,
      parseErrors: file
        .errors()
        .map((e) => `${e.textRange.start.line + 1}:${e.textRange.start.column + 1}: ${e.message}`),
    };
    sf.root = buildTree(file.createTreeCursor(), sf, graph, definitions);
    out.push(sf);
  }
  return {
    root,
    files: out,
    unresolvedImports,
    definition: (res) => (res.builtin ? undefined : definitions.get(res.key)),
  };
}

function defKey(fileId: string, offset: number, kind: string): string {
  return `${fileId}#${offset}#${kind}`;
}

function resolve(graph: BindingGraph, cursor: Cursor): Resolution[] | undefined {
  const ref = graph.referenceAt(cursor);
  if (!ref) return undefined;
  return ref.definitions().map((def) => {
    const loc = def.definiensLocation;
    if (loc.isUserFileLocation()) {
      const kind = loc.cursor.node.kind as string;
      return { key: defKey(loc.fileId, loc.cursor.textOffset.utf16, kind), kind, builtin: false };
    }
    return { key: "builtin", kind: "builtin", builtin: true };
  });
}

function buildTree(
  cursor: Cursor,
  file: SourceFile,
  graph: BindingGraph,
  definitions: Map<string, SolNode>,
): SolNode {
  const stack: SolNode[] = [];
  let root: SolNode | undefined;
  // Pre-order walk; `depth` tells where each node hangs.
  do {
    const node = cursor.node;
    const depth = cursor.depth;
    const range = cursor.textRange;
    const terminal = node.isTerminalNode();
    if (terminal && TerminalKindExtensions.isTrivia(node.kind)) continue;
    while (stack.length > depth) stack.pop();
    const parent = stack[stack.length - 1];
    const sol: SolNode = {
      kind: node.kind,
      label: depth === 0 ? undefined : cursor.label,
      terminal,
      text: terminal ? node.unparse() : "",
      children: [],
      parent,
      file,
      start: range.start.utf16,
      end: range.end.utf16,
      line: range.start.line + 1,
      refs: undefined,
    };
    if (terminal) {
      if (TerminalKindExtensions.isIdentifier(node.kind)) sol.refs = resolve(graph, cursor);
    } else {
      definitions.set(defKey(file.id, range.start.utf16, node.kind), sol);
    }
    if (parent) parent.children.push(sol);
    else root = sol;
    stack.push(sol);
  } while (cursor.goToNext());
  if (!root) throw new Error(`empty syntax tree: ${file.id}`);
  trimToCode(root);
  return root;
}

/** Narrows every nonterminal's range (and line) to its first and last code token. */
function trimToCode(node: SolNode): void {
  if (node.terminal) return;
  for (const child of node.children) trimToCode(child);
  const first = node.children[0];
  const last = node.children[node.children.length - 1];
  if (first && last) {
    node.start = first.start;
    node.end = last.end;
    node.line = first.line;
  }
}

// ---------------------------------------------------------------------------------------------
// Small tree helpers shared by the checks.

export function child(node: SolNode | undefined, label: EdgeLabel | string): SolNode | undefined {
  return node?.children.find((c) => c.label === label);
}

export function childrenWith(node: SolNode | undefined, label: EdgeLabel | string): SolNode[] {
  return node ? node.children.filter((c) => c.label === label) : [];
}

/** Unwraps `Variant` edges (Expression -> AssignmentExpression, Statement -> IfStatement, ...). */
export function variant(node: SolNode | undefined): SolNode | undefined {
  let n = node;
  while (n && !n.terminal && n.children.length === 1 && n.children[0]!.label === "Variant") {
    n = n.children[0];
  }
  return n;
}

/** The source text of a node, whitespace collapsed, for messages. */
export function code(node: SolNode, max = 90): string {
  const text = node.file.source.slice(node.start, node.end).replace(/\s+/g, " ").trim();
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

export function* descendants(node: SolNode): Generator<SolNode> {
  for (const c of node.children) {
    yield c;
    yield* descendants(c);
  }
}

export function hasTerminal(node: SolNode | undefined, kind: TerminalKind): boolean {
  if (!node) return false;
  if (node.terminal) return node.kind === kind;
  return node.children.some((c) => hasTerminal(c, kind));
}
