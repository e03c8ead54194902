/**
 * What the checks know about Solidity code: functions and their attributes, which expressions
 * denote storage, how a call is dispatched (external call, internal/library call, storage array
 * mutation), and per-function summaries (writes state, makes an external call, emits an event)
 * followed through every internal or library function Slang's binding graph resolves, including
 * OpenZeppelin's.
 */
import {
  child,
  childrenWith,
  code,
  descendants,
  hasTerminal,
  NK,
  TK,
  variant,
  type Program,
  type SolNode,
} from "./solidity.js";

export type Visibility = "external" | "public" | "internal" | "private";
export type Mutability = "view" | "pure" | "payable" | "nonpayable";

export interface ParamInfo {
  name: string;
  storage: boolean;
  node: SolNode;
}

export interface FunctionInfo {
  node: SolNode;
  kind: "function" | "constructor" | "modifier" | "fallback" | "receive";
  name: string;
  /** Contract, library or interface name ("" for free functions). */
  containerName: string;
  containerKind: "contract" | "library" | "interface" | "file";
  visibility: Visibility;
  mutability: Mutability;
  params: ParamInfo[];
  /** The body block; undefined for declarations without one. */
  body: SolNode | undefined;
}

/** One observable effect of evaluating code, in evaluation order. */
export interface Effect {
  type: "call" | "write" | "emit";
  /** Where it happens in the function being analysed (an internal call site if `via` is set). */
  node: SolNode;
  /** What it is, in source terms: the call, or the storage written. */
  what: string;
  /** For effects inside a called internal function: that function's name and its own effect. */
  via?: { callee: string; inner: Effect };
  /** For writes: the storage written, as seen from the function being analysed. */
  root?: StorageRoot;
}

export interface Summary {
  /** First state write found anywhere in the function (or what it calls). */
  stateWrite: Effect | undefined;
  /** Indexes of `storage` parameters the function writes through. */
  paramWrites: Set<number>;
  /** First external call found anywhere in the function (or what it calls). */
  call: Effect | undefined;
  emits: boolean;
}

const FUNCTION_LIKE: readonly string[] = [
  NK.FunctionDefinition,
  NK.ConstructorDefinition,
  NK.ModifierDefinition,
  NK.FallbackFunctionDefinition,
  NK.ReceiveFunctionDefinition,
];

const CONTAINERS: readonly string[] = [NK.ContractDefinition, NK.LibraryDefinition, NK.InterfaceDefinition];

/** Members of address (and low-level) that transfer control to another account. */
const LOW_LEVEL_CALLS = new Set(["call", "delegatecall", "callcode", "send", "transfer"]);
/**
 * Names treated as external calls when Slang cannot resolve the member (e.g. a call on the result
 * of another call): token moves and the usual wrappers around them.
 */
const EXTERNAL_CALL_NAMES = new Set([
  "safeTransfer",
  "safeTransferFrom",
  "safeIncreaseAllowance",
  "safeDecreaseAllowance",
  "forceApprove",
  "safePermit",
  "transfer",
  "transferFrom",
  "transferAndCall",
  "transferFromAndCall",
  "approveAndCall",
  "sendValue",
  "functionCall",
  "functionCallWithValue",
  "functionDelegateCall",
  "mint",
  "safeMint",
  "burn",
  "burnFrom",
  "permit",
]);
/** Yul builtins that call out (staticcall cannot change state, so it is left out). */
const YUL_CALLS = new Set(["call", "callcode", "delegatecall"]);
const YUL_LOGS = new Set(["log0", "log1", "log2", "log3", "log4"]);

export function isFunctionLike(node: SolNode): boolean {
  return FUNCTION_LIKE.includes(node.kind);
}

export function containerOf(node: SolNode): SolNode | undefined {
  let n = node.parent;
  while (n && !CONTAINERS.includes(n.kind)) n = n.parent;
  return n;
}

function identifierText(node: SolNode | undefined): string {
  if (!node) return "";
  if (node.terminal) return node.text;
  const id = [...descendants(node)].find((d) => d.terminal);
  return id?.text ?? "";
}

function attributes(fn: SolNode): SolNode[] {
  const attrs = fn.children.find((c) => c.label === "Attributes");
  return attrs ? attrs.children.map((item) => variant(item) ?? item) : [];
}

