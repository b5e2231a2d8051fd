/**
 * Defers the packages `@pulumi/pulumi` loads at start-up for closure serialisation only, in the planner child.
 * `runtime/closure/codePaths.js` loads `@npmcli/arborist` (with pacote, sigstore, ...) and
 * `runtime/closure/parseFunction.js` loads TypeScript (a 9 MB file) to serialise function closures, e.g.
 * `aws.lambda.CallbackFunction`; the account and platform programs serialise none, and the two were about half of
 * `@pulumi/pulumi`'s load time. This module, imported before anything loads `@pulumi/pulumi`, hands those two
 * importers stand-ins that load the real package on first use, so nothing changes if a program ever does serialise a
 * closure. Planner children only: nothing else installs it.
 */
import Module from "node:module";
import path from "node:path";

type Load = (request: string, parent: NodeJS.Module | undefined, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load };
const load = loader._load;

/** Importer file (under `@pulumi/pulumi/runtime/closure/`) and the request it makes, deferred. */
const DEFERRED: ReadonlyMap<string, string> = new Map([
  [`${path.sep}closure${path.sep}codePaths.js`, "@npmcli/arborist"],
  [`${path.sep}closure${path.sep}parseFunction.js`, "../../typescript-shim"],
]);

/** A stand-in for the module `request` of `parent`: every property access loads the real module first. */
function deferred(parent: NodeJS.Module, request: string): object {
  let real: Record<PropertyKey, unknown> | undefined;
  // Through the original loader, as `parent` would have: not through the hook again.
  const get = (): Record<PropertyKey, unknown> =>
    (real ??= load.call(loader, request, parent, false) as Record<PropertyKey, unknown>);
  // `__esModule` makes TypeScript's import helper use the stand-in as it is instead of copying its properties.
  return new Proxy(
    {},
    {
      get: (_, key) => (key === "__esModule" ? true : get()[key]),
      has: (_, key) => key in get(),
      ownKeys: () => Reflect.ownKeys(get()),
      getOwnPropertyDescriptor: (_, key) => {
        const descriptor = Reflect.getOwnPropertyDescriptor(get(), key);
        return descriptor && { ...descriptor, configurable: true };
      },
    },
  );
}

loader._load = function (this: unknown, request, parent, isMain) {
  const from = parent?.filename;
  if (parent !== undefined && from !== undefined) {
    for (const [importer, deferredRequest] of DEFERRED) {
      if (request === deferredRequest && from.endsWith(importer)) return deferred(parent, request);
    }
  }
  return load.call(this, request, parent, isMain);
};
