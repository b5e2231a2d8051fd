/**
 * An access role that already exists in the account under the configured name, as the engine reports it:
 * IAM's CreateRole is the atomic check (a pre-read would race), so `pulumi up` fails with `EntityAlreadyExists`.
 */

/**
 * True when a Pulumi engine or AWS error message says that IAM refused to create `roleName` because a role with that
 * name already exists (IAM CreateRole `EntityAlreadyExists`, HTTP 409).
 */
export function isRoleAlreadyExistsError(message: string, roleName: string): boolean {
  return /EntityAlreadyExists/.test(message) && message.includes(roleName);
}

/**
 * The operator-facing explanation of an access-role name collision, for the automation layer to show instead of the
 * raw engine output when {@link isRoleAlreadyExistsError} matches.
 */
export function accessRoleCollisionMessage(roleName: string, accountId: string): string {
  return (
    `account ${accountId} already has an IAM role named "${roleName}" that this stack does not manage; ` +
    `either choose another name (config key accessRoleName) or adopt the existing role with ` +
    `\`pulumi import aws:iam/role:Role <resource name> ${roleName}\` after checking it grants nothing else`
  );
}
