/**
 * The corrected meshStack Access Stack: trust and permission policies of the access role in a managed account.
 * See docs/security.md ("Who can assume or invoke what") for who assumes it and why each statement is there.
 */
import { DEFAULT_MESHFED_SERVICE_USER, ENTRY_POINT_FUNCTION_NAME } from "../shared/naming";
import { type PolicyDocument, policyDocument } from "./document";

/** Inputs of {@link accessRoleTrustPolicy}. */
export interface AccessRoleTrustArgs {
  /** AWS partition (`aws`, `aws-cn`, `aws-us-gov`, ...). */
  readonly partition: string;
  /** 12-digit id of the management account (home of the default meshfed-service user). */
  readonly managementAccountId: string;
  /** Trusted principal; default `arn:<partition>:iam::<managementAccountId>:user/meshfed-service`. */
  readonly principalArn?: string | undefined;
  /** When set, the trust requires `sts:ExternalId` to equal it. */
  readonly externalId?: string | undefined;
}

/** Inputs of {@link accessRolePermissionsPolicy}. */
export interface AccessRolePermissionsArgs {
  readonly partition: string;
  /** 12-digit id of the managed account the role lives in (scopes the SAML provider ARN). */
  readonly accountId: string;
  /** Region of the `AVMEntryPoint` Lambda. */
  readonly region: string;
  /** 12-digit id of the automation account hosting `AVMEntryPoint`. */
  readonly automationAccountId: string;
  /** Name of meshStack's SAML provider in the managed account (default `meshstack-saml-idp`). */
  readonly samlProviderName: string;
}

/** The default meshStack service principal: `arn:<partition>:iam::<managementAccountId>:user/meshfed-service`. */
export function defaultMeshfedServicePrincipalArn(partition: string, managementAccountId: string): string {
  return `arn:${partition}:iam::${managementAccountId}:user/${DEFAULT_MESHFED_SERVICE_USER}`;
}

/** Trust policy of the access role: only meshStack's service principal may assume it (optionally with an external id). */
export function accessRoleTrustPolicy(args: AccessRoleTrustArgs): PolicyDocument {
  const principal = args.principalArn ?? defaultMeshfedServicePrincipalArn(args.partition, args.managementAccountId);
  return policyDocument({
    Sid: "TrustMeshfedService",
    Effect: "Allow",
    Principal: { AWS: principal },
    Action: "sts:AssumeRole",
    ...(args.externalId === undefined ? {} : { Condition: { StringEquals: { "sts:ExternalId": args.externalId } } }),
  });
}

/**
 * Permission policy of the access role: the six actions meshStack needs, nothing that reaches workloads.
 * The tutorial's misspelled `iam:ListSAMProviders` / `iam:UpdateSAMProvider` are corrected to the SAML actions.
 */
export function accessRolePermissionsPolicy(args: AccessRolePermissionsArgs): PolicyDocument {
  const { partition, accountId, region, automationAccountId, samlProviderName } = args;
  return policyDocument(
    {
      Sid: "ReadRolesAndSamlProviders",
      Effect: "Allow",
      Action: ["iam:GetRole", "iam:ListRoles", "iam:ListSAMLProviders", "iam:GetSAMLProvider"],
      Resource: "*",
    },
    {
      Sid: "UpdateMeshstackSamlProvider",
      Effect: "Allow",
      Action: "iam:UpdateSAMLProvider",
      Resource: `arn:${partition}:iam::${accountId}:saml-provider/${samlProviderName}`,
    },
    {
      Sid: "InvokeAvmEntryPoint",
      Effect: "Allow",
      Action: "lambda:InvokeFunction",
      Resource: `arn:${partition}:lambda:${region}:${automationAccountId}:function:${ENTRY_POINT_FUNCTION_NAME}`,
    },
  );
}
