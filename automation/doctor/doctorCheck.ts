/**
 * `avm doctor`'s vocabulary: a check, its result (✓ pass, ✗ fail with the exact fix, ! could not run) and the
 * report. A check that cannot run (no permission, nothing configured to check, a prerequisite missing) is `warn`
 * and says why; it is never reported as passed.
 */

/** `pass` ✓, `fail` ✗ (with a fix), `warn` ! (could not be checked; says why). */
export type CheckStatus = "pass" | "fail" | "warn";

/** The outcome of one check. */
export interface CheckResult {
  /** Stable id, e.g. `aws-credentials`. */
  readonly id: string;
  /** What was checked, e.g. `AWS credentials`. */
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found (never a secret). */
  readonly detail: string;
  /** For `fail`: the command to run or the setting to change. For `warn`: how to make the check possible. */
  readonly fix: string | null;
}

/** Builders for results. */
export const result = {
  pass: (id: string, title: string, detail: string): CheckResult => ({ id, title, status: "pass", detail, fix: null }),
  fail: (id: string, title: string, detail: string, fix: string): CheckResult => ({
    id,
    title,
    status: "fail",
    detail,
    fix,
  }),
  warn: (id: string, title: string, detail: string, fix: string | null = null): CheckResult => ({
    id,
    title,
    status: "warn",
    detail,
    fix,
  }),
};

/** The `--json` shape of `avm doctor`. */
export interface DoctorReport {
  /** True when no check failed (`--strict`: and none was `warn`). */
  readonly ok: boolean;
  readonly summary: { readonly pass: number; readonly fail: number; readonly warn: number };
  readonly checks: readonly CheckResult[];
}

/** Builds the report of `checks`. */
export function doctorReport(checks: readonly CheckResult[], strict = false): DoctorReport {
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length;
  const summary = { pass: count("pass"), fail: count("fail"), warn: count("warn") };
  return { ok: summary.fail === 0 && (!strict || summary.warn === 0), summary, checks };
}

const MARK: Record<CheckStatus, string> = { pass: "✓", fail: "✗", warn: "!" };

/** The checklist as text: one line per check, the fix indented under each ✗ (and under a ! that has one). */
export function doctorText(report: DoctorReport): string {
  const lines: string[] = [];
  for (const check of report.checks) {
    lines.push(`${MARK[check.status]} ${check.title}: ${check.detail}`);
    if (check.fix !== null) lines.push(`    ${check.status === "fail" ? "fix" : "to check"}: ${check.fix}`);
  }
  const { pass, fail, warn } = report.summary;
  lines.push("", `${pass} passed, ${fail} failed, ${warn} not checked`);
  return `${lines.join("\n")}\n`;
}

/** An AWS error's name (`AccessDeniedException`, ...), or undefined. */
export function awsErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** True for AWS authorization failures: the check could not run for lack of permission. */
export function isAccessDenied(error: unknown): boolean {
  const name = awsErrorName(error) ?? "";
  return /^(AccessDenied|AccessDeniedException|UnauthorizedOperation|UnauthorizedException|AuthorizationError)$/.test(
    name,
  );
}

/** One line of an error (never a stack). */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/\s*\n\s*/g, " ").slice(0, 300);
}
