/**
 * Suppressions: `// static-check-ignore: <rule> <reason>` on the line (or block of such lines)
 * directly above the finding's line. The reason is mandatory and is printed with every run, so a
 * justification is always visible; a suppression that matches nothing is reported too, so stale
 * ones do not pile up.
 */

export const SUPPRESSION_TAG = "static-check-ignore:";

export interface Suppression {
  file: string;
  /** 1-based line of the comment. */
  line: number;
  rule: string;
  reason: string;
  used: boolean;
}

export interface SuppressionProblem {
  file: string;
  line: number;
  message: string;
}

interface Located {
  rule: string;
  file: string;
  line: number;
}

const COMMENT = /^\s*\/\/\s*static-check-ignore:(.*)$/;

export class Suppressions {
  /** Well-formed suppressions of every tool. */
  readonly all: Suppression[] = [];
  readonly problems: SuppressionProblem[] = [];
  /** file -> line -> suppression comment lines */
  private readonly byLine = new Map<string, Map<number, Suppression[]>>();
  private readonly commentLines = new Map<string, Set<number>>();

  /**
   * @param ownRules Rules of the tool using this instance (only their unused suppressions are reported).
   * @param knownRules Every rule of every tool reading the same comments (static checks and SMT).
   */
  constructor(
    private readonly ownRules: readonly string[],
    private readonly knownRules: readonly string[],
  ) {}

  /** Reads every suppression comment of a file. */
  addFile(file: string, source: string): void {
    const lines = source.split(/\r\n|\r|\n/);
    const map = new Map<number, Suppression[]>();
    const comments = new Set<number>();
    lines.forEach((text, i) => {
      const m = COMMENT.exec(text);
      if (!m) {
        if (text.includes(SUPPRESSION_TAG)) {
          this.problems.push({
            file,
            line: i + 1,
            message: `"${SUPPRESSION_TAG}" must be a line comment of its own, on the line before the finding`,
          });
        }
        return;
      }
      comments.add(i + 1);
      const body = (m[1] ?? "").trim();
      const [rule = "", ...rest] = body.split(/\s+/);
      const reason = rest.join(" ").trim();
      if (!this.knownRules.includes(rule)) {
        this.problems.push({
          file,
          line: i + 1,
          message: `unknown rule "${rule}" in suppression (known: ${this.knownRules.join(", ")})`,
        });
        return;
      }
      if (reason.length === 0) {
        this.problems.push({ file, line: i + 1, message: `suppression of ${rule} needs a reason` });
        return;
      }
      const s: Suppression = { file, line: i + 1, rule, reason, used: false };
      this.all.push(s);
      map.set(i + 1, [...(map.get(i + 1) ?? []), s]);
    });
    this.byLine.set(file, map);
    this.commentLines.set(file, comments);
  }

  /** The suppression covering a finding, if any (and marks it used). */
  match(finding: Located): Suppression | undefined {
    const map = this.byLine.get(finding.file);
    const comments = this.commentLines.get(finding.file);
    if (!map || !comments) return undefined;
    // Walk up the contiguous block of suppression comments right above the finding.
    for (let line = finding.line - 1; comments.has(line); line--) {
      const hit = map.get(line)?.find((s) => s.rule === finding.rule);
      if (hit) {
        hit.used = true;
        return hit;
      }
    }
    return undefined;
  }

  /** This tool's suppressions that matched no finding. */
  unused(): Suppression[] {
    return this.all.filter((s) => !s.used && this.ownRules.includes(s.rule));
  }
}
