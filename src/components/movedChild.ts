import type * as pulumi from "@pulumi/pulumi";

/**
 * Options of a child that moved from the AccountVendingMachine into one of its sub-components: `parent` is the
 * sub-component, and the alias says the child used to sit directly under the sub-component's own parent (the AVM),
 * so an existing platform stack updates in place instead of replacing (the child keeps its name).
 * @param component the sub-component
 * @param opts the options the sub-component was created with
 */
export function movedChild(
  component: pulumi.ComponentResource,
  opts: pulumi.ComponentResourceOptions | undefined,
): pulumi.CustomResourceOptions {
  return { parent: component, ...(opts?.parent ? { aliases: [{ parent: opts.parent }] } : {}) };
}

/**
 * Options of a child with a fixed physical name (queues, functions, log groups, the alarm, secrets): a
 * replacement deletes the old resource before creating the new one, which would otherwise collide with it by name.
 * The ledger table is the exception: it has deletion protection, so a replacement fails instead of losing records.
 * Renaming a child in code is not a replacement only with an alias (`aliases: [{ name: "<old name>" }]`).
 */
export const FIXED_NAME_OPTIONS = Object.freeze({ deleteBeforeReplace: true });
