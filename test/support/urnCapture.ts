/**
 * URNs of a component's children as the Pulumi engine computes them (`urn:pulumi:<stack>::<project>::<qualified
 * type>::<name>`, the qualified type being the whole chain of parent types joined by `$`), and the URNs their
 * `aliases` stand for. Used to prove that a refactoring which moves children under new components keeps every old
 * URN reachable, so an existing stack updates in place instead of replacing.
 *
 * Captured with a `transformations` resource option (it sees every child's type, name, parent and aliases).
 */
import * as pulumi from "@pulumi/pulumi";

interface Captured {
  readonly type: string;
  readonly name: string;
  readonly parent: pulumi.Resource | undefined;
  readonly aliases: readonly (pulumi.Input<pulumi.URN | pulumi.Alias> | undefined)[];
}

/** One resource: its URN and the URNs of its aliases. */
export interface UrnEntry {
  readonly urn: string;
  readonly aliases: readonly string[];
}

/** Records the children of the component it is passed to (as `transformations: [capture.transformation]`). */
export class UrnCapture {
  private readonly byResource = new Map<pulumi.Resource, Captured>();
  private readonly order: Captured[] = [];

  /**
   * @param stack stack name of the URNs
   * @param project project name of the URNs
   */
  constructor(
    private readonly stack: string,
    private readonly project: string,
  ) {}

  /** The transformation to pass in the root component's `transformations` option. */
  readonly transformation: pulumi.ResourceTransformation = (args) => {
    const captured: Captured = {
      type: args.type,
      name: args.name,
      parent: args.opts.parent,
      aliases: (args.opts.aliases ?? []) as Captured["aliases"],
    };
    this.byResource.set(args.resource, captured);
    this.order.push(captured);
    return undefined;
  };

  /**
   * Every (qualified type, name) the resource answers to: first its own; then those its parent's aliases give it
   * (Pulumi derives a child's aliases from its parent's) and its own aliases.
   */
  private variants(c: Captured): { qtype: string; name: string }[] {
    const under = (parent: pulumi.Resource | undefined, type: string, name: string) => {
      const parentEntry = parent === undefined ? undefined : this.byResource.get(parent);
      return parentEntry === undefined
        ? [{ qtype: type, name }]
        : this.variants(parentEntry).map((v) => ({ qtype: `${v.qtype}$${type}`, name }));
    };
    const own = under(c.parent, c.type, c.name);
    const aliased = c.aliases.flatMap((alias) => {
      if (alias === undefined || typeof alias !== "object" || pulumi.Output.isInstance(alias)) {
        throw new Error(`unsupported alias on ${c.type} ${c.name}: ${String(alias)}`);
      }
      const spec = alias as pulumi.Alias;
      if (spec.parent !== undefined && !pulumi.Resource.isInstance(spec.parent)) {
        throw new Error(`unsupported alias parent on ${c.type} ${c.name} (only Resource objects are resolved)`);
      }
      return under(
        (spec.parent as pulumi.Resource | undefined) ?? c.parent,
        (spec.type as string | undefined) ?? c.type,
        (spec.name as string | undefined) ?? c.name,
      );
    });
    return [...own, ...aliased];
  }

  /**
   * Every recorded resource with its URN and the URNs it also answers to (aliases, its own or inherited from its
   * parent), in registration order.
   * @throws Error for an alias this helper cannot resolve (a plain URN string or an `Output`), so none is ignored.
   */
  entries(): UrnEntry[] {
    const urn = (v: { qtype: string; name: string }) =>
      `urn:pulumi:${this.stack}::${this.project}::${v.qtype}::${v.name}`;
    return this.order.map((c) => {
      const [primary, ...others] = this.variants(c).map(urn);
      return { urn: primary as string, aliases: [...new Set(others)].filter((u) => u !== primary) };
    });
  }
}
