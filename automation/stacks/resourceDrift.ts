/**
 * Turns the engine events of a refresh preview (`pulumi refresh --preview-only`) into a per-resource drift summary:
 * which resources the cloud no longer matches the stack's state for, how (updated out of band, deleted) and which
 * properties changed, e.g. `policyNames` of `RolePoliciesExclusive` when someone attached an extra inline policy to
 * the access role.
 */
import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation";

/** One resource whose real state differs from the stack's state. */
export interface ResourceDrift {
  readonly urn: string;
  /** Resource type token, e.g. `aws:iam/role:Role`. */
  readonly type: string;
  /** Logical name (the URN's last segment). */
  readonly name: string;
  /** `update` (changed out of band) or `delete` (gone). */
  readonly change: "update" | "delete";
  /** Top-level properties that differ (empty when the engine did not say). */
  readonly properties: readonly string[];
}

function changedKeys(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): string[] {
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...keys].filter((k) => JSON.stringify(a?.[k]) !== JSON.stringify(b?.[k])).sort();
}

function driftOf(meta: StepEventMetadata): ResourceDrift | undefined {
  if (meta.type.startsWith("pulumi:providers:") || meta.type === "pulumi:pulumi:Stack") return undefined;
  const name = meta.urn.split("::").pop() ?? meta.urn;
  if (meta.op === "delete" || (meta.op === "refresh" && meta.old !== undefined && meta.new === undefined)) {
    return { urn: meta.urn, type: meta.type, name, change: "delete", properties: [] };
  }
  if (meta.op === "same" || meta.op === "read" || meta.op === "create") return undefined;
  const fromEngine = meta.diffs ?? Object.keys(meta.detailedDiff ?? {});
  const properties =
    fromEngine.length > 0
      ? [...new Set(fromEngine.map((p) => p.split(/[.[]/)[0] as string))].sort()
      : changedKeys(meta.old?.outputs, meta.new?.outputs);
  if (properties.length === 0) return undefined;
  return { urn: meta.urn, type: meta.type, name, change: "update", properties };
}

/** The drifted resources of a refresh preview's events, one per URN, sorted by URN. */
export function driftedResources(events: readonly EngineEvent[]): ResourceDrift[] {
  const byUrn = new Map<string, ResourceDrift>();
  for (const event of events) {
    const meta = event.resOutputsEvent?.metadata ?? event.resourcePreEvent?.metadata;
    if (!meta) continue;
    const drift = driftOf(meta);
    if (drift) byUrn.set(drift.urn, drift);
  }
  return [...byUrn.values()].sort((a, b) => a.urn.localeCompare(b.urn));
}
