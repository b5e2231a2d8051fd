/**
 * The role graph of the chain proof (`roleChains.spec.ts`): every principal and role the product defines or relies
 * on, with the policies the product writes, and a chain enumerator over it that decides every step and every
 * workload action with `@cloud-copilot/iam-simulate` (AGPL-3.0: tests only).
 *
 * - A **node** is a principal that can call AWS: a start principal (meshfed-service, an account admin) or a session
 *   of a role (`arn:<p>:sts::<account>:assumed-role/<role>/chain`).
 * - An **edge** `a -> R` exists when iam-simulate allows `sts:AssumeRole` on role `R` for `a`: `a`'s identity
 *   policies, its permissions boundary and the SCPs of `a`'s account (the management account is never bound by
 *   SCPs) on one side, `R`'s trust policy on the other. Every caller presents the organization's context
 *   (`aws:PrincipalOrgID`, `aws:ResourceOrgID`) and the external id (the worst case: the id is no secret to it).
 * - A **chain** is a path from a start without repeating a node; every prefix is a chain of its own.
 * - A chain **reaches** a workload action when its last node's identity side (identity policies, boundary, SCPs)
 *   allows the action on a workload resource of a workload account, evaluated as if the resource's own policy
 *   admitted the caller (for a node of that account this is exact; for any other node it is the worst case).
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { PolicyDocument } from "../../src/policies/document";
import type { Decision } from "./iamProof";

/** A principal that can call AWS. */
export interface PrincipalNode {
  /** Display id, e.g. `MeshstackAccountAccessRole@member-a`. */
  readonly id: string;
  /** ARN the principal calls AWS with (a user ARN or a role session ARN). */
  readonly arn: string;
  readonly account: string;
  readonly identityPolicies: readonly PolicyDocument[];
  /** Permissions boundary, when one is set. */
  readonly boundary?: PolicyDocument | undefined;
}

/** A role of the graph: a node once assumed. */
export interface RoleNode extends PrincipalNode {
  /** The role's ARN (what `sts:AssumeRole` names). */
  readonly roleArn: string;
  readonly trust: PolicyDocument;
}

/** The whole graph. */
export interface RoleGraph {
  readonly partition: string;
  readonly organizationId: string;
  /** The external id the access role's trust requires, when configured. */
  readonly externalId?: string | undefined;
  /** Accounts whose workloads the proof protects (the managed accounts and the automation account), by id, with display names. */
  readonly workloadAccounts: Readonly<Record<string, string>>;
  /** SCPs the product deploys, by account id (root first); none where the product deploys none. */
  readonly scps: Readonly<Record<string, readonly PolicyDocument[]>>;
  readonly roles: readonly RoleNode[];
}

/** One workload action on a resource template of a workload account. */
export interface WorkloadAction {
  readonly action: string;
  /** The resource's ARN in `account`. */
  readonly resource: (account: string) => string;
  /** Resource policy needed for same-account evaluation (a KMS key policy delegating to IAM). */
  readonly resourcePolicy?: (account: string) => PolicyDocument;
}

/** A chain of node ids from a start. */
export type Chain = readonly string[];

/** A workload action a chain reaches. */
export interface Reach {
  readonly chain: Chain;
  readonly account: string;
  readonly action: string;
  readonly resource: string;
}

/** Counters of one enumeration. */
export interface ProofStats {
  /** `sts:AssumeRole` steps evaluated. */
  steps: number;
  /** Workload actions evaluated (chain ends x workload accounts x actions). */
  workloadChecks: number;
}

const FULL_AWS_ACCESS: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

/**
 * One request by `caller` (identity policies, boundary, the SCPs of its account, the organization's context) on a
 * resource of `resourceAccount`, with the resource's policy when given.
 */