export function functionInfo(fn: SolNode): FunctionInfo {
  const container = containerOf(fn);
  const containerKind: FunctionInfo["containerKind"] = !container
    ? "file"
    : container.kind === NK.LibraryDefinition
      ? "library"
      : container.kind === NK.InterfaceDefinition
        ? "interface"
        : "contract";
  const kind: FunctionInfo["kind"] =
    fn.kind === NK.ConstructorDefinition
      ? "constructor"
      : fn.kind === NK.ModifierDefinition
        ? "modifier"
        : fn.kind === NK.FallbackFunctionDefinition
          ? "fallback"
          : fn.kind === NK.ReceiveFunctionDefinition
            ? "receive"
            : "function";
  const attrKinds = new Set(attributes(fn).map((a) => a.kind as string));
  let visibility: Visibility =
    containerKind === "interface" || kind === "fallback" || kind === "receive"
      ? "external"
      : kind === "constructor"
        ? "public"
        : "internal";
  if (attrKinds.has(TK.ExternalKeyword)) visibility = "external";
  else if (attrKinds.has(TK.PublicKeyword)) visibility = "public";
  else if (attrKinds.has(TK.PrivateKeyword)) visibility = "private";
  else if (attrKinds.has(TK.InternalKeyword)) visibility = "internal";
  const mutability: Mutability = attrKinds.has(TK.ViewKeyword)
    ? "view"
    : attrKinds.has(TK.PureKeyword)
      ? "pure"
      : attrKinds.has(TK.PayableKeyword)
        ? "payable"
        : "nonpayable";
  let name: string = kind;
  if (kind === "function" || kind === "modifier") name = identifierText(child(fn, "Name"));
  const paramList = child(child(fn, "Parameters"), "Parameters");
  const params: ParamInfo[] = childrenWith(paramList, "Item").map((p) => ({
    name: child(p, "Name")?.text ?? "",
    storage: hasTerminal(child(p, "StorageLocation"), TK.StorageKeyword),
    node: p,
  }));
  const bodyEdge = child(fn, "Body");
  const body = bodyEdge && (bodyEdge.kind === NK.Block ? bodyEdge : variant(bodyEdge));
  return {
    node: fn,
    kind,
    name,
    containerName: container ? identifierText(child(container, "Name")) : "",
    containerKind,
    visibility,
    mutability,
    params,
    body: body && body.kind === NK.Block ? body : undefined,
  };
}

export function qualifiedName(info: FunctionInfo): string {
  return info.containerName ? `${info.containerName}.${info.name}` : info.name;
}

// ---------------------------------------------------------------------------------------------

/** Where a storage expression is rooted. */
export type StorageRoot =
  | { kind: "state"; name: string }
  | { kind: "param"; index: number; name: string }
  | undefined;

export type CallTarget =
  | { type: "external"; what: string }
  | { type: "internal"; name: string; defs: SolNode[]; args: (SolNode | undefined)[] }
  | { type: "storage-mutation"; root: StorageRoot }
  | { type: "none" };

export class Analyzer {
  private readonly summaries = new Map<SolNode, Summary>();
  private readonly inProgress = new Set<SolNode>();

  constructor(readonly program: Program) {}

  /** Definiens nodes an identifier terminal resolves to (user code only). */
  defsOf(id: SolNode | undefined): SolNode[] {
    if (!id?.refs) return [];
    const out: SolNode[] = [];
    for (const r of id.refs) {
      const d = this.program.definition(r);
      if (d) out.push(d);
    }
    return out;
  }

  private isBuiltinOrUnresolved(id: SolNode): boolean {
    return !id.refs || id.refs.length === 0 || id.refs.every((r) => r.builtin);
  }

  /** The state variable, storage parameter or storage local an lvalue/receiver is rooted in. */
  storageRoot(expr: SolNode | undefined, fn: FunctionInfo, seen = new Set<SolNode>()): StorageRoot {
    const n = variant(expr);
    if (!n) return undefined;
    switch (n.kind) {
      case NK.MemberAccessExpression:
      case NK.IndexAccessExpression:
        return this.storageRoot(child(n, "Operand"), fn, seen);
      case NK.TupleExpression: {
        const items = childrenWith(child(n, "Items"), "Item");
        return items.length === 1 ? this.storageRoot(child(items[0], "Expression"), fn, seen) : undefined;
      }
      case TK.Identifier:
        break;
      default:
        return undefined;
    }
    for (const def of this.defsOf(n)) {
      if (def.kind === NK.StateVariableDefinition) {
        const attrs = new Set(attributes(def).map((a) => a.kind as string));
        if (
          attrs.has(TK.ConstantKeyword) ||
          attrs.has(TK.ImmutableKeyword) ||
          attrs.has(TK.TransientKeyword)
        ) {
          return undefined;
        }
        return { kind: "state", name: n.text };
      }
      if (def.kind === NK.Parameter) {
        if (!hasTerminal(child(def, "StorageLocation"), TK.StorageKeyword)) return undefined;
        const index = fn.params.findIndex((p) => p.node === def);
        return index >= 0 ? { kind: "param", index, name: n.text } : undefined;
      }
      if (def.kind === NK.VariableDeclarationStatement) {
        if (!hasTerminal(child(def, "StorageLocation"), TK.StorageKeyword)) return undefined;
        // A storage pointer: it aliases whatever its initializer points at.
        if (seen.has(def)) return undefined;
        seen.add(def);
        const init = child(child(def, "Value"), "Expression");
        const root = init ? this.storageRoot(init, fn, seen) : undefined;
        // An uninitialised or opaque pointer (e.g. from a function returning storage): assume state.
        return root ?? { kind: "state", name: n.text };
      }
    }
    return undefined;
  }

