/**
 * Offline IAM evaluation for the security proofs, over `@cloud-copilot/iam-simulate` (AGPL-3.0: imported from
 * tests only, never from `src/` or `automation/`).
 *
 * Every decision is a real policy evaluation; a simulation that cannot run (unknown action, a resource ARN of the
 * wrong type for the action, a malformed policy) throws instead of counting as a denial, so a typo in a case table
 * cannot pass silently as "denied".
 */
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import type { PolicyDocument } from "../../src/policies/document";

/** The three outcomes of IAM policy evaluation. */
export type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

/** One request to evaluate. */
export interface AccessCase {
  /** IAM action, e.g. `s3:GetObject`. */
  readonly action: string;
  /** Concrete resource ARN (or `*` for wildcard-only actions). */
  readonly resource: string;
  /** Request context keys (e.g. `sts:ExternalId`, `aws:PrincipalOrgID`). */
  readonly context?: Readonly<Record<string, string | string[]>>;
  /**
   * Resource-side policy for {@link identityDecision}, needed only where the service refuses same-account access
   * without one (a KMS key policy, the trust policy of a role): it grants the caller's whole account, so the
   * identity policy is what decides.
   */
  readonly resourcePolicy?: PolicyDocument;
  /** Why the case matters (shown in the test title). */
  readonly why?: string;
}

/** An identity policy that allows everything: the control that proves a setup can be allowed at all. */
export const ADMIN_POLICY: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

/** The 12-digit account id of an IAM or STS principal ARN. */
export function accountOf(principalArn: string): string {
  const id = /^arn:[\w-]+:(?:iam|sts)::(\d{12}):/.exec(principalArn)?.[1];
  if (id === undefined) throw new Error(`not an IAM principal ARN: ${principalArn}`);
  return id;
}

/**
 * Runs one simulation and returns its overall decision.
 * @throws Error with the simulator's validation errors when the simulation cannot run.
 */
export async function simulate(simulation: Simulation): Promise<Decision> {
  const result = await runSimulation(simulation, {});
  if (result.resultType === "error") {
    throw new Error(
      `simulation of ${simulation.request.action} on ${simulation.request.resource.resource} could not run: ` +
        JSON.stringify(result.errors),
    );
  }
  return result.overallResult as Decision;
}

/**
 * What the identity policies alone grant: the request is evaluated as if the resource lived in the caller's own
 * account (same-account access, where an identity policy suffices) and with no resource policy except the case's
 * own account-wide delegation. Cross-account calls additionally need the resource side; that is proven separately
 * (trust policies, the Lambda permission).
 */
export function identityDecision(
  principal: string,
  identityPolicies: readonly PolicyDocument[],
  access: AccessCase,
): Promise<Decision> {
  return simulate({
    request: {
      principal,
      action: access.action,
      resource: { resource: access.resource, accountId: accountOf(principal) },
      contextVariables: { ...(access.context ?? {}) },
    },
    identityPolicies: identityPolicies.map((policy, i) => ({ name: `policy-${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(access.resourcePolicy ? { resourcePolicy: access.resourcePolicy } : {}),
  });
}

/** Options of {@link assumeRoleDecision}. */
export interface AssumeRoleRequest {
  /** Who calls `sts:AssumeRole`. */
  readonly principal: string;
  /** ARN of the role to assume. */
  readonly roleArn: string;
  /** The role's trust policy as deployed. */
  readonly trustPolicy: PolicyDocument;
  /** Request context, e.g. `{ "sts:ExternalId": "..." }`. */
  readonly context?: Readonly<Record<string, string | string[]>>;
  /**
   * The caller's identity policies; default {@link ADMIN_POLICY} (the caller may assume anything), so the trust
   * policy is what decides.
   */
  readonly identityPolicies?: readonly PolicyDocument[];
  /** Service control policies applying to the caller's account, root first (optional). */
  readonly serviceControlPolicies?: readonly PolicyDocument[];
}

/** Evaluates `sts:AssumeRole` against a role's trust policy (cross- or same-account, as the ARNs say). */
export function assumeRoleDecision(request: AssumeRoleRequest): Promise<Decision> {
  return simulate({
    request: {
      principal: request.principal,
      action: "sts:AssumeRole",
      resource: { resource: request.roleArn, accountId: accountOf(request.roleArn) },
      contextVariables: { ...(request.context ?? {}) },
    },
    identityPolicies: (request.identityPolicies ?? [ADMIN_POLICY]).map((policy, i) => ({ name: `id-${i}`, policy })),
    serviceControlPolicies: scps(request.serviceControlPolicies),
    resourceControlPolicies: [],
    resourcePolicy: request.trustPolicy,
  });
}

/** A cross-account (or same-account) request with explicit policies on both sides. */
export interface FullRequest {
  readonly principal: string;
  readonly identityPolicies: readonly PolicyDocument[];
  readonly access: AccessCase & { readonly resourceAccount: string };
  readonly resourcePolicy?: PolicyDocument;
  /** SCPs of the caller's account, root first. */
  readonly serviceControlPolicies?: readonly PolicyDocument[];
}

/** Evaluates a request with identity policies, an optional resource policy and optional SCPs. */
export function fullDecision(request: FullRequest): Promise<Decision> {
  return simulate({
    request: {
      principal: request.principal,
      action: request.access.action,
      resource: { resource: request.access.resource, accountId: request.access.resourceAccount },
      contextVariables: { ...(request.access.context ?? {}) },
    },
    identityPolicies: request.identityPolicies.map((policy, i) => ({ name: `id-${i}`, policy })),
    serviceControlPolicies: scps(request.serviceControlPolicies),
    resourceControlPolicies: [],
    ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
  });
}

function scps(policies: readonly PolicyDocument[] | undefined): Simulation["serviceControlPolicies"] {
  if (policies === undefined || policies.length === 0) return [];
  // AWS evaluates SCPs on top of the default FullAWSAccess: attach it at the root beside the suggested ones.
  const fullAccess = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
  return [
    {
      orgIdentifier: "r-root",
      policies: [
        { name: "FullAWSAccess", policy: fullAccess },
        ...policies.map((policy, i) => ({ name: `scp-${i}`, policy })),
      ],
    },
  ];
}

/** `[action, resource]` pairs an identity policy allows, flattened in statement order (conditions kept aside). */
export function allowedPairs(document: PolicyDocument): [string, string][] {
  return document.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => {
    const actions = typeof s.Action === "string" ? [s.Action] : [...s.Action];
    const resources = s.Resource === undefined ? [] : typeof s.Resource === "string" ? [s.Resource] : [...s.Resource];
    return actions.flatMap((a) => resources.map((r): [string, string] => [a, r]));
  });
}

/**
 * A key policy that delegates the key to IAM in `accountId` (the default key policy), so identity policies decide.
 */
export function delegatingKeyPolicy(partition: string, accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  };
}

/** A role trust policy that trusts the whole of `accountId` (the worst case an account admin might configure). */
export function accountTrust(partition: string, accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${accountId}:root` }, Action: "sts:AssumeRole" },
    ],
  };
}

/**
 * A policy copy with one statement's `Resource` widened to `*`: used to prove that the case tables catch a
 * widened resource.
 */
export function widenResource(document: PolicyDocument, statementIndex: number): PolicyDocument {
  return {
    ...document,
    Statement: document.Statement.map((s, i) => (i === statementIndex ? { ...s, Resource: "*" } : s)),
  };
}
