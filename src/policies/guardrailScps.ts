/**
 * The guardrail service control policies: deployed by the platform stack when `guardrailTargets` names OUs or the
 * root (`GuardrailPolicies`), shown in docs/security.md, and proven with iam-simulate by `test/security/scp.spec.ts`.
 */
import type { PolicyDocument } from "./document";

/** Inputs of {@link suggestedScps}. */
export interface ScpNames {
  /** Name of the meshStack access role (default `MeshstackAccountAccessRole`). */
  readonly accessRoleName: string;
  /** Name of meshStack's SAML provider (default `meshstack-saml-idp`). */
  readonly samlProviderName: string;
  /** The bootstrap role the account stacks deploy through (default `OrganizationAccountAccessRole`). */
  readonly bootstrapRoleName: string;
  /** 12-digit id of the automation account hosting `AVMEntryPoint`. */
  readonly automationAccountId: string;
}

/** IAM actions that change a role or its permissions. */
export const ROLE_CHANGING_ACTIONS = [
  "iam:AttachRolePolicy",
  "iam:DeleteRole",
  "iam:DeleteRolePermissionsBoundary",
  "iam:DeleteRolePolicy",
  "iam:DetachRolePolicy",
  "iam:PutRolePermissionsBoundary",
  "iam:PutRolePolicy",
  "iam:TagRole",
  "iam:UntagRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:UpdateRole",
  "iam:UpdateRoleDescription",
] as const;

/** IAM actions that create, change or delete a SAML provider. */
export const SAML_PROVIDER_CHANGING_ACTIONS = [
  "iam:CreateSAMLProvider",
  "iam:DeleteSAMLProvider",
  "iam:TagSAMLProvider",
  "iam:UntagSAMLProvider",
  "iam:UpdateSAMLProvider",
] as const;

/**
 * The three suggested SCPs:
 * 1. only the bootstrap role (the account stack's deployer) may change the access role;
 * 2. only the access role (meshStack) and the bootstrap role may create, change or delete meshStack's SAML provider;
 * 3. in member accounts only the access role may invoke `AVMEntryPoint` (its resource policy admits the whole
 *    organization).
 */
export function suggestedScps(n: ScpNames): { name: string; document: PolicyDocument }[] {
  const bootstrap = `arn:*:iam::*:role/${n.bootstrapRoleName}`;
  const access = `arn:*:iam::*:role/${n.accessRoleName}`;
  return [
    {
      name: "ProtectMeshstackAccessRole",
      document: {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "ProtectMeshstackAccessRole",
            Effect: "Deny",
            Action: [...ROLE_CHANGING_ACTIONS],
            Resource: `arn:*:iam::*:role/${n.accessRoleName}`,
            Condition: { ArnNotLike: { "aws:PrincipalArn": bootstrap } },
          },
        ],
      },
    },
    {
      name: "ProtectMeshstackSamlProvider",
      document: {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "ProtectMeshstackSamlProvider",
            Effect: "Deny",
            Action: [...SAML_PROVIDER_CHANGING_ACTIONS],
            Resource: `arn:*:iam::*:saml-provider/${n.samlProviderName}`,
            Condition: { ArnNotLike: { "aws:PrincipalArn": [access, bootstrap] } },
          },
        ],
      },
    },
    {
      name: "OnlyMeshstackInvokesAvmEntryPoint",
      document: {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "OnlyMeshstackInvokesAvmEntryPoint",
            Effect: "Deny",
            Action: "lambda:InvokeFunction",
            Resource: `arn:*:lambda:*:${n.automationAccountId}:function:AVMEntryPoint*`,
            Condition: { ArnNotLike: { "aws:PrincipalArn": access } },
          },
        ],
      },
    },
  ];
}
