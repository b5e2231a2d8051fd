/**
 * Names shared by the Pulumi program, the vending core and the automation layer.
 * One place, so a stack created by the CLI is the stack `pulumi up` and Pulumi Deployments see.
 */

/** The Pulumi project name declared in `Pulumi.yaml`. */
export const PROJECT_NAME = "meshstack-avm";

/** Name of the Lambda meshStack invokes after every project replication. */
export const ENTRY_POINT_FUNCTION_NAME = "AVMEntryPoint";

/** Default name of the meshStack access role in every managed account. */
export const DEFAULT_ACCESS_ROLE_NAME = "MeshstackAccountAccessRole";

/** Role AWS Organizations creates in every new account (admin, trusting the management account). */
export const DEFAULT_BOOTSTRAP_ROLE_NAME = "OrganizationAccountAccessRole";

/** Default name of the SAML identity provider meshStack maintains in each managed account. */
export const DEFAULT_SAML_PROVIDER_NAME = "meshstack-saml-idp";

/** Default name of the meshStack service user in the management account. */
export const DEFAULT_MESHFED_SERVICE_USER = "meshfed-service";

const ACCOUNT_ID = /^\d{12}$/;
const ACCOUNT_STACK = /^account-(\d{12})$/;

/** True when `value` is a 12-digit AWS account id. */
export function isAccountId(value: string): boolean {
  return ACCOUNT_ID.test(value);
}

/**
 * Stack name of the per-account stack for `accountId` (`account-<12 digits>`).
 * @throws Error naming the value when it is not a 12-digit account id.
 */
export function accountStackName(accountId: string): string {
  if (!isAccountId(accountId)) {
    throw new Error(`accountId must be a 12-digit AWS account id, got "${accountId}"`);
  }
  return `account-${accountId}`;
}

/** The account id encoded in an account stack name, or `undefined` when `stackName` is not one. */
export function accountIdFromStackName(stackName: string): string | undefined {
  return ACCOUNT_STACK.exec(stackName)?.[1];
}
