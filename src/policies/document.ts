/**
 * IAM policy documents as plain data. Builders in this folder are pure functions of strings; components only
 * `apply` them to resolved outputs and serialise the result.
 */

/** Value of an IAM `Action`, `Resource` or condition entry: one string or a list. */
export type OneOrMany = string | readonly string[];

/** One statement of an IAM policy document. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: Readonly<Record<string, OneOrMany>>;
  readonly Action: OneOrMany;
  readonly Resource?: OneOrMany;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, OneOrMany | boolean>>>>;
}

/** An IAM policy document (identity-based or trust policy). */
export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

/** A policy document with the name the checker and the security tests report it under (e.g. `AVMWorkerRole/permissions`). */
export interface NamedPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

/** Builds a policy document from statements. */
export function policyDocument(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** The `Action` values of every statement of `document`, flattened, in order. */
export function policyActions(document: PolicyDocument): string[] {
  return document.Statement.flatMap((statement) =>
    typeof statement.Action === "string" ? [statement.Action] : [...statement.Action],
  );
}
