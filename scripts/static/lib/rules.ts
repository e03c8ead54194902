/**
 * The three checks:
 * - call-before-write: a state write that may run after an external call in the same function
 *   (the reentrancy shape checks-effects-interactions forbids);
 * - unbounded-loop: a loop whose bound grows with storage (a storage array's length, a user-growable
 *   set, or a memory copy of either);
 * - missing-event: an external/public state-changing function that emits no event on any path.
 */
import { callArguments, qualifiedName, type Analyzer, type Effect, type FunctionInfo } from "./model.js";
import { child, childrenWith, code, descendants, NK, TK, variant, type SolNode } from "./solidity.js";

export const RULES = ["call-before-write", "unbounded-loop", "missing-event"] as const;
export type RuleId = (typeof RULES)[number];

export interface Finding {
  rule: string;
  file: string;
  line: number;
  function: string;
  message: string;
}

function where(node: SolNode): string {
  return `${node.file.display}:${node.line}`;
}

/** `what`, and for an effect inside a called function, the chain down to the real call/write. */
export function describe(e: Effect): string {
  let text = `\`${e.what}\``;
  let inner = e.via;
  const seen: string[] = [];
  while (inner) {
    seen.push(inner.callee);
    const leaf = inner.inner;
    if (!leaf.via) {
      text += ` (via ${seen.join(" -> ")}: \`${leaf.what}\` at ${where(leaf.node)})`;
      break;
    }
    inner = leaf.via;
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// call-before-write

/** Calls that may have happened before the current point; null once every path has returned. */
type Pending = Effect[] | null;

function union(a: Pending, b: Pending): Pending {
  if (a === null) return b;
  if (b === null) return a;
  return [...a, ...b.filter((e) => !a.includes(e))];
}

class CallBeforeWrite {
  /** call effect -> writes that may follow it */
  readonly hits = new Map<Effect, Effect[]>();

  constructor(
    private readonly an: Analyzer,
    private readonly fn: FunctionInfo,
  ) {}

  private apply(effects: Effect[], pending: Effect[]): Effect[] {
    let out = pending;
    for (const e of effects) {
      if (e.type === "call") {
        if (!out.includes(e)) out = [...out, e];
      } else if (e.type === "write") {
        for (const call of out) {
          const writes = this.hits.get(call) ?? [];
          if (!writes.includes(e)) writes.push(e);
          this.hits.set(call, writes);
        }
      }
    }
    return out;
  }

  private expr(expr: SolNode | undefined, pending: Effect[]): Effect[] {
    const effects: Effect[] = [];
    this.an.exprEffects(expr, this.fn, effects);
    return this.apply(effects, pending);
  }

  /** Abstract interpretation over statements: which external calls may precede each point. */
  stmt(node: SolNode | undefined, pending: Pending): Pending {
    if (pending === null) return null;
    const n = variant(node);
    if (!n || n.terminal) return pending;
    switch (n.kind) {
      case NK.Block: {
        let p: Pending = pending;
        for (const s of childrenWith(child(n, "Statements"), "Item")) p = this.stmt(s, p);
        return p;
      }
      case NK.UncheckedBlock:
        return this.stmt(child(n, "Block"), pending);
      case NK.ExpressionStatement:
      case NK.TupleDeconstructionStatement:
        return this.expr(child(n, "Expression"), pending);
      case NK.VariableDeclarationStatement:
        return this.expr(child(child(n, "Value"), "Expression"), pending);
      case NK.EmitStatement: {
        let p = pending;
        for (const arg of callArguments(n)) p = this.expr(arg, p);
        return p;
      }
      case NK.ReturnStatement:
        this.expr(child(n, "Expression"), pending);
        return null;
      case NK.RevertStatement:
      case NK.ThrowStatement:
        // Reverting undoes everything: nothing after a call matters on this path.
        return null;
      case NK.IfStatement: {
        const p = this.expr(child(n, "Condition"), pending);
        const thenOut = this.stmt(child(n, "Body"), p);
        const elseBranch = child(n, "ElseBranch");
        const elseOut = elseBranch ? this.stmt(child(elseBranch, "Body"), p) : p;
        return union(thenOut, elseOut);
      }
      case NK.ForStatement: {
        // One pass, no wrap-around: writes of the next iteration after a call of this one are the
        // usual per-item CEI of batch functions, not reported.
        const init = this.stmt(child(n, "Initialization"), pending);
        if (init === null) return null;
        const cond = variant(child(n, "Condition"));
        const afterCond =
          cond?.kind === NK.ExpressionStatement ? this.expr(child(cond, "Expression"), init) : init;
        const body = this.stmt(child(n, "Body"), afterCond);
        const iter = body === null ? null : this.expr(child(n, "Iterator"), body);
        return union(afterCond, iter);
      }
      case NK.WhileStatement: {
        const afterCond = this.expr(child(n, "Condition"), pending);
        return union(afterCond, this.stmt(child(n, "Body"), afterCond));
      }
      case NK.DoWhileStatement: {
        const body = this.stmt(child(n, "Body"), pending);
        return body === null ? null : this.expr(child(n, "Condition"), body);
      }
      case NK.TryStatement: {
        const afterCall = this.expr(child(n, "Expression"), pending);
        let out = this.stmt(child(n, "Body"), afterCall);
        for (const clause of childrenWith(child(n, "CatchClauses"), "Item")) {
          out = union(out, this.stmt(child(clause, "Body"), afterCall));
        }
        return out;
      }
      case NK.AssemblyStatement: {
        const effects: Effect[] = [];
        this.an.yulEffects(n, effects);
        return this.apply(effects, pending);
      }
      default:
        // ForStatementInitialization and other wrappers: look inside.
        if (n.children.length === 1) return this.stmt(n.children[0], pending);
        return pending;
    }
  }
}

export function checkCallBeforeWrite(an: Analyzer, fn: FunctionInfo): Finding[] {
  if (!fn.body || fn.kind === "constructor" || fn.kind === "modifier") return [];
  if (fn.mutability === "view" || fn.mutability === "pure") return [];
  const flow = new CallBeforeWrite(an, fn);
  flow.stmt(fn.body, []);
  const findings: Finding[] = [];
  for (const [call, all] of flow.hits) {
    // One entry per written statement (a tuple assignment writes several slots at once).
    const writes = all.filter((w, i) => all.findIndex((o) => o.node === w.node) === i);
    const first = writes[0]!;
    const more =
      writes.length > 1
        ? ` and ${writes.length - 1} more (lines ${writes
            .slice(1)
            .map((w) => w.node.line)
            .join(", ")})`
        : "";
    findings.push({
      rule: "call-before-write",
      file: call.node.file.display,
      line: call.node.line,
      function: qualifiedName(fn),
      message: `external call ${describe(call)} is followed by state write ${describe(first)} at line ${first.node.line}${more}`,
    });
  }
  return findings.sort((a, b) => a.line - b.line);
}

// ---------------------------------------------------------------------------------------------
// unbounded-loop

/** Locals whose value grows with storage: lengths (numbers) and memory copies of storage arrays. */
interface Taint {
  lengths: Map<SolNode, string>;
  arrays: Map<SolNode, string>;
}

function localDecl(an: Analyzer, id: SolNode): SolNode | undefined {
  return an.defsOf(id).find((d) => d.kind === NK.VariableDeclarationStatement);
}

function isStorageRooted(an: Analyzer, fn: FunctionInfo, expr: SolNode | undefined): boolean {
  return an.storageRoot(expr, fn) !== undefined;
}

/** Description of the storage-dependent bound inside `expr`, if any. */
function unboundedBy(
  an: Analyzer,
  fn: FunctionInfo,
  expr: SolNode | undefined,
  taint: Taint,
): string | undefined {
  const n = variant(expr);
  if (!n) return undefined;
  if (n.terminal) {
    if (n.kind !== TK.Identifier) return undefined;
    const decl = localDecl(an, n);
    return decl ? taint.lengths.get(decl) : undefined;
  }
  switch (n.kind) {
    case NK.MemberAccessExpression: {
      const member = child(n, "Member");
      const operand = child(n, "Operand");
      if (member?.text === "length") {
        if (isStorageRooted(an, fn, operand)) return code(n);
        const base = variant(operand);
        const decl = base?.kind === TK.Identifier ? localDecl(an, base) : undefined;
        if (decl && taint.arrays.has(decl)) return `${code(n)} (copy of ${taint.arrays.get(decl)})`;
      }
      return unboundedBy(an, fn, operand, taint);
    }
    case NK.FunctionCallExpression: {
      const callee = variant(child(n, "Operand"));
      const args = callArguments(n);
      const name =
        callee?.kind === NK.MemberAccessExpression
          ? child(callee, "Member")?.text
          : callee?.terminal
            ? callee.text
            : "";
      if (callee?.kind === NK.MemberAccessExpression && name === "length" && args.length === 0) {
        // EnumerableSet/EnumerableMap/DoubleEndedQueue `.length()` on storage: a growable set.
        if (isStorageRooted(an, fn, child(callee, "Operand"))) return code(n);
      }
      if (name === "min") {
        // min(x, CAP) is bounded as soon as one argument is.
        const parts = args.map((a) => unboundedBy(an, fn, a, taint));
        return parts.every((p) => p !== undefined) ? parts[0] : undefined;
      }
      for (const a of args) {
        const found = unboundedBy(an, fn, a, taint);
        if (found) return found;
      }
      return callee?.kind === NK.MemberAccessExpression
        ? unboundedBy(an, fn, child(callee, "Operand"), taint)
        : undefined;
    }
    case NK.AndExpression: {
      // `i < n && i < MAX`: either side bounds the loop.
      const left = unboundedBy(an, fn, child(n, "LeftOperand"), taint);
      const right = unboundedBy(an, fn, child(n, "RightOperand"), taint);
      return left && right ? left : undefined;
    }
    default:
      for (const c of n.children) {
        if (c.terminal && c.kind !== TK.Identifier) continue;
        const found = unboundedBy(an, fn, c, taint);
        if (found) return found;
      }
      return undefined;
  }
}

/** `x.values()` / `x.keys()` on a storage set, or a plain read of a storage array into memory. */
function storageArrayCopy(an: Analyzer, fn: FunctionInfo, value: SolNode | undefined): string | undefined {
  const n = variant(value);
  if (!n) return undefined;
  if (n.kind === NK.FunctionCallExpression) {
    const callee = variant(child(n, "Operand"));
    const name = callee?.kind === NK.MemberAccessExpression ? child(callee, "Member")?.text : undefined;
    if ((name === "values" || name === "keys") && isStorageRooted(an, fn, child(callee, "Operand")))
      return code(n);
    return undefined;
  }
  if (
    n.kind === TK.Identifier ||
    n.kind === NK.MemberAccessExpression ||
    n.kind === NK.IndexAccessExpression
  ) {
    return isStorageRooted(an, fn, n) ? code(n) : undefined;
  }
  return undefined;
}

function computeTaint(an: Analyzer, fn: FunctionInfo, body: SolNode): Taint {
  const taint: Taint = { lengths: new Map(), arrays: new Map() };
  const decls = [...descendants(body)].filter((d) => d.kind === NK.VariableDeclarationStatement);
  const assigns = [...descendants(body)].filter((d) => d.kind === NK.AssignmentExpression);
  // A few passes reach the fixpoint (n = copy.length where copy = _arr, ...).
  for (let pass = 0; pass < 3; pass++) {
    for (const decl of decls) {
      const value = child(child(decl, "Value"), "Expression");
      if (!value) continue;
      const len = unboundedBy(an, fn, value, taint);
      if (len && !taint.lengths.has(decl)) taint.lengths.set(decl, len);
      const storage = child(decl, "StorageLocation");
      const isMemory = storage !== undefined && !storage.children.some((c) => c.kind === TK.StorageKeyword);
      const copy = isMemory ? storageArrayCopy(an, fn, value) : undefined;
      if (copy && !taint.arrays.has(decl)) taint.arrays.set(decl, copy);
    }
    for (const a of assigns) {
      const left = variant(child(a, "LeftOperand"));
      const decl = left?.kind === TK.Identifier ? localDecl(an, left) : undefined;
      if (!decl) continue;
      const right = child(a, "RightOperand");
      const len = unboundedBy(an, fn, right, taint);
      if (len && !taint.lengths.has(decl)) taint.lengths.set(decl, len);
      const copy = storageArrayCopy(an, fn, right);
      if (copy && !taint.arrays.has(decl)) taint.arrays.set(decl, copy);
    }
  }
  return taint;
}

export function checkUnboundedLoops(an: Analyzer, fn: FunctionInfo): Finding[] {
  if (!fn.body) return [];
  const taint = computeTaint(an, fn, fn.body);
  const findings: Finding[] = [];
  for (const loop of descendants(fn.body)) {
    let condition: SolNode | undefined;
    if (loop.kind === NK.ForStatement) {
      const cond = variant(child(loop, "Condition"));
      condition = cond?.kind === NK.ExpressionStatement ? child(cond, "Expression") : undefined;
    } else if (loop.kind === NK.WhileStatement || loop.kind === NK.DoWhileStatement) {
      condition = child(loop, "Condition");
    } else {
      continue;
    }
    const bound = unboundedBy(an, fn, condition, taint);
    if (!bound) continue;
    findings.push({
      rule: "unbounded-loop",
      file: loop.file.display,
      line: loop.line,
      function: qualifiedName(fn),
      message: `loop condition \`${condition ? code(condition) : ""}\` is bounded by storage that can grow: \`${bound}\``,
    });
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// missing-event

export function checkMissingEvent(an: Analyzer, fn: FunctionInfo): Finding[] {
  if (!fn.body || fn.kind === "constructor" || fn.kind === "modifier") return [];
  if (fn.visibility !== "external" && fn.visibility !== "public") return [];
  if (fn.mutability === "view" || fn.mutability === "pure") return [];
  const s = an.summary(fn.node);
  if (!s.stateWrite || s.emits) return [];
  return [
    {
      rule: "missing-event",
      file: fn.node.file.display,
      line: fn.node.line,
      function: qualifiedName(fn),
      message: `changes state (${describe(s.stateWrite)} at line ${s.stateWrite.node.line}) but emits no event on any path`,
    },
  ];
}