  /** True when an expression has a contract or interface type we can see (for unresolved members). */
  private hasContractType(expr: SolNode | undefined): boolean {
    const n = variant(expr);
    if (!n) return false;
    if (n.kind === TK.ThisKeyword) return true;
    if (n.kind === NK.FunctionCallExpression) {
      // A conversion `IFoo(addr)`.
      const callee = variant(child(n, "Operand"));
      return !!callee && callee.kind === TK.Identifier && this.defsOf(callee).some((d) => isContractType(d));
    }
    if (n.kind !== TK.Identifier) return false;
    for (const def of this.defsOf(n)) {
      const typeName = child(def, "TypeName") ?? child(child(def, "VariableType"), "Variant");
      const path = variant(typeName);
      if (path?.kind === NK.IdentifierPath) {
        const last = path.children.filter((c) => c.terminal && c.kind === TK.Identifier).pop();
        if (last && this.defsOf(last).some((d) => isContractType(d))) return true;
      }
    }
    return false;
  }

  /** Decides what a FunctionCallExpression does. */
  classifyCall(call: SolNode, fn: FunctionInfo): CallTarget {
    let callee = variant(child(call, "Operand"));
    if (callee?.kind === NK.CallOptionsExpression) callee = variant(child(callee, "Operand"));
    if (!callee) return { type: "none" };
    const args = callArguments(call);

    if (callee.kind === TK.Identifier) {
      const defs = this.defsOf(callee).filter((d) => d.kind === NK.FunctionDefinition);
      if (defs.length === 0) return { type: "none" };
      return { type: "internal", name: callee.text, defs, args: namedToPositional(call, defs, args) };
    }
    if (callee.kind !== NK.MemberAccessExpression) return { type: "none" };

    const receiver = variant(child(callee, "Operand"));
    const member = child(callee, "Member");
    if (!member || !receiver) return { type: "none" };
    const name = member.text;
    const what = code(call);

    if (this.isBuiltinOrUnresolved(member)) {
      if (name === "push" || name === "pop") {
        const root = this.storageRoot(receiver, fn);
        return root ? { type: "storage-mutation", root } : { type: "none" };
      }
      if (LOW_LEVEL_CALLS.has(name)) return { type: "external", what };
      if (!member.refs || member.refs.length === 0) {
        // Unresolved: fall back on names and on the receiver's declared type.
        if (EXTERNAL_CALL_NAMES.has(name) || this.hasContractType(receiver))
          return { type: "external", what };
      }
      return { type: "none" };
    }

    const defs = this.defsOf(member);
    const fnDefs = defs.filter((d) => d.kind === NK.FunctionDefinition);
    if (fnDefs.length === 0) {
      // A public state variable's getter on another contract is a view call; struct fields are data.
      return { type: "none" };
    }
    const containers = fnDefs.map((d) => containerOf(d));
    if (containers.some((c) => c?.kind === NK.LibraryDefinition)) {
      // `Lib.f(x)` or `x.f()` through `using Lib for T`: an internal (or linked) library call.
      const staticCall =
        receiver.kind === TK.Identifier && this.defsOf(receiver).some((d) => d.kind === NK.LibraryDefinition);
      const all = staticCall ? args : [receiver, ...args];
      return {
        type: "internal",
        name: `${identifierText(child(containers[0], "Name"))}.${name}`,
        defs: fnDefs,
        args: all,
      };
    }
    const superCall =
      receiver.kind === TK.SuperKeyword ||
      (receiver.kind === TK.Identifier &&
        this.defsOf(receiver).some((d) => d.kind === NK.ContractDefinition));
    if (superCall) return { type: "internal", name: `${receiver.text}.${name}`, defs: fnDefs, args };
    // A message call to another contract (or to `this`). View/pure callees run as STATICCALL and
    // cannot change any state, ours included.
    const allReadOnly = fnDefs.every((d) => {
      const m = functionInfo(d).mutability;
      return m === "view" || m === "pure";
    });
    return allReadOnly ? { type: "none" } : { type: "external", what };
  }

