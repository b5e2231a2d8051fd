/** The typed, validated configuration `parseConfig` returns for each stack kind, and its raw input. */
import type * as pulumi from "@pulumi/pulumi";
import type { EntryPointAuthority } from "../core/vending/entryPointGate";
import type { ConfigKey, MeshfedServicePolicyMode } from "./keys";

/** One alternate contact of an account (all four fields are required by the AWS Account API). */
export interface AlternateContact {
  readonly name: string;
  readonly title: string;
  readonly emailAddress: string;
  readonly phoneNumber: string;
}

/** Alternate contacts by type; each entry is optional. */
export interface AlternateContacts {
  readonly operations?: AlternateContact;
  readonly billing?: AlternateContact;
  readonly security?: AlternateContact;
}

/** Settings shared by both stack kinds. */
export interface CommonConfig {
  /** The Pulumi stack name the configuration was read for. */
  readonly stackName: string;
  /** `aws:region`: region of the providers and of the `AVMEntryPoint` Lambda. */
  readonly region: string;
  /** 12-digit id of the AWS Organizations management account. */
  readonly managementAccountId: string;
  /** 12-digit id of the automation account that hosts the AVM. */
  readonly automationAccountId: string;
  /**
   * ARN (user or role) meshStack's service principal uses; `undefined` means the default
   * `arn:<partition>:iam::<managementAccountId>:user/meshfed-service`, built once the partition is known.
   */
  readonly meshfedServicePrincipalArn: string | undefined;
  /** Secret `sts:ExternalId` the access role's trust policy requires, when configured. */
  readonly externalId: pulumi.Output<string> | undefined;
  /** Name of the meshStack access role in every managed account (default `MeshstackAccountAccessRole`). */
  readonly accessRoleName: string;
  /** Name of the SAML provider meshStack maintains in each managed account (default `meshstack-saml-idp`). */
  readonly samlProviderName: string;
  /**
   * Role AWS Organizations creates in new accounts (default `OrganizationAccountAccessRole`): the account stack's
   * provider assumes it; the platform stack passes it to the worker for the account stacks it starts.
   */
  readonly bootstrapRoleName: string;
}

/** Configuration of an account stack (`account-<id>`). */
export interface AccountStackConfig extends CommonConfig {
  readonly kind: "account";
  /** 12-digit id of the managed account; equals the id in the stack name. */
  readonly accountId: string;
  /** Optional IAM account alias (baseline). */
  readonly accountAlias: string | undefined;
  /** Optional alternate contacts (baseline). */
  readonly alternateContacts: AlternateContacts | undefined;
  /** Tags applied to every taggable resource of the stack. */
  readonly tags: Readonly<Record<string, string>>;
}

/** Configuration of the platform stack (automation account plus the management account's vending role). */
export interface PlatformStackConfig extends CommonConfig {
  readonly kind: "platform";
  /** AWS Organizations id (`o-...`). */
  readonly organizationId: string;
  /** Name of the role in the management account that the AVM's worker assumes (default `AVMVendingRole`). */
  readonly vendingRoleName: string;
  /** Role the operator's credentials assume to deploy into the management account; ambient credentials when unset. */
  readonly managementDeployRoleArn: string | undefined;
  /** Default target OU (`ou-...` or `r-...`) for vend requests that name none. */
  readonly defaultOuId: string | undefined;
  /** Retention of the AVM's log groups in days (default 90). */
  readonly logRetentionDays: number;
  /** Maximum CreateAccount requests in flight, 1..5 (default 5). */
  readonly maxConcurrentCreates: number;
  /** Pulumi Cloud webhook HMAC secret, when configured. */
  readonly webhookSecret: pulumi.Output<string> | undefined;
  /** Pulumi Cloud organization that owns the account stacks, when Pulumi Deployments are used. */
  readonly pulumiOrganization: string | undefined;
  /** Pulumi access token for Pulumi Deployments, when configured. */
  readonly pulumiAccessToken: pulumi.Output<string> | undefined;
  /** HTTPS clone URL of this repository, the source Pulumi Deployments runs account stacks from. */
  readonly pulumiRepoUrl: string | undefined;
  /** Branch of `pulumiRepoUrl` (the worker's default `main` when unset). */
  readonly pulumiRepoBranch: string | undefined;
  /** Directory of `Pulumi.yaml` inside the repository (the root when unset). */
  readonly pulumiRepoDir: string | undefined;
  /** Whether to create (and attach) meshStack's least-privilege principal policy (default `none`). */
  readonly meshfedServicePolicy: MeshfedServicePolicyMode;
  /**
   * What `AVMEntryPoint` accepts beyond the meshStack hook (`entryPointVending`, `entryPointAdoption`,
   * `entryPointTargetOus`); all off by default.
   */
  readonly entryPointAuthority: EntryPointAuthority;
  /**
   * OU or root ids the guardrail SCPs are deployed to (through the management provider); empty: none deployed
   * (the default).
   */
  readonly guardrailTargets: readonly string[];
  /**
   * Pulumi Deployments gets its AWS credentials through OIDC (`deploymentsOidc`, default off): the platform stack
   * creates the OIDC provider (unless `providerArn` names an existing one) and the deploy role in the management
   * account; undefined when off.
   */
  readonly deploymentsOidc: { readonly providerArn: string | undefined } | undefined;
}

/** The validated configuration of either stack kind; discriminated by `kind`. */
export type AvmConfig = AccountStackConfig | PlatformStackConfig;

/** Input of `parseConfig`: the stack name and the raw values as Pulumi stores them. */
export interface ConfigInput {
  /** The Pulumi stack name (decides the kind together with `stackKind`). */
  readonly stackName: string;
  /** Value of `aws:region`. */
  readonly region?: string | undefined;
  /**
   * Values by key without namespace. Strings as Pulumi stores them; numbers may be numbers or decimal strings;
   * `alternateContacts` and `tags` may be objects or JSON strings. Missing keys are `undefined` or absent.
   */
  readonly values: Readonly<Partial<Record<ConfigKey, unknown>>>;
}