export async function requestDecision(
  graph: RoleGraph,
  caller: PrincipalNode,
  action: string,
  resource: string,
  resourceAccount: string,
  resourcePolicy: PolicyDocument | undefined,
): Promise<Decision> {
  const scps = graph.scps[caller.account] ?? [];
  const result = await runSimulation(
    {
      request: {
        principal: caller.arn,
        action,
        resource: { resource, accountId: resourceAccount },
        contextVariables: {
          "aws:PrincipalOrgID": graph.organizationId,
          "aws:ResourceOrgID": graph.organizationId,
          ...(graph.externalId === undefined ? {} : { "sts:ExternalId": graph.externalId }),
        },
      },
      identityPolicies: caller.identityPolicies.map((policy, i) => ({ name: `id-${i}`, policy })),
      ...(caller.boundary === undefined
        ? {}
        : { permissionBoundaryPolicies: [{ name: "boundary", policy: caller.boundary }] }),
      serviceControlPolicies:
        scps.length === 0
          ? []
          : [
              {
                orgIdentifier: "r-root",
                policies: [
                  { name: "FullAWSAccess", policy: FULL_AWS_ACCESS },
                  ...scps.map((policy, i) => ({ name: `scp-${i}`, policy })),
                ],
              },
            ],
      resourceControlPolicies: [],
      ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
    },
    {},
  );
  if (result.resultType === "error") {
    throw new Error(
      `simulation of ${action} on ${resource} by ${caller.id} could not run: ${JSON.stringify(result.errors)}`,
    );
  }
  return result.overallResult as Decision;
}

/** Whether `caller` may assume `role` (identity side, boundary, SCPs and the role's trust policy). */
export function assumeDecision(graph: RoleGraph, caller: PrincipalNode, role: RoleNode): Promise<Decision> {
  return requestDecision(graph, caller, "sts:AssumeRole", role.roleArn, role.account, role.trust);
}

/** Enumerates every chain from `start` (depth-first, no node twice), deciding each step once per pair. */
export async function chainsFrom(graph: RoleGraph, start: PrincipalNode, stats?: ProofStats): Promise<Chain[]> {
  const edges = new Map<string, RoleNode[]>();
  const next = async (node: PrincipalNode): Promise<RoleNode[]> => {
    const known = edges.get(node.id);
    if (known) return known;
    const reachable: RoleNode[] = [];
    for (const role of graph.roles) {
      if (role.id === node.id) continue;
      if (stats) stats.steps += 1;
      if ((await assumeDecision(graph, node, role)) === "Allowed") reachable.push(role);
    }
    edges.set(node.id, reachable);
    return reachable;
  };
  const chains: Chain[] = [];
  const walk = async (node: PrincipalNode, path: string[]): Promise<void> => {
    chains.push(path);
    for (const role of await next(node)) {
      if (!path.includes(role.id)) await walk(role, [...path, role.id]);
    }
  };
  await walk(start, [start.id]);
  return chains;
}

/** The node a chain ends in. */
export function endOf(graph: RoleGraph, start: PrincipalNode, chain: Chain): PrincipalNode {
  const last = chain[chain.length - 1];
  if (last === start.id) return start;
  const role = graph.roles.find((r) => r.id === last);
  if (role === undefined) throw new Error(`chain ends in an unknown node ${String(last)}`);
  return role;
}

/**
 * Every workload action (of `actions`, on resources of every workload account) that a chain reaches; each chain end
 * is evaluated once.
 */
export async function workloadReach(
  graph: RoleGraph,
  start: PrincipalNode,
  chains: readonly Chain[],
  actions: readonly WorkloadAction[],
  stats?: ProofStats,
): Promise<Reach[]> {
  const reaches: Reach[] = [];
  const byEnd = new Map<string, Reach[]>();
  for (const chain of chains) {
    const end = endOf(graph, start, chain);
    let found = byEnd.get(end.id);
    if (found === undefined) {
      found = [];
      for (const account of Object.keys(graph.workloadAccounts)) {
        for (const workload of actions) {
          if (stats) stats.workloadChecks += 1;
          const resource = workload.resource(account);
          // Identity side: evaluated in the caller's own account, as if the resource admitted the caller.
          const decision = await requestDecision(
            graph,
            end,
            workload.action,
            resource,
            end.account,
            workload.resourcePolicy?.(end.account),
          );
          if (decision === "Allowed") found.push({ chain, account, action: workload.action, resource });
        }
      }
      byEnd.set(end.id, found);
    }
    reaches.push(...found.map((r) => ({ ...r, chain })));
  }
  return reaches;
}

/** `a -> b -> c` */
export function formatChain(chain: Chain): string {
  return chain.join(" -> ");
}

/** A copy of `graph` with `roleId`'s trust policy replaced (the scratch copy of the widening test). */
export function withTrust(graph: RoleGraph, roleId: string, trust: PolicyDocument): RoleGraph {
  if (!graph.roles.some((r) => r.id === roleId)) throw new Error(`no role ${roleId} in the graph`);
  return { ...graph, roles: graph.roles.map((r) => (r.id === roleId ? { ...r, trust } : r)) };
}