  /** Effects of evaluating an expression, in evaluation order (operands before the operation). */
  exprEffects(expr: SolNode | undefined, fn: FunctionInfo, out: Effect[]): void {
    const n = variant(expr);
    if (!n || n.terminal) return;
    switch (n.kind) {
      case NK.AssignmentExpression: {
        this.exprEffects(child(n, "RightOperand"), fn, out);
        this.writeEffects(child(n, "LeftOperand"), fn, out, n);
        return;
      }
      case NK.PrefixExpression:
      case NK.PostfixExpression: {
        const op = child(n, "Operator");
        if (op && (op.kind === TK.PlusPlus || op.kind === TK.MinusMinus || op.kind === TK.DeleteKeyword)) {
          this.writeEffects(child(n, "Operand"), fn, out, n);
        } else {
          this.exprEffects(child(n, "Operand"), fn, out);
        }
        return;
      }
      case NK.FunctionCallExpression: {
        let callee = variant(child(n, "Operand"));
        if (callee?.kind === NK.CallOptionsExpression) {
          for (const opt of descendants(child(callee, "Options")!)) {
            if (opt.label === "Value") this.exprEffects(opt, fn, out);
          }
          callee = variant(child(callee, "Operand"));
        }
        if (callee?.kind === NK.MemberAccessExpression) this.exprEffects(child(callee, "Operand"), fn, out);
        else if (callee && !callee.terminal) this.exprEffects(callee, fn, out);
        for (const arg of callArguments(n)) this.exprEffects(arg, fn, out);
        this.callEffects(n, fn, out);
        return;
      }
      default:
        for (const c of n.children) if (!c.terminal) this.exprEffects(c, fn, out);
    }
  }

  /** Sub-expressions of an lvalue (index keys, ...) then the write itself if it hits storage. */
  private writeEffects(lvalue: SolNode | undefined, fn: FunctionInfo, out: Effect[], at: SolNode): void {
    const n = variant(lvalue);
    if (!n) return;
    if (n.kind === NK.TupleExpression) {
      for (const item of childrenWith(child(n, "Items"), "Item")) {
        this.writeEffects(child(item, "Expression"), fn, out, at);
      }
      return;
    }
    // Keys and receivers are evaluated before the store.
    const walk = (e: SolNode | undefined): void => {
      const v = variant(e);
      if (!v || v.terminal) return;
      if (v.kind === NK.IndexAccessExpression) {
        walk(child(v, "Operand"));
        this.exprEffects(child(v, "Start"), fn, out);
      } else if (v.kind === NK.MemberAccessExpression) {
        walk(child(v, "Operand"));
      } else {
        this.exprEffects(v, fn, out);
      }
    };
    walk(n);
    const root = this.storageRoot(n, fn);
    if (root) out.push({ type: "write", node: at, what: code(at), root });
  }

  private callEffects(call: SolNode, fn: FunctionInfo, out: Effect[]): void {
    const target = this.classifyCall(call, fn);
    switch (target.type) {
      case "external":
        out.push({ type: "call", node: call, what: target.what });
        return;
      case "storage-mutation":
        out.push({ type: "write", node: call, what: code(call), root: target.root });
        return;
      case "internal": {
        const s = this.summaryOf(target.defs);
        // Model the callee as "its writes, then its calls": if it calls before writing, that is
        // reported inside the callee itself (when it is project code).
        const via = (inner: Effect) => ({ callee: target.name, inner });
        if (s.stateWrite) {
          const root: StorageRoot = { kind: "state", name: s.stateWrite.root?.name ?? "" };
          out.push({ type: "write", node: call, what: code(call), via: via(s.stateWrite), root });
        }
        for (const i of s.paramWrites) {
          const root = this.storageRoot(target.args[i], fn);
          if (root) out.push({ type: "write", node: call, what: code(call), root });
        }
        if (s.call) out.push({ type: "call", node: call, what: code(call), via: via(s.call) });
        if (s.emits) out.push({ type: "emit", node: call, what: code(call) });
        return;
      }
      case "none":
        return;
    }
  }

