import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { suggestedScps, type ScpNames } from "../policies/guardrailScps";

/** Arguments of {@link GuardrailPolicies}. */
export interface GuardrailPoliciesArgs extends ScpNames {
  /** OU ids (`ou-...`) or root ids (`r-...`) the policies are attached to; at least one. */
  readonly targets: readonly string[];
}

/**
 * The guardrail service control policies in the **management account** (deploy it with the management provider):
 * `ProtectMeshstackAccessRole`, `ProtectMeshstackSamlProvider` and `OnlyMeshstackInvokesAvmEntryPoint`, each an
 * `aws.organizations.Policy` of type `SERVICE_CONTROL_POLICY` attached to every target. They protect the access role
 * and meshStack's SAML provider from member-account admins, and let only the access role invoke `AVMEntryPoint`
 * (whose resource policy admits the whole organization). SCPs never bind the management account itself.
 *
 * Children: `<name>-<policy name>` (policy, replaced delete-first: the name is fixed) and
 * `<name>-<policy name>-<target>` (attachment).
 */
export class GuardrailPolicies extends pulumi.ComponentResource {
  /** Pulumi type token. */
  static readonly TYPE = "avm:guardrails:GuardrailPolicies";
  /** Ids of the policies, by policy name. */
  readonly policyIds: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: GuardrailPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    super(GuardrailPolicies.TYPE, name, {}, opts);
    if (args.targets.length === 0) throw new Error("targets must name at least one OU or root");
    for (const scp of suggestedScps(args)) {
      const policy = new aws.organizations.Policy(
        `${name}-${scp.name}`,
        {
          name: scp.name,
          type: "SERVICE_CONTROL_POLICY",
          description: `meshStack AVM guardrail: ${scp.name}`,
          content: JSON.stringify(scp.document),
        },
        { parent: this, deleteBeforeReplace: true },
      );
      for (const target of args.targets) {
        new aws.organizations.PolicyAttachment(
          `${name}-${scp.name}-${target}`,
          { policyId: policy.id, targetId: target },
          { parent: this },
        );
      }
      this.policyIds[scp.name] = policy.id;
    }
    this.registerOutputs({ policyIds: this.policyIds });
  }
}
