/**
 * The configuration rules that relate several keys, in one place: the stack kind against the stack name, keys
 * foreign to the kind, and the platform stack's rules between values that each passed their own schema
 * (`schemas.ts`). Each rule throws a {@link ConfigError} naming the key at fault.
 */
import { accountIdFromStackName } from "../shared/naming";
import { ConfigError } from "./configError";
import { CONFIG_KEYS, type ConfigKey, qualifiedKey } from "./keys";
import type { PlatformValues } from "./schemas";

/** The two kinds of stack of the project. */
export type StackKind = "account" | "platform";

const q = qualifiedKey;

/**
 * The kind of stack `stackName` is: an account stack when named `account-<12-digit id>` (then `accountId` must be
 * that id), the platform stack otherwise; `stackKind`, when set, must agree.
 */
export function stackKindOf(
  stackName: string,
  stackKind: StackKind | undefined,
  accountId: string | undefined,
): StackKind {
  const idInName = accountIdFromStackName(stackName);
  if (idInName !== undefined) {
    if (stackKind === "platform") {
      throw new ConfigError(
        q("stackKind"),
        `${q("stackKind")} is "platform" but stack "${stackName}" is named like an account stack ` +
          `(account-<12-digit id>); use another stack name for the platform stack or set stackKind to "account"`,
      );
    }
    if (accountId === undefined) {
      throw new ConfigError(
        q("accountId"),
        `${q("accountId")} is required on account stack "${stackName}" and must be "${idInName}"`,
      );
    }
    if (accountId !== idInName) {
      throw new ConfigError(
        q("accountId"),
        `${q("accountId")} must equal the account id in the stack name "${stackName}" ` +
          `("${idInName}"), got "${accountId}"`,
      );
    }
    return "account";
  }
  if (stackKind === "account") {
    throw new ConfigError(
      q("stackKind"),
      `${q("stackKind")} is "account" but stack "${stackName}" is not named account-<12-digit id>`,
    );
  }
  if (accountId !== undefined) {
    throw new ConfigError(
      q("accountId"),
      `${q("accountId")} is set but stack "${stackName}" is the platform stack; ` +
        `account stacks are named account-<12-digit id>`,
    );
  }
  return "platform";
}

/** Refuses every key (set to anything but `undefined`) that only the other stack kind reads. */
export function rejectForeignKeys(
  stackName: string,
  kind: StackKind,
  values: Readonly<Partial<Record<ConfigKey, unknown>>>,
): void {
  const foreign = kind === "account" ? CONFIG_KEYS.platform : CONFIG_KEYS.account;
  for (const key of foreign) {
    if (values[key] !== undefined) {
      throw new ConfigError(
        q(key),
        `${q(key)} applies only to ${kind === "account" ? "the platform stack" : "account stacks"}; ` +
          `remove it from ${kind} stack "${stackName}"`,
      );
    }
  }
}

/** The account id an IAM ARN names (`arn:<partition>:iam::<account>:...`). */
function accountOf(arn: string): string | undefined {
  return arn.split(":")[4];
}

/**
 * The platform stack's rules between keys: roles and providers in the management account, the
 * `meshfedServicePolicy` attach rule, the entry point's authority and Pulumi Deployments OIDC.
 */
export function checkPlatformRules(
  managementAccountId: string,
  meshfedServicePrincipalArn: string | undefined,
  values: PlatformValues,
): void {
  const deployRole = values.managementDeployRoleArn;
  if (deployRole !== undefined && accountOf(deployRole) !== managementAccountId) {
    throw new ConfigError(
      q("managementDeployRoleArn"),
      `${q("managementDeployRoleArn")} must be a role in the management account ` +
        `${managementAccountId} (${q("managementAccountId")}), got "${deployRole}"`,
    );
  }
  if (
    values.meshfedServicePolicy === "attach" &&
    meshfedServicePrincipalArn !== undefined &&
    accountOf(meshfedServicePrincipalArn) !== managementAccountId
  ) {
    throw new ConfigError(
      q("meshfedServicePolicy"),
      `${q("meshfedServicePolicy")} "attach" needs ${q("meshfedServicePrincipalArn")} in the management account ` +
        `${managementAccountId}, got "${meshfedServicePrincipalArn}"; use "create" and attach the ` +
        `policy where that principal is managed`,
    );
  }
  checkEntryPointRules(values);
  checkDeploymentsOidcRules(managementAccountId, values);
}

function checkEntryPointRules(values: PlatformValues): void {
  const { entryPointVending: vend, entryPointAdoption: adopt, entryPointTargetOus: targets, defaultOuId } = values;
  if (adopt && !vend) {
    throw new ConfigError(
      q("entryPointAdoption"),
      `${q("entryPointAdoption")} needs ${q("entryPointVending")}: adoption happens only through a vend request`,
    );
  }
  if (targets.length > 0 && !vend) {
    throw new ConfigError(
      q("entryPointTargetOus"),
      `${q("entryPointTargetOus")} needs ${q("entryPointVending")}: only vend requests move accounts, ` +
        `the meshStack hook never does`,
    );
  }
  if (vend && defaultOuId !== undefined && !targets.includes(defaultOuId)) {
    throw new ConfigError(
      q("entryPointTargetOus"),
      `${q("entryPointTargetOus")} must list ${q("defaultOuId")} ${defaultOuId} when ${q("entryPointVending")} ` +
        `is true (vend requests naming no OU go there)`,
    );
  }
}

function checkDeploymentsOidcRules(managementAccountId: string, values: PlatformValues): void {
  const providerArn = values.deploymentsOidcProviderArn;
  if (!values.deploymentsOidc) {
    if (providerArn !== undefined) {
      throw new ConfigError(
        q("deploymentsOidcProviderArn"),
        `${q("deploymentsOidcProviderArn")} needs ${q("deploymentsOidc")} set to true`,
      );
    }
    return;
  }
  if (values.pulumiOrganization === undefined) {
    throw new ConfigError(
      q("deploymentsOidc"),
      `${q("deploymentsOidc")} needs ${q("pulumiOrganization")}: the deploy role trusts ` +
        `Pulumi Deployments runs of that organization's account stacks only`,
    );
  }
  if (providerArn !== undefined && accountOf(providerArn) !== managementAccountId) {
    throw new ConfigError(
      q("deploymentsOidcProviderArn"),
      `${q("deploymentsOidcProviderArn")} must be a provider in the management account ${managementAccountId} ` +
        `(${q("managementAccountId")}), got "${providerArn}"`,
    );
  }
}