  /** Effects of an inline assembly block, innermost calls first. */
  yulEffects(asm: SolNode, out: Effect[]): void {
    const calls = [...descendants(asm)].filter((d) => d.kind === NK.YulFunctionCallExpression);
    calls.sort((a, b) => a.end - b.end);
    for (const c of calls) {
      const name = identifierText(child(c, "Operand"));
      if (YUL_CALLS.has(name)) out.push({ type: "call", node: c, what: `assembly ${code(c, 60)}` });
      else if (name === "sstore") {
        out.push({
          type: "write",
          node: c,
          what: `assembly ${code(c, 60)}`,
          root: { kind: "state", name: "sstore" },
        });
      } else if (YUL_LOGS.has(name)) out.push({ type: "emit", node: c, what: code(c, 60) });
    }
  }

  /** Effects of a whole statement subtree, flow-insensitively (used for summaries). */
  statementEffects(node: SolNode, fn: FunctionInfo, out: Effect[]): void {
    if (node.terminal) return;
    switch (node.kind) {
      case NK.Expression:
        this.exprEffects(node, fn, out);
        return;
      case NK.EmitStatement:
        for (const arg of callArguments(node)) this.exprEffects(arg, fn, out);
        out.push({ type: "emit", node, what: code(node) });
        return;
      case NK.AssemblyStatement:
        this.yulEffects(node, out);
        return;
      default:
        for (const c of node.children) this.statementEffects(c, fn, out);
    }
  }

  /** Union of the summaries of (possibly overloaded or overriding) definitions. */
  summaryOf(defs: SolNode[]): Summary {
    const merged: Summary = { stateWrite: undefined, paramWrites: new Set(), call: undefined, emits: false };
    for (const def of defs) {
      const s = this.summary(def);
      merged.stateWrite ??= s.stateWrite;
      merged.call ??= s.call;
      merged.emits ||= s.emits;
      for (const i of s.paramWrites) merged.paramWrites.add(i);
    }
    return merged;
  }

  summary(def: SolNode): Summary {
    const cached = this.summaries.get(def);
    if (cached) return cached;
    const empty: Summary = { stateWrite: undefined, paramWrites: new Set(), call: undefined, emits: false };
    // Recursion: the inner occurrence contributes nothing (an approximation; recursive functions
    // are rare in contracts and never reach state through recursion alone).
    if (this.inProgress.has(def)) return empty;
    const info = functionInfo(def);
    if (!info.body) return empty;
    this.inProgress.add(def);
    const effects: Effect[] = [];
    this.statementEffects(info.body, info, effects);
    const s = { ...empty, paramWrites: new Set<number>() };
    for (const e of effects) {
      if (e.type === "emit") s.emits = true;
      else if (e.type === "call") s.call ??= e;
      else if (e.root?.kind === "param") s.paramWrites.add(e.root.index);
      else s.stateWrite ??= e;
    }
    this.inProgress.delete(def);
    this.summaries.set(def, s);
    return s;
  }
}

function isContractType(def: SolNode): boolean {
  return def.kind === NK.ContractDefinition || def.kind === NK.InterfaceDefinition;
}

/** Positional argument expressions of a call (named arguments in written order). */
export function callArguments(call: SolNode): SolNode[] {
  const decl = variant(child(call, "Arguments"));
  if (!decl) return [];
  if (decl.kind === NK.PositionalArgumentsDeclaration) {
    return childrenWith(child(decl, "Arguments"), "Item");
  }
  const group = child(decl, "Arguments");
  return childrenWith(child(group, "Arguments"), "Item")
    .map((named) => child(named, "Value"))
    .filter((v): v is SolNode => !!v);
}

/** Maps `f({b: 1, a: 2})` arguments onto the callee's parameter positions. */
function namedToPositional(call: SolNode, defs: SolNode[], args: SolNode[]): (SolNode | undefined)[] {
  const decl = variant(child(call, "Arguments"));
  if (!decl || decl.kind !== NK.NamedArgumentsDeclaration || !defs[0]) return args;
  const params = functionInfo(defs[0]).params.map((p) => p.name);
  const out: (SolNode | undefined)[] = params.map(() => undefined);
  for (const named of childrenWith(child(child(decl, "Arguments"), "Arguments"), "Item")) {
    const idx = params.indexOf(child(named, "Name")?.text ?? "");
    if (idx >= 0) out[idx] = child(named, "Value");
  }
  return out;
}
